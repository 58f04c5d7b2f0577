// The node store: a flat map from absolute path to an immutable node (value, permissions,
// insertion-ordered child names), as cxenstored keeps one record per path. Every change stamps
// the new node with the next store generation and stores a new object, so a transaction that
// keeps the node it first read can tell by identity whether the path changed since.
import { Buffer } from 'node:buffer';
import type { Perms } from './perms.js';

/** An append-only list of child names that successive versions of one node share. */
class NameLog {
  readonly names: string[] = [];
  readonly index = new Map<string, number>();

  static from(names: Iterable<string>): NameLog {
    const log = new NameLog();
    for (const n of names) log.append(n);
    return log;
  }

  append(name: string): void {
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
  static readonly EMPTY = new Children(new NameLog(), 0, 0);
  #blob: Buffer | undefined;

  private constructor(
    private readonly log: NameLog,
    readonly size: number,
    /** Bytes of the DIRECTORY payload ("name\0" per child). */
    readonly bytes: number,
  ) {}

  /** The names, in order. */
  get names(): readonly string[] {
    return this.log.names.slice(0, this.size);
  }

  has(name: string): boolean {
    const i = this.log.index.get(name);
    return i !== undefined && i < this.size;
  }

  static of(name: string): Children {
    return Children.EMPTY.with(name);
  }

  with(name: string): Children {
    if (this.has(name)) return this;
    let log = this.log;
    if (this.size === 0 || this.size !== log.names.length || log.index.has(name)) log = NameLog.from(this.names);
    log.append(name);
    return new Children(log, this.size + 1, this.bytes + name.length + 1);
  }

  /** `name` added at the end even if listed already (cxenstored add_child). */
  appended(name: string): Children {
    if (!this.has(name)) return this.with(name);
    const log = NameLog.from(this.names);
    log.append(name);
    return new Children(log, this.size + 1, this.bytes + name.length + 1);
  }

  /** Without the first entry `name` (cxenstored delete_child). */
  without(name: string): Children {
    const i = this.names.indexOf(name);
    if (i < 0) return this;
    const names = this.names.filter((_, j) => j !== i);
    return new Children(NameLog.from(names), this.size - 1, this.bytes - name.length - 1);
  }

  /** Without the first `k` entries (a walk that removed them in order). */
  withoutFirst(k: number): Children {
    if (k <= 0) return this;
    const names = this.names.slice(k);
    let bytes = 0;
    for (const n of names) bytes += n.length + 1;
    return new Children(NameLog.from(names), names.length, bytes);
  }

  /** "name\0name\0...": the DIRECTORY payload and the byte string DIRECTORY_PART offsets index. */
  blob(): Buffer {
    if (this.#blob === undefined) {
      let s = '';
      for (let i = 0; i < this.size; i++) s += `${this.log.names[i]}\0`;
      this.#blob = Buffer.from(s, 'latin1');
    }
    return this.#blob;
  }
}

/** One version of one node. Immutable once stored, except its generation. */
export class Node {
  /** Store generation at which this version was written. */
  gen = 0;

  constructor(
    /**
     * The value's bytes as a latin1 string (one char per byte): small values then live on the
     * JS heap instead of each costing an ArrayBuffer, which keeps garbage collection cheap.
     */
    readonly value: string,
    readonly perms: Perms,
    readonly children: Children = Children.EMPTY,
  ) {}

  withValue(value: string): Node {
    return new Node(value, this.perms, this.children);
  }

  withPerms(perms: Perms): Node {
    return new Node(this.value, perms, this.children);
  }

  withChildren(children: Children): Node {
    return new Node(this.value, this.perms, children);
  }

  /** Record size for the node-size quota: value plus child list (cxenstored counts both). */
  get size(): number {
    return this.value.length + this.children.bytes;
  }

  static empty(perms: Perms): Node {
    return new Node('', perms);
  }
}

export class Store {
  /** Bumped by every change. */
  generation = 0;
  readonly #nodes = new Map<string, Node>();
  /** Live nodes per owning domain, for the per-domain node quota. */
  readonly #owned = new Map<number, number>();
  /** Paths of live nodes whose permissions name each domain, so releasing one scans only those. */
  readonly #naming = new Map<number, Set<string>>();

  /** The current node at `path`. */
  get(path: string): Node | undefined {
    return this.#nodes.get(path);
  }

  ownedBy(domid: number): number {
    return this.#owned.get(domid) ?? 0;
  }

  /** Paths of the live nodes whose permissions name `domid` (as owner or in the ACL). */
  naming(domid: number): string[] {
    return [...(this.#naming.get(domid) ?? [])];
  }

  /** Store a new version of `path` (creating it or replacing the current one). */
  set(path: string, node: Node): void {
    const old = this.#nodes.get(path);
    node.gen = ++this.generation;
    this.#count(node.perms.owner, 1);
    if (old?.perms !== node.perms) this.#reindex(path, old?.perms, node.perms);
    if (old !== undefined) this.#count(old.perms.owner, -1);
    this.#nodes.set(path, node);
  }

  /** Remove the node at `path` (its children are the caller's business). */
  delete(path: string): void {
    const old = this.#nodes.get(path);
    if (old === undefined) return;
    this.#count(old.perms.owner, -1);
    this.#reindex(path, old.perms, undefined);
    this.generation++;
    this.#nodes.delete(path);
  }

  /** Every node (for consistency checks; not on any request path). */
  entries(): IterableIterator<[string, Node]> {
    return this.#nodes.entries();
  }

  #reindex(path: string, was: Perms | undefined, now: Perms | undefined): void {
    if (was !== undefined) {
      for (const d of was.domids()) {
        const paths = this.#naming.get(d);
        if (paths !== undefined && paths.delete(path) && paths.size === 0) this.#naming.delete(d);
      }
    }
    if (now !== undefined) {
      for (const d of now.domids()) {
        const paths = this.#naming.get(d);
        if (paths === undefined) this.#naming.set(d, new Set([path]));
        else paths.add(path);
      }
    }
  }

  #count(domid: number, delta: number): void {
    const v = (this.#owned.get(domid) ?? 0) + delta;
    if (v === 0) this.#owned.delete(domid);
    else this.#owned.set(domid, v);
  }
}
