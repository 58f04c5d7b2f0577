import type { NetRate } from '../protocol.js';
export declare class Credit {
    #private;
    constructor(rate: NetRate | null, now?: () => number);
    get rate(): NetRate | null;
    /** xen_net_rate_changed: `waiting` says a packet is held for credit (it is looked at again now). */
    set(rate: NetRate | null, waiting: boolean): void;
    /** Take `size` bytes of credit: 0 if given, else the ms until the next window opens. */
    take(size: number): number;
}
