export interface Quotas {
    /** Nodes a domain may own (ENOSPC). */
    nodes: number;
    /** Watches per domain (E2BIG). */
    watches: number;
    /** Open transactions per connection (ENOSPC). */
    transactions: number;
    /** Replies and watch events a connection may leave unread before it is dropped. */
    outstanding: number;
    /** Nodes one transaction may touch (ENOSPC). */
    transactionNodes: number;
    /** Bytes of value plus child names per node (ENOSPC). */
    nodeSize: number;
    /** Bytes of a path below /local/domain/<domid>/ (EINVAL). */
    pathMax: number;
    /** Entries in a node's permission list (ENOSPC). */
    permissions: number;
}
export declare const DEFAULT_QUOTAS: Readonly<Quotas>;
/** CONTROL names and descriptions, in cxenstored's order. */
export declare const QUOTA_INFO: ReadonlyArray<{
    key: keyof Quotas;
    name: string;
    descr: string;
}>;
export declare function resolveQuotas(partial: Partial<Quotas> | undefined): Quotas;
