// What a request sees of the store: the live tree, or a transaction's view (each node as it
// first read it) with its own changes on top. Node operations are written once against View;
// the live view applies each change and fires its watches at once, a transaction collects both
// until it commits.
import { XenError } from '../../errors.js';
import { Perms } from './perms.js';
import { Node, type Store } from './store.js';

/** One watch event's worth of change (cxenstored fire_watches arguments). */
export interface Change {
  readonly path: string;
  /** Only watches on exactly `path` fire (a node removed below the path an RM named). */
  readonly exact: boolean;
  /** The node as changed (or as it was just before removal): watchers need read access to it or its parent. */
  readonly node: Node;
  /** Permissions before a SET_PERMS: a watcher that loses access still hears of the change. */
  readonly oldPerms: Perms | undefined;
}

export interface View {
  get(path: string): Node | undefined;
  set(path: string, node: Node): void;
  delete(path: string): void;
  changed(change: Change): void;
  /** Nodes owned by `domid`, for the node quota. */
  ownedBy(domid: number): number;
}

export class LiveView implements View {
  constructor(readonly store: Store, private readonly fire: (c: Change) => void) {}

  get(path: string): Node | undefined {
    return this.store.get(path);
  }

  set(path: string, node: Node): void {
    this.store.set(path, node);
  }

  delete(path: string): void {
    this.store.delete(path);
  }

  changed(change: Change): void {
    this.fire(change);
  }

  ownedBy(domid: number): number {
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
export class Transaction implements View {
  /** Each path accessed, in first-access order, with the node the store had then. */
  readonly #first = new Map<string, Node | undefined>();
  /** Final state of each path written (REMOVED for deletions). */
  readonly #writes = new Map<string, Node>();
  readonly #changes = new Map<string, Change>();
  /** Change of each domain's node count, for the quota. */
  readonly #owned = new Map<number, number>();

  constructor(
    readonly id: number,
    private readonly store: Store,
    /** Most paths it may touch (the transaction-nodes quota), or Infinity. */
    private readonly maxAccessed: number,
  ) {}

  get(path: string): Node | undefined {
    const w = this.#writes.get(path);
    if (w !== undefined) return w === REMOVED ? undefined : w;
    if (this.#first.has(path)) return this.#first.get(path);
    if (this.#first.size >= this.maxAccessed) {
      throw new XenError('ENOSPC', `transaction ${this.id} touches more than ${this.maxAccessed} nodes`);
    }
    const n = this.store.get(path);
    this.#first.set(path, n);
    return n;
  }

  set(path: string, node: Node): void {
    const old = this.get(path);
    if (old !== undefined) this.#count(old.perms.owner, -1);
    this.#count(node.perms.owner, 1);
    this.#writes.set(path, node);
  }

  delete(path: string): void {
    const old = this.get(path);
    if (old === undefined) return;
    this.#count(old.perms.owner, -1);
    this.#writes.set(path, REMOVED);
  }

  changed(change: Change): void {
    const prev = this.#changes.get(change.path);
    // One event per path; a change that fires more watches wins (cxenstored queue_watches).
    if (prev === undefined || (prev.exact && !change.exact)) {
      this.#changes.set(change.path, prev === undefined ? change : { ...change, oldPerms: prev.oldPerms });
    }
  }

  ownedBy(domid: number): number {
    return this.store.ownedBy(domid) + (this.#owned.get(domid) ?? 0);
  }

  /** Nodes the commit adds for `domid` (for the quota check at commit). */
  addedFor(domid: number): number {
    return this.#owned.get(domid) ?? 0;
  }

  /**
   * Apply the writes to the store if every node this transaction accessed is as it first saw
   * it; returns the watch events to fire. Throws EAGAIN on a conflict.
   */
  commit(): Change[] {
    for (const [path, seen] of this.#first) {
      if (this.store.get(path) !== seen) {
        throw XenError.quiet('EAGAIN', `transaction ${this.id} conflicts with a change to ${path}`);
      }
    }
    for (const [path, node] of this.#writes) {
      if (node === REMOVED) this.store.delete(path);
      else this.store.set(path, node);
    }
    // cxenstored fires in first-access order; a node that did not exist at its first access
    // and does not exist now (created and removed in here) fires nothing.
    const out: Change[] = [];
    for (const [path, seen] of this.#first) {
      const c = this.#changes.get(path);
      if (c === undefined) continue;
      const final = this.#writes.get(path);
      if (final === REMOVED || final === undefined) {
        if (seen !== undefined) out.push(c);
      } else {
        // Watchers check the node as committed.
        out.push(final === c.node ? c : { ...c, node: final });
      }
    }
    return out;
  }

  #count(domid: number, delta: number): void {
    this.#owned.set(domid, (this.#owned.get(domid) ?? 0) + delta);
  }
}
