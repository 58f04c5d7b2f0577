import { type NetFrameInfo } from '../../../abi/netif.js';
import { FrontRing } from '../../../abi/ring.js';
import type { NetPages } from './pages.js';
/** A frame waiting for the ring or in flight; `settle` is called once, with its status. */
export interface TxFrame {
    readonly data: Uint8Array;
    readonly info: NetFrameInfo;
    /** Data slots still unanswered. */
    left: number;
    status: number;
    readonly settle: (f: TxFrame) => void;
}
/** Data slots a frame of `len` bytes takes (a page each). */
export declare function txSlots(len: number): number;
export declare class TxQueue {
    #private;
    readonly ring: FrontRing;
    constructor(ringBytes: Uint8Array, pages: NetPages);
    get inFlight(): number;
    /** Put `f` on the ring; false when there is no room for all its slots yet. */
    post(f: TxFrame): boolean;
    /** Publish what post() wrote; true when the backend must be notified. */
    flush(): boolean;
    /** Take the responses; `settle` of each frame whose slots are all answered runs. */
    poll(): void;
    /** The connection went: the frames in flight, once each (to send again or to fail). */
    takeInFlight(): TxFrame[];
}
