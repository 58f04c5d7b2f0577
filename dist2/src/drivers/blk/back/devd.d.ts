import type { Disk } from '../../../storage/disk.js';
import { BackendDaemon } from '../../devd.js';
import type { DriverContext } from '../../evtchn.js';
import { BlkBack, type BlkbackOptions } from './blkback.js';
export { HOTPLUG_ERROR, HOTPLUG_STATUS } from '../../devd.js';
export interface BlkbackDaemonOptions {
    readonly blkback?: BlkbackOptions;
    /** How `params` becomes a disk (default: storage/open.ts). */
    readonly openDisk?: (params: string, opts: {
        readOnly: boolean;
    }) => Promise<Disk>;
}
export declare class BlkbackDaemon extends BackendDaemon<BlkBack> {
    static start(ctx: DriverContext, domid: number, opts?: BlkbackDaemonOptions): Promise<BlkbackDaemon>;
}
