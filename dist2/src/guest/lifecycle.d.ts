import type { XenstoreClient } from '../xenstore/client/client.js';
export type ShutdownRequest = 'poweroff' | 'reboot' | 'suspend';
/**
 * Called when the domain is about to be suspended (xenode save, migrate): returns (or resolves
 * to) the state the program continues from, which must be structured-cloneable. It should let
 * its own I/O in flight finish first; the runtime then waits for the devices' requests in flight.
 */
export type SuspendHandler = () => unknown;
export interface Lifecycle {
    /**
     * The next poweroff or reboot request from dom0; while someone waits here, those requests are
     * left to the guest. Suspend requests are the runtime's (see onSuspend).
     */
    awaitShutdownRequest(): Promise<ShutdownRequest>;
    /**
     * The program's part of a suspend: its handler's result is `os.resumed` when main(os) is
     * called again after a restore or migration. One handler; a new one replaces it. Returns a
     * function that removes it.
     */
    onSuspend(handler: SuspendHandler): () => void;
}
export declare class GuestLifecycle implements Lifecycle {
    #private;
    private readonly xs;
    private readonly onUnhandled;
    /** The runtime's suspend; absent, a suspend request is unhandled like any other. */
    private readonly onSuspendRequest?;
    constructor(xs: XenstoreClient, onUnhandled: (r: ShutdownRequest) => void, 
    /** The runtime's suspend; absent, a suspend request is unhandled like any other. */
    onSuspendRequest?: (() => void) | undefined);
    onSuspend(handler: SuspendHandler): () => void;
    /** The program's handler, if it set one. */
    get suspendHandler(): SuspendHandler | undefined;
    start(): Promise<void>;
    awaitShutdownRequest(): Promise<ShutdownRequest>;
}
