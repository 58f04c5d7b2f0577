import { BlkFront, type BlkfrontOptions } from '../../src/drivers/blk/front/blkfront.js';
import { type DriverContext } from '../../src/drivers/evtchn.js';
import { Hypercalls } from '../../src/hypervisor/hypercalls.js';
import type { Disk } from '../../src/storage/disk.js';
export interface OneThreadGuest {
    readonly domid: number;
    readonly hc: Hypercalls;
    readonly ctx: DriverContext;
}
export declare class OneThreadHost {
    #private;
    constructor();
    /** dom0's own context: its hypercalls, event channels and xenstore client (for backends a bench starts itself). */
    get dom0(): DriverContext;
    guest(ramFrames: number): OneThreadGuest;
    /** Give `g` the disk `spec` names, backed by `disk`, and connect its blkfront. */
    attach(g: OneThreadGuest, spec: string, disk: Disk, opts?: BlkfrontOptions): Promise<BlkFront>;
    close(): Promise<void>;
}
