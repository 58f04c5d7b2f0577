import type { BackRing } from '../../../abi/ring.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
import type { BoundPort } from '../../../hypervisor/port.js';
import { type Disk } from '../../../storage/disk.js';
import { type PersistentGrants } from './pgrants.js';
/**
 * Counters a backend keeps per device: Linux blkback's statistics (its sysfs `statistics/`
 * files, which xentop reads), then xenode's own.
 */
export interface BlkbackStats {
    /** oo_req: requests that waited for want of free request structures; never, here. */
    ooReq: number;
    /** rd_req, wr_req: reads and writes accepted (a flush with data counts as a flush). */
    rdReq: number;
    wrReq: number;
    /** f_req: flushes and barriers; ds_req: discards. */
    fReq: number;
    dsReq: number;
    /** rd_sect, wr_sect: sectors read and written. */
    rdSect: number;
    wrSect: number;
    requests: number;
    /** Requests answered BLKIF_RSP_ERROR or EOPNOTSUPP. */
    errors: number;
    /** Grants mapped for one request and unmapped after it. */
    transientMaps: number;
}
export declare function emptyBlkbackStats(): BlkbackStats;
export interface BackQueueOptions {
    readonly ring: BackRing;
    readonly port: BoundPort;
    readonly hc: Hypercalls;
    readonly frontendId: number;
    readonly disk: Disk;
    readonly pool: PersistentGrants | null;
    readonly maxIndirectSegments: number;
    readonly discard: boolean;
    readonly stats: BlkbackStats;
    /** The frontend broke the ring protocol: the device must go. */
    readonly onFatal: (why: string) => void;
    readonly log: (line: string) => void;
}
export declare class BackQueue {
    #private;
    constructor(o: BackQueueOptions);
    /** Consume whatever the frontend published, until the ring is empty and it knows to wake us. */
    service(): void;
    /**
     * Stop taking requests (they wait in the ring) and resolve once every request taken has been
     * answered: the disk is quiescent, as tapdisk is after `tap-ctl pause`.
     */
    pause(): Promise<void>;
    /** Serve `disk` from now on and take requests again (tap-ctl unpause with a new image). */
    resume(disk: Disk): void;
    /** Stop consuming and wait for requests in flight; the caller then unmaps the ring and the pool. */
    stop(): Promise<void>;
}
