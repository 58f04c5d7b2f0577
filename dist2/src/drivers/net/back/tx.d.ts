import { type NetFrameInfo } from '../../../abi/netif.js';
import type { BackRing } from '../../../abi/ring.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
import { type NetRate } from '../protocol.js';
import type { Credit } from './credit.js';
import type { McastFilter } from './mcast.js';
import type { NetbackStats } from './stats.js';
export interface TxPathOptions {
    readonly ring: BackRing;
    readonly hc: Hypercalls;
    readonly frontendId: number;
    readonly stats: NetbackStats;
    /** rate=: this queue's credit (unlimited without a rate). */
    readonly credit: Credit;
    /** The vif's multicast subscriptions (one for all its queues). */
    readonly mcast: McastFilter;
    /** Tell the frontend responses are out (its tx event channel). */
    readonly notify: () => void;
    /** A frame for the switch; the view is valid during the call only. */
    readonly output: (frame: Uint8Array, info: NetFrameInfo) => void;
    /** The frontend is malicious: disable the vif. */
    readonly onFatal: (why: string) => void;
    readonly log: (line: string) => void;
}
export declare class TxPath {
    #private;
    constructor(o: TxPathOptions);
    /** Consume every packet the frontend published, until the ring is empty and it knows to wake us. */
    service(): void;
    get rate(): NetRate | null;
    /** The rate changed (xen_net_rate_changed): a packet held for credit is looked at again now. */
    rateChanged(rate: NetRate | null): void;
    stop(): void;
}
