import { type NetFrameInfo } from '../../../abi/netif.js';
import { FrontRing } from '../../../abi/ring.js';
import type { NetPages } from './pages.js';
/** Where received frames go; `frame` is valid only during the call; `error` counts a dropped frame. */
export interface RxSink {
    frame(frame: Uint8Array, info: NetFrameInfo): void;
    error(why: string): void;
}
export declare class RxQueue {
    #private;
    readonly ring: FrontRing;
    constructor(ringBytes: Uint8Array, pages: NetPages, sink: RxSink);
    /** Post a buffer in every free slot; true when the backend must be notified (feature-rx-notify). */
    refill(): boolean;
    /** Take every complete frame the backend has answered; buffers are posted again by refill(). */
    poll(): void;
}
