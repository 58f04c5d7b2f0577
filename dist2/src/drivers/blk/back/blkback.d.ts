import { XenbusState } from '../../../abi/xenbus.js';
import { type Disk } from '../../../storage/disk.js';
import type { DriverContext } from '../../evtchn.js';
import { type BlkbackStats } from './queue.js';
export interface BlkbackOptions {
    /** Offer feature-persistent (default true). */
    readonly persistent?: boolean;
    /** Persistently mapped grants per ring before LRU eviction (default: Linux's 1056, or ring slots x 11). */
    readonly maxPersistentGrants?: number;
    /** feature-max-indirect-segments; 0 offers no indirect requests (default 256). */
    readonly maxIndirectSegments?: number;
    /** max-ring-page-order (default 4). */
    readonly maxRingPageOrder?: number;
    /** multi-queue-max-queues (default 4). */
    readonly maxQueues?: number;
}
export declare class BlkBack {
    #private;
    readonly dir: string;
    readonly frontendId: number;
    readonly frontendDir: string;
    readonly stats: BlkbackStats;
    private constructor();
    /**
     * Serve `disk` on the backend device at `dir` (which the toolstack created, with
     * frontend-id and frontend): publish features, go InitWait, follow the frontend.
     */
    static start(ctx: DriverContext, dir: string, disk: Disk, opts?: BlkbackOptions): Promise<BlkBack>;
    get state(): XenbusState;
    get connected(): boolean;
    /** Persistently mapped grants, per ring. */
    get persistentGrants(): number[];
    /** The disk served now. */
    get disk(): Disk;
    /**
     * Switch the disk under the guest, as XCP pauses tapdisk to snapshot: every ring stops taking
     * requests and drains what it took, `open(old)` gives the disk to serve from then on (the
     * same size), the rings go on with it. The guest sees only latency. If `open` fails, the rings
     * go on with the old disk. Returns how long I/O was paused (ms). The old disk is not closed.
     */
    switchDisk(open: (old: Disk) => Promise<Disk>): Promise<number>;
    /** Take the device away: disconnect, stop following the frontend, close the disk. */
    close(): Promise<void>;
}
