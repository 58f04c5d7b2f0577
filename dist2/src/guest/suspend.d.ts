import { type SuspendRecord } from '../abi/suspend.js';
import type { Hypercalls } from '../hypervisor/hypercalls.js';
import type { TcpipStack } from '../tcpip/stack.js';
import type { IoRanges } from './iopages.js';
import type { SuspendHandler } from './lifecycle.js';
/** A frontend as a suspend sees it. */
export interface Quiescable {
    quiesce(): Promise<void>;
    release(): void;
}
/** How long a suspend waits for the devices' requests in flight before it goes on regardless. */
export declare const QUIESCE_TIMEOUT_MS = 2000;
export interface SuspendDeps {
    readonly hc: Hypercalls;
    handler(): SuspendHandler | undefined;
    ioRanges(): IoRanges;
    flushConsole(): Promise<void>;
    log(line: string): void;
}
export declare class Suspender {
    #private;
    constructor(deps: SuspendDeps);
    /** A frontend the program opened. */
    trackDevice(p: Promise<Quiescable>): void;
    /** A TCP/IP stack the program made. */
    trackStack(p: Promise<TcpipStack>): void;
    /**
     * Suspend; returns once resumed in place. A handler that throws, or a state that cannot be
     * cloned, aborts the suspend (the toolstack's wait times out and the domain runs on).
     */
    suspend(): Promise<void>;
}
/**
 * The record a restored domain resumes from (its frames named in start_info), and the RAM it
 * frees: every populated frame but the program's I/O pages belonged to the old runtime.
 */
export declare function resumeRecord(hc: Hypercalls, pfn: number, bytes: number): SuspendRecord;
