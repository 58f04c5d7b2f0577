import type { DomainView } from './memory.js';
export type PortHandler = (port: number) => void;
/**
 * Halt-polling, as KVM does it: before a vCPU goes to sleep it may spin on upcall_pending for
 * a while, because a wake through Atomics.waitAsync costs tens of microseconds while an
 * event often follows within a few. The window adapts: it grows while events keep arriving
 * soon after the vCPU goes idle and shrinks to nothing while they do not, so an idle domain
 * never spins.
 *
 * A loop may poll only while something awaits an event (`expectEvents`): a driver with
 * requests in flight, which expects its responses within microseconds. Guests run that way, as
 * blk-mq and io_uring poll only for I/O they issued: a guest that merely waits for xenstore or
 * a timer does not spin, which matters when guests outnumber cores (booting hundreds at once,
 * each spinning on its replies, starves dom0).
 */
export declare const HALT_POLL_MAX_US = 50;
export declare class UpcallLoop {
    #private;
    constructor(view: DomainView, opts: {
        onError: (err: unknown, port: number) => void;
        pausable: boolean;
        haltPollUs?: number;
        /** Poll only while expectEvents() holds are taken. */
        pollOnlyWhenExpected?: boolean;
        /** Events per port per 100 ms before the port is throttled; no limit when absent. */
        stormLimit?: number;
        onStorm?: (port: number) => void;
        /**
         * On a shared pCPU (cpupool.ts) the loop does not wait for events itself: the pCPU's
         * scheduler wakes on its doorbell and calls runPending() in the domain's turn.
         */
        driven?: boolean;
    });
    /** Something now awaits an event soon (true) or no longer does (false); calls pair up. */
    expectEvents(on: boolean): void;
    on(port: number, handler: PortHandler): void;
    off(port: number): void;
    start(): void;
    /** A driven loop's turn: run the handlers of pending events; false if there were none. */
    runPending(): boolean;
    stop(): void;
}
