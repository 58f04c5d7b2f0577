import type { DriverContext } from '../../evtchn.js';
import { type FrontendStatus } from '../../frontend.js';
import type { Block, BlockInfo } from './block.js';
export interface BlkfrontOptions {
    /** Use persistent grants when the backend offers them (default true). */
    readonly persistent?: boolean;
    /** Segments per indirect request, capped by the backend's offer; 0 never uses indirect (default 256). */
    readonly maxIndirectSegments?: number;
    /** Ring pages as an order, capped by the backend's max-ring-page-order (default 0: one page). */
    readonly ringPageOrder?: number;
    /** Queues, capped by the backend's multi-queue-max-queues (default 1: one vCPU). */
    readonly queues?: number;
}
/** What was negotiated, and what the backend said about the disk. */
export interface BlkfrontInfo extends BlockInfo {
    readonly cdrom: boolean;
    readonly removable: boolean;
    readonly flush: boolean;
    readonly barrier: boolean;
    readonly discard: boolean;
    readonly secureDiscard: boolean;
    readonly persistent: boolean;
    /** Segments per request: 11, or the indirect maximum. */
    readonly maxSegments: number;
    readonly ringPages: number;
    readonly queues: number;
}
export type BlkfrontStatus = FrontendStatus;
export declare class BlkFront implements Block {
    #private;
    readonly vdev: string;
    readonly devid: number;
    readonly domid: number;
    readonly backendDir: string;
    readonly backendId: number;
    readonly dir: string;
    private constructor();
    /** Connect to device `devid` of domain `domid`; resolves once the handshake is done. */
    static connect(ctx: DriverContext, domid: number, devid: number, vdev: string, opts?: BlkfrontOptions): Promise<BlkFront>;
    get status(): BlkfrontStatus;
    /** Everything negotiated (null before the first connection). */
    get negotiated(): BlkfrontInfo | null;
    /** Persistent grants given to the current backend. */
    get persistentGrants(): number;
    info(): BlockInfo;
    read(sector: number, buffers: Uint8Array | readonly Uint8Array[]): Promise<void>;
    write(sector: number, buffers: Uint8Array | readonly Uint8Array[]): Promise<void>;
    flush(): Promise<void>;
    discard(sector: number, count: number, secure?: boolean): Promise<void>;
    /**
     * Orderly close (Mirage's disconnect): new I/O is refused, I/O in flight finishes, then
     * Closing, Closed, and the grants go once the backend has let go of them.
     */
    disconnect(): Promise<void>;
    /** For a suspend: stop issuing; resolves once the requests in flight are answered. */
    quiesce(): Promise<void>;
    /** The suspend was cancelled: carry on where it stopped. */
    release(): void;
}
