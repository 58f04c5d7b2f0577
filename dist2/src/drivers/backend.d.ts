import { XenbusState } from '../abi/xenbus.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
/** What a backend does at each step of the lifecycle. */
export interface BackendDevice {
    /** Whether rings are mapped now. */
    readonly connected: boolean;
    /**
     * Whether the frontend, now Initialised or Connected, is to be connected to; `first` is the
     * first state seen since starting (one an earlier backend may have left).
     */
    wantsConnect(s: XenbusState.Initialised | XenbusState.Connected, first: boolean): boolean;
    /** Map the frontend's rings, bind its event channels, `switch(Connected)` and serve. */
    connect(): Promise<void>;
    /** Stop and unmap everything (idempotent). */
    disconnect(): Promise<void>;
    /** Whether the frontend's Closing disconnects at once (netback) or only its Closed does (blkback). */
    readonly disconnectOnClosing: boolean;
    /** After `close`: let go of what the device holds beyond its rings. */
    closed?(): Promise<void>;
}
export declare class BackendLifecycle {
    #private;
    readonly xs: XenstoreClient;
    readonly dir: string;
    readonly frontendDir: string;
    readonly log: (line: string) => void;
    readonly device: BackendDevice;
    constructor(xs: XenstoreClient, dir: string, frontendDir: string, log: (line: string) => void, device: BackendDevice);
    get state(): XenbusState;
    /** Go InitWait (the features are published) and follow the frontend. */
    start(): Promise<void>;
    switch(s: XenbusState): Promise<void>;
    /** xenbus_dev_fatal: say why and close the device from our side. */
    fatal(why: string): Promise<void>;
    /** Take the device away: disconnect and stop following the frontend. */
    close(): Promise<void>;
}
