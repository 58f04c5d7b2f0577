// What a request sees of the store: the live tree, or a transaction's snapshot with its own
// changes on top. Node operations are written once against View; the live view applies each
// change and fires its watches at once, a transaction collects both until it commits.
import { XenError } from '../../errors.js';
import { Perms } from './perms.js';
import { Children, Node, type Store } from './store.js';

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
const REMOVED = new Node('', Perms.owned(0), Children.EMPTY, true);

/**
 * A transaction: reads come from the store as of its start (snapshot isolation) or from its
 * own writes; commit succeeds only if nothing it read or wrote changed since (else EAGAIN).
 */
export class Transaction implements View {
  readonly snap: number;
  /** Paths read or written, checked at commit. */
  readonly #accessed = new Set<string>();
  /** Final state of each path written (REMOVED for deletions), in first-write order. */
  readonly #writes = new Map<string, Node>();
  readonly #changes = new Map<string, Change>();
  /** Change of each domain's node count, for the quota. */
  readonly #owned = new Map<number, number>();
  #ended = false;

  constructor(
    readonly id: number,
    private readonly store: Store,
    /** Most paths it may touch (the transaction-nodes quota), or Infinity. */
    private readonly maxAccessed: number,
  ) {
    this.snap = store.openSnapshot();
  }

  get(path: string): Node | undefined {
    const w = this.#writes.get(path);
    if (w !== undefined) return w.dead ? undefined : w;
    if (!this.#accessed.has(path)) {
      if (this.#accessed.size >= this.maxAccessed) {
        throw new XenError('ENOSPC', `transaction ${this.id} touches more than ${this.maxAccessed} nodes`);
      }
      this.#accessed.add(path);
    }
    return this.store.getAt(path, this.snap);
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
    // One event per path, in first-change order; a change that fires more watches wins.
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
   * Apply the writes to the store if nothing this transaction touched changed since its
   * snapshot; returns the watch events to fire. Throws EAGAIN on a conflict.
   */
  commit(): Change[] {
    for (const path of this.#accessed) {
      if (this.store.changedSince(path, this.snap)) {
        throw new XenError('EAGAIN', `transaction ${this.id} conflicts with a change to ${path}`);
      }
    }
    // No version this snapshot pinned is needed any more: release it before writing, so the
    // store keeps no history on our account.
    this.end();
    for (const [path, node] of this.#writes) {
      if (node.dead) this.store.delete(path);
      else this.store.set(path, node);
    }
    return [...this.#changes.values()].map((c) => {
      // Watchers check the node as committed; a removed one as it was before removal.
      const final = this.#writes.get(c.path);
      return final === undefined || final.dead || final === c.node ? c : { ...c, node: final };
    });
  }

  /** Release the snapshot (after commit, abort, or when the connection goes). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.store.closeSnapshot(this.snap);
  }

  #count(domid: number, delta: number): void {
    this.#owned.set(domid, (this.#owned.get(domid) ?? 0) + delta);
  }
}
