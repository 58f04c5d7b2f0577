import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
export interface IoPage {
    readonly pfn: number;
    readonly page: Uint8Array;
    readonly view: DataView;
    /** The grant while the backend may use the page, else -1. */
    ref: number;
    /** A frame of the guest's own buffer rather than a bounce page of the driver. */
    readonly direct: boolean;
}
/** Frames of guest buffers that keep a persistent grant at once (16 MiB of I/O memory). */
export declare const MAX_DIRECT_PERSISTENT = 4096;
export declare class FrontPages {
    #private;
    constructor(hc: Hypercalls);
    /** Start a connection to `backend`; earlier grants must have been revoked. */
    connect(backend: number, persistent: boolean): void;
    /**
     * Keep no more guest frames persistently granted than the backend's pool holds by default
     * (defaultPersistentLimit), so that cycling through many buffers does not make it thrash.
     */
    limitDirect(backendPool: number): void;
    get persistentGrants(): number;
    /** Pages waiting for the backend to unmap them. */
    get revoking(): number;
    /**
     * A page granted for one use: `backendWrites` when the backend fills it (a read). Null if
     * memory or grant references ran out (see tableFull).
     */
    take(backendWrites: boolean): IoPage | null;
    /** Every grant reference of the table is in use: growing it (GNTTABOP_setup_table) would help. */
    get tableFull(): boolean;
    /**
     * Frame `pfn` of a guest buffer, granted for a request (`backendWrites` as for take()); null
     * when persistent grants are in use and too many frames already hold one.
     */
    direct(pfn: number, backendWrites: boolean): IoPage | null;
    /** The request is answered: keep the persistent grant, or end the grant. */
    put(p: IoPage): void;
    /** The connection is gone: end every persistent grant, and retry grants the backend held. */
    revokeAll(): void;
    /** End the grants an earlier backend still mapped, where it has let go since. */
    retryRevoking(): void;
    /** Give back a page of a request that will never be answered (the connection went). */
    abandon(p: IoPage): void;
}
