import type { Hypercalls } from '../hypervisor/hypercalls.js';
export interface Time {
    /** Nanoseconds since an arbitrary start, never going backwards. */
    monotonic(): bigint;
    /** The host's wall clock. */
    wallclock(): Date;
    /**
     * Resolves after `ms` milliseconds; when `signal` aborts first, rejects with its reason and
     * the sleeper is gone at once (as Node's timers/promises setTimeout).
     */
    sleep(ms: number, opts?: {
        signal?: AbortSignal;
    }): Promise<void>;
}
export declare class GuestTime implements Time {
    #private;
    constructor(hc: Hypercalls);
    monotonic(): bigint;
    wallclock(): Date;
    sleep(ms: number, opts?: {
        signal?: AbortSignal;
    }): Promise<void>;
    /** Sleepers waiting (cancelled ones are not). */
    get sleepers(): number;
    /** The VIRQ_TIMER handler. */
    onTimer(): void;
}
