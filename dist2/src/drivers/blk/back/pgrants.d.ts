import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
/** A granted page as blkback uses it: the granter's memory and the page's offset in it. */
export interface MappedPage {
    readonly mem: ArrayBufferLike;
    readonly offset: number;
}
/** Read once per mapping: `.buffer` of a typed array is a call into V8 each time. */
export declare function mappedPage(page: Uint8Array): MappedPage;
export interface PersistentGrant extends MappedPage {
    readonly gref: number;
    readonly handle: number;
    users: number;
    /** Used since the eviction hand last passed it. */
    referenced: boolean;
}
export declare class PersistentGrants {
    #private;
    readonly limit: number;
    /** Grants mapped and unmapped over the pool's life (for stats and tests). */
    maps: number;
    evictions: number;
    constructor(hc: Hypercalls, domid: number, limit: number);
    get size(): number;
    /**
     * The mapping of `gref` (writable: persistent grants are always granted read-write, blkif.h
     * note 8), or null when the pool is full of grants in use: the caller then maps for this
     * request only. Throws GrantError if the frontend did not grant it so.
     */
    acquire(gref: number): PersistentGrant | null;
    release(g: PersistentGrant): void;
    /** Unmap everything: the connection is going (no request holds a grant by then). */
    clear(): void;
}
