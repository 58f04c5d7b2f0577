import { type NetFrameInfo } from '../../../abi/netif.js';
import type { DriverContext } from '../../evtchn.js';
import { type NetError } from './errors.js';
import type { NetStats } from './net.js';
/** What the lifecycle writes to xenstore for one queue. */
export interface QueueRefs {
    readonly txRef: number;
    readonly rxRef: number;
    readonly txPort: number;
    /** The same as txPort unless the channels are split. */
    readonly rxPort: number;
}
type MutableStats = {
    -readonly [K in keyof NetStats]: NetStats[K];
};
export declare class NetDatapath {
    #private;
    readonly stats: MutableStats;
    readonly listeners: Set<(frame: Uint8Array, info: NetFrameInfo) => void>;
    constructor(ctx: DriverContext, name: string, onBroken: (e: NetError) => void);
    get inFlight(): number;
    /** Grant `nq` queues' rings and buffers to `backendId` and allocate their event channels. */
    connect(backendId: number, nq: number, split: boolean): Promise<QueueRefs[]>;
    /** The backend is connected: post the rx buffers and send what waits. */
    start(): void;
    /** Queue frames the lifecycle checked; resolves when the backend answered every one. */
    submit(frames: readonly Uint8Array[], info: NetFrameInfo): Promise<void>;
    /** Stop listening and revoke; frames in flight wait to be sent again, or fail with `err`. */
    teardown(err: NetError | null): void;
    /** End the grants an earlier backend still held, where it has let go since. */
    retryRevoke(): void;
    /** For a suspend: issue nothing new; resolves once every request in flight is answered. */
    quiesce(): Promise<void>;
    /** After a suspend that was cancelled (the domain runs on in place): issue what waited. */
    release(): void;
    /** Fail what waits with `err`; resolves once nothing is in flight. */
    drain(err: NetError): Promise<void>;
    /** The device is gone for good. */
    close(err: NetError): void;
}
/**
 * The tx queue of a frame: IPv4 frames by a hash of their addresses and ports (one flow stays
 * on one queue, in order), everything else on queue 0.
 */
export declare function flowQueue(frame: Uint8Array, nq: number): number;
export {};
