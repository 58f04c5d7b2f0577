// The node store: a flat map from absolute path to an immutable node (value, permissions,
// insertion-ordered child names), as cxenstored keeps one record per path. Every change stamps
// the new node with the next store generation and stores a new object, so a transaction that
// keeps the node it first read can tell by identity whether the path changed since.
import { Buffer } from 'node:buffer';
/** An append-only list of child names that successive versions of one node share. */
class NameLog {
    names = [];
    index = new Map();
    static from(names) {
        const log = new NameLog();
        for (const n of names)
            log.append(n);
        return log;
    }
    append(name) {
        this.index.set(name, this.names.length);
        this.names.push(name);
    }
}
/**
 * Insertion-ordered child names (cxenstored lists DIRECTORY children in creation order). Each
 * version sees a prefix of a shared append-only log, so adding a child to the newest version
 * costs O(1) however many children there are; removing one, or adding to an older version,
 * copies. A name is listed once, except where cxenstored too would list it twice: a
 * transaction whose view of the parent lists a child that it then finds missing and creates (a
 * transaction that cannot commit; see docs/XENSTORE.md).
 */
export class Children {
    log;
    size;
    bytes;
    static EMPTY = new Children(new NameLog(), 0, 0);
    #blob;
    constructor(log, size, 
    /** Bytes of the DIRECTORY payload ("name\0" per child). */
    bytes) {
        this.log = log;
        this.size = size;
        this.bytes = bytes;
    }
    /** The names, in order. */
    get names() {
        return this.log.names.slice(0, this.size);
    }
    has(name) {
        const i = this.log.index.get(name);
        return i !== undefined && i < this.size;
    }
    static of(name) {
        return Children.EMPTY.with(name);
    }
    with(name) {
        if (this.has(name))
            return this;
        let log = this.log;
        if (this.size === 0 || this.size !== log.names.length || log.index.has(name))
            log = NameLog.from(this.names);
        log.append(name);
        return new Children(log, this.size + 1, this.bytes + name.length + 1);
    }
    /** `name` added at the end even if listed already (cxenstored add_child). */
    appended(name) {
        if (!this.has(name))
            return this.with(name);
        const log = NameLog.from(this.names);
        log.append(name);
        return new Children(log, this.size + 1, this.bytes + name.length + 1);
    }
    /** Without the first entry `name` (cxenstored delete_child). */
    without(name) {
        const i = this.names.indexOf(name);
        if (i < 0)
            return this;
        const names = this.names.filter((_, j) => j !== i);
        return new Children(NameLog.from(names), this.size - 1, this.bytes - name.length - 1);
    }
    /** "name\0name\0...": the DIRECTORY payload and the byte string DIRECTORY_PART offsets index. */
    blob() {
        if (this.#blob === undefined) {
            let s = '';
            for (let i = 0; i < this.size; i++)
                s += `${this.log.names[i]}\0`;
            this.#blob = Buffer.from(s, 'latin1');
        }
        return this.#blob;
    }
}
/** One version of one node. Immutable once stored, except its generation. */
export class Node {
    value;
    perms;
    children;
    /** Store generation at which this version was written. */
    gen = 0;
    constructor(
    /**
     * The value's bytes as a latin1 string (one char per byte): small values then live on the
     * JS heap instead of each costing an ArrayBuffer, which keeps garbage collection cheap.
     */
    value, perms, children = Children.EMPTY) {
        this.value = value;
        this.perms = perms;
        this.children = children;
    }
    withValue(value) {
        return new Node(value, this.perms, this.children);
    }
    withPerms(perms) {
        return new Node(this.value, perms, this.children);
    }
    withChildren(children) {
        return new Node(this.value, this.perms, children);
    }
    /** Record size for the node-size quota: value plus child list (cxenstored counts both). */
    get size() {
        return this.value.length + this.children.bytes;
    }
    static empty(perms) {
        return new Node('', perms);
    }
}
export class Store {
    /** Bumped by every change. */
    generation = 0;
    #nodes = new Map();
    /** Live nodes per owning domain, for the per-domain node quota. */
    #owned = new Map();
    /** Paths of live nodes whose permissions name each domain, so releasing one scans only those. */
    #naming = new Map();
    /** The current node at `path`. */
    get(path) {
        return this.#nodes.get(path);
    }
    ownedBy(domid) {
        return this.#owned.get(domid) ?? 0;
    }
    /** Paths of the live nodes whose permissions name `domid` (as owner or in the ACL). */
    naming(domid) {
        return [...(this.#naming.get(domid) ?? [])];
    }
    /** Store a new version of `path` (creating it or replacing the current one). */
    set(path, node) {
        const old = this.#nodes.get(path);
        node.gen = ++this.generation;
        this.#count(node.perms.owner, 1);
        if (old?.perms !== node.perms)
            this.#reindex(path, old?.perms, node.perms);
        if (old !== undefined)
            this.#count(old.perms.owner, -1);
        this.#nodes.set(path, node);
    }
    /** Remove the node at `path` (its children are the caller's business). */
    delete(path) {
        const old = this.#nodes.get(path);
        if (old === undefined)
            return;
        this.#count(old.perms.owner, -1);
        this.#reindex(path, old.perms, undefined);
        this.generation++;
        this.#nodes.delete(path);
    }
    /** Every node (for consistency checks; not on any request path). */
    entries() {
        return this.#nodes.entries();
    }
    #reindex(path, was, now) {
        if (was !== undefined) {
            for (const d of was.domids()) {
                const paths = this.#naming.get(d);
                if (paths !== undefined && paths.delete(path) && paths.size === 0)
                    this.#naming.delete(d);
            }
        }
        if (now !== undefined) {
            for (const d of now.domids()) {
                const paths = this.#naming.get(d);
                if (paths === undefined)
                    this.#naming.set(d, new Set([path]));
                else
                    paths.add(path);
            }
        }
    }
    #count(domid, delta) {
        const v = (this.#owned.get(domid) ?? 0) + delta;
        if (v === 0)
            this.#owned.delete(domid);
        else
            this.#owned.set(domid, v);
    }
}
//# sourceMappingURL=store.js.map