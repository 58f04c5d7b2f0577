/** Word the pCPU thread waits on: non-zero while some domain's bit may be set. */
export declare const DB_PENDING = 0;
/** Domains one pCPU thread may host. */
export declare const DOORBELL_SLOTS = 16384;
export declare function doorbellBytes(): number;
/** Where a domain's events ring: its pCPU's doorbell buffer and its bit there. */
export interface DoorbellSlot {
    readonly buffer: SharedArrayBuffer;
    readonly slot: number;
}
/** Set the domain's bit and wake the pCPU if it may sleep. */
export declare function ring(db: Int32Array, slot: number): void;
/**
 * pCPU side: the slots rung since the last call. The pending word is cleared first, so a ring
 * that lands after the scan finds it clear and wakes the thread again.
 */
export declare function takeRung(db: Int32Array, out: number[]): number[];
/**
 * A pCPU's own figures, shared with dom0 only: which domain's turn runs and since when (the
 * watchdog), turns run, and each slot's CPU time.
 */
export declare class PcpuStats {
    readonly buffer: SharedArrayBuffer;
    readonly epoch: number;
    static readonly RUNNING = 0;
    static readonly TURN_START = 1;
    static readonly TURNS = 2;
    static readonly HEADER_WORDS = 4;
    readonly words: Int32Array;
    /** Milliseconds of CPU each slot's domain has used. */
    readonly cpuMs: Float64Array;
    constructor(buffer: SharedArrayBuffer, epoch: number);
    static allocate(): SharedArrayBuffer;
    /** Milliseconds since the epoch, kept within an int32. */
    now(): number;
    /** The domid in its turn and how long it has run, or null between turns. */
    current(): {
        domid: number;
        ms: number;
    } | null;
}
