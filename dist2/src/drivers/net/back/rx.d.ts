import { type NetFrameInfo } from '../../../abi/netif.js';
import type { BackRing } from '../../../abi/ring.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
import type { NetbackStats } from './stats.js';
export interface RxFeatures {
    /** feature-sg: a frame may span several rx buffers. */
    readonly sg: boolean;
    /** feature-gso-tcpv4/v6: GSO super-frames may be given whole, with a GSO extra-info. */
    readonly gsoTcpv4: boolean;
    readonly gsoTcpv6: boolean;
}
export interface RxPathOptions {
    readonly ring: BackRing;
    readonly hc: Hypercalls;
    readonly frontendId: number;
    readonly stats: NetbackStats;
    readonly features: RxFeatures;
    /** Tell the frontend responses are out (its rx event channel). */
    readonly notify: () => void;
    /** The frontend published an impossible req_prod: disable the vif. */
    readonly onFatal: (why: string) => void;
    readonly log: (line: string) => void;
}
export declare class RxPath {
    #private;
    constructor(o: RxPathOptions);
    /**
     * Copy `frame` into the frontend's posted buffers; false (dropped, counted) when it has too
     * few. `hashType` >= 0: the frontend's Toeplitz hash of the frame (see QueueSelector), which
     * goes with it as a HASH extra-info, after the GSO one if any (xenvif_rx_next_skb).
     */
    deliver(frame: Uint8Array, info: NetFrameInfo, hashType?: number, hashValue?: number): boolean;
    /** Publish the responses written so far. */
    flush(): void;
    stop(): void;
}
