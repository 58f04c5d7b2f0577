export interface Timer {
    cancel(): void;
}
export interface Clock {
    /** Milliseconds since an arbitrary start, never going backwards. */
    now(): number;
    /** Call `fn` once after `ms` milliseconds unless cancelled first. */
    setTimer(ms: number, fn: () => void): Timer;
}
/** The host's clock: performance.now() and setTimeout. */
export declare const realClock: Clock;
/** A timer slot that holds at most one pending timer: arming it again replaces the old one. */
export declare class TimerSlot {
    #private;
    private readonly clock;
    constructor(clock: Clock);
    get armed(): boolean;
    arm(ms: number, fn: () => void): void;
    /** Arm only when not already armed (a deadline that must not be pushed back). */
    ensure(ms: number, fn: () => void): void;
    cancel(): void;
}
/**
 * A Clock over a guest's `os.time` (src/guest/time.ts), whose timers are sleeps: cancelling a
 * timer aborts its sleep, so the stack's many cancelled timers (TCP re-arms often) leave nothing behind.
 */
export declare function clockFromTime(time: {
    monotonic(): bigint;
    sleep(ms: number, opts?: {
        signal?: AbortSignal;
    }): Promise<void>;
}): Clock;
