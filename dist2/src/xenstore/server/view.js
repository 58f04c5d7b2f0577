// What a request sees of the store: the live tree, or a transaction's view (each node as it
// first read it) with its own changes on top. Node operations are written once against View;
// the live view applies each change and fires its watches at once, a transaction collects both
// until it commits.
import { XenError } from '../../errors.js';
import { Perms } from './perms.js';
import { Node } from './store.js';
export class LiveView {
    store;
    fire;
    constructor(store, fire) {
        this.store = store;
        this.fire = fire;
    }
    get(path) {
        return this.store.get(path);
    }
    set(path, node) {
        this.store.set(path, node);
    }
    delete(path) {
        this.store.delete(path);
    }
    changed(change) {
        this.fire(change);
    }
    ownedBy(domid) {
        return this.store.ownedBy(domid);
    }
}
/** A deletion in a transaction's write set. */
const REMOVED = new Node('', Perms.owned(0));
/**
 * A transaction as cxenstored runs one: each node is read from the store at the transaction's
 * first access to it and kept (found or missing), later accesses see that copy or the
 * transaction's own writes; commit succeeds only if every node it kept is still the store's
 * (else EAGAIN), so the view may mix nodes first read at different times, as cxenstored's does.
 */
export class Transaction {
    id;
    store;
    maxAccessed;
    /** Each path accessed, in first-access order, with the node the store had then. */
    #first = new Map();
    /** Final state of each path written (REMOVED for deletions). */
    #writes = new Map();
    #changes = new Map();
    /** Change of each domain's node count, for the quota. */
    #owned = new Map();
    constructor(id, store, 
    /** Most paths it may touch (the transaction-nodes quota), or Infinity. */
    maxAccessed) {
        this.id = id;
        this.store = store;
        this.maxAccessed = maxAccessed;
    }
    get(path) {
        const w = this.#writes.get(path);
        if (w !== undefined)
            return w === REMOVED ? undefined : w;
        if (this.#first.has(path))
            return this.#first.get(path);
        if (this.#first.size >= this.maxAccessed) {
            throw new XenError('ENOSPC', `transaction ${this.id} touches more than ${this.maxAccessed} nodes`);
        }
        const n = this.store.get(path);
        this.#first.set(path, n);
        return n;
    }
    set(path, node) {
        const old = this.get(path);
        if (old !== undefined)
            this.#count(old.perms.owner, -1);
        this.#count(node.perms.owner, 1);
        this.#writes.set(path, node);
    }
    delete(path) {
        const old = this.get(path);
        if (old === undefined)
            return;
        this.#count(old.perms.owner, -1);
        this.#writes.set(path, REMOVED);
    }
    changed(change) {
        const prev = this.#changes.get(change.path);
        // One event per path; a change that fires more watches wins (cxenstored queue_watches).
        if (prev === undefined || (prev.exact && !change.exact)) {
            this.#changes.set(change.path, prev === undefined ? change : { ...change, oldPerms: prev.oldPerms });
        }
    }
    ownedBy(domid) {
        return this.store.ownedBy(domid) + (this.#owned.get(domid) ?? 0);
    }
    /** Nodes the commit adds for `domid` (for the quota check at commit). */
    addedFor(domid) {
        return this.#owned.get(domid) ?? 0;
    }
    /**
     * Apply the writes to the store if every node this transaction accessed is as it first saw
     * it; returns the watch events to fire. Throws EAGAIN on a conflict.
     */
    commit() {
        for (const [path, seen] of this.#first) {
            if (this.store.get(path) !== seen) {
                throw new XenError('EAGAIN', `transaction ${this.id} conflicts with a change to ${path}`);
            }
        }
        for (const [path, node] of this.#writes) {
            if (node === REMOVED)
                this.store.delete(path);
            else
                this.store.set(path, node);
        }
        // cxenstored fires in first-access order; a node that did not exist at its first access
        // and does not exist now (created and removed in here) fires nothing.
        const out = [];
        for (const [path, seen] of this.#first) {
            const c = this.#changes.get(path);
            if (c === undefined)
                continue;
            const final = this.#writes.get(path);
            if (final === REMOVED || final === undefined) {
                if (seen !== undefined)
                    out.push(c);
            }
            else {
                // Watchers check the node as committed.
                out.push(final === c.node ? c : { ...c, node: final });
            }
        }
        return out;
    }
    #count(domid, delta) {
        this.#owned.set(domid, (this.#owned.get(domid) ?? 0) + delta);
    }
}
//# sourceMappingURL=view.js.map