/** At most this many requests of one connection are handled per turn. */
export declare const REQUESTS_PER_CONNECTION = 32;
/** At most this many requests are handled per turn of dom0's event loop, over all connections. */
export declare const REQUESTS_PER_TURN = 256;
/** Watch events a request's share of a turn covers: a write that fires many watches costs more of the turn. */
export declare const EVENTS_PER_REQUEST = 8;
/** Work that goes on over several turns (watch events of a change that fires very many watches). */
export interface Job {
    /** Do up to `max` units (watch events); returns how many were done. */
    run(max: number): number;
    /** Whether work is left. */
    pending(): boolean;
}
/** A connection as the scheduler sees it. */
export interface Schedulable {
    /** Whether a complete request waits and may be handled now. */
    readonly runnable: boolean;
    /** Handle up to `max` requests; returns how many were handled. */
    serve(max: number): number;
}
export declare class Scheduler {
    #private;
    /** `n` watch events were queued: they count against the turn. */
    charge(n: number): void;
    /** Go on with `job` in the coming turns, a share of each turn at a time. */
    defer(job: Job): void;
    /** `c` may have work: serve it now if nobody is waiting, else queue it for its turn. */
    wake(c: Schedulable): void;
}
