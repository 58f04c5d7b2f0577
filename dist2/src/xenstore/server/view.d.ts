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
export declare class LiveView implements View {
    readonly store: Store;
    private readonly fire;
    constructor(store: Store, fire: (c: Change) => void);
    get(path: string): Node | undefined;
    set(path: string, node: Node): void;
    delete(path: string): void;
    changed(change: Change): void;
    ownedBy(domid: number): number;
}
/**
 * A transaction as cxenstored runs one: each node is read from the store at the transaction's
 * first access to it and kept (found or missing), later accesses see that copy or the
 * transaction's own writes; commit succeeds only if every node it kept is still the store's
 * (else EAGAIN), so the view may mix nodes first read at different times, as cxenstored's does.
 */
export declare class Transaction implements View {
    #private;
    readonly id: number;
    private readonly store;
    /** Most paths it may touch (the transaction-nodes quota), or Infinity. */
    private readonly maxAccessed;
    constructor(id: number, store: Store, 
    /** Most paths it may touch (the transaction-nodes quota), or Infinity. */
    maxAccessed: number);
    get(path: string): Node | undefined;
    set(path: string, node: Node): void;
    delete(path: string): void;
    changed(change: Change): void;
    ownedBy(domid: number): number;
    /** Nodes the commit adds for `domid` (for the quota check at commit). */
    addedFor(domid: number): number;
    /**
     * Apply the writes to the store if every node this transaction accessed is as it first saw
     * it; returns the watch events to fire. Throws EAGAIN on a conflict.
     */
    commit(): Change[];
}
