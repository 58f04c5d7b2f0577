import { type NetFrameInfo } from '../../../abi/netif.js';
import type { DriverContext } from '../../evtchn.js';
import { type FrontendStatus } from '../../frontend.js';
import type { Net, NetOffloads, NetStats } from './net.js';
export interface NetfrontOptions {
    /** Queues, capped by the backend's multi-queue-max-queues (default 1). */
    readonly queues?: number;
}
export type NetfrontStatus = FrontendStatus;
export declare class NetFront implements Net {
    #private;
    readonly devid: number;
    readonly domid: number;
    readonly mac: string;
    readonly backendDir: string;
    readonly backendId: number;
    readonly dir: string;
    private constructor();
    /** Connect to vif `devid` of domain `domid`; resolves once the handshake is done. */
    static connect(ctx: DriverContext, domid: number, devid: number, opts?: NetfrontOptions): Promise<NetFront>;
    get status(): NetfrontStatus;
    get mtu(): number;
    get offloads(): NetOffloads;
    /** Queues and whether the event channels are split, as negotiated. */
    get negotiated(): {
        readonly queues: number;
        readonly split: boolean;
    };
    stats(): NetStats;
    listen(handler: (frame: Uint8Array, info: NetFrameInfo) => void): () => void;
    write(frames: Uint8Array | readonly Uint8Array[], info?: NetFrameInfo): Promise<void>;
    /**
     * Orderly close (Mirage's disconnect): new frames are refused, frames in flight finish, then
     * Closing, Closed, and the grants go once the backend has let go of them.
     */
    disconnect(): Promise<void>;
    /** For a suspend: stop issuing; resolves once the requests in flight are answered. */
    quiesce(): Promise<void>;
    /** The suspend was cancelled: carry on where it stopped. */
    release(): void;
}
