import type { DriverContext } from '../../evtchn.js';
import { type BlockError } from './errors.js';
/** A ring as the lifecycle writes it to xenstore. */
export interface QueueRefs {
    readonly refs: readonly number[];
    readonly port: number;
}
export declare class FrontDatapath {
    #private;
    constructor(ctx: DriverContext, vdev: string, devid: number, onBroken: (e: BlockError) => void);
    /** Persistent grants given to the current backend. */
    get persistentGrants(): number;
    get inFlight(): number;
    /** Grant `nq` rings of 2^order pages to `backendId` and bind their event channels. */
    connectRings(backendId: number, persistent: boolean, order: number, nq: number): Promise<QueueRefs[]>;
    /** The backend is connected: requests carry up to `maxSegments` pages; issue what waits. */
    start(maxSegments: number, backendIndirect: number): void;
    /** Queue an I/O the lifecycle has checked (requests.ts checkIo); it is issued once a ring has room. */
    submit(op: number, sector: number, bufs: readonly Uint8Array[], bytes: number, count: number, secure: boolean): Promise<void>;
    /**
     * The connection is gone: stop listening, take the requests out of the rings (to issue again
     * if `recover`, else to fail), revoke the grants the backend no longer maps.
     */
    teardown(recover: boolean): void;
    /** Retry what an earlier connection left granted; the current connection's grants stay. */
    retryRevoke(): void;
    /** For a suspend: issue nothing new; resolves once every request in flight is answered. */
    quiesce(): Promise<void>;
    /** After a suspend that was cancelled (the domain runs on in place): issue what waited. */
    release(): void;
    /** Fail what waits for a ring with `err`; resolves once nothing is in flight. */
    drain(err: BlockError): Promise<void>;
    /** The device is gone for good: tear down and fail everything with `err`. */
    close(err: BlockError): void;
}
