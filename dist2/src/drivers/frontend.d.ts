import { XenbusState } from '../abi/xenbus.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
export type FrontendStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';
/** What a frontend does at each step of the lifecycle. */
export interface FrontendDevice<E extends Error> {
    /** The device is (no longer) connected: the error every request fails with. */
    disconnected(message: string): E;
    /** The backend waits (InitWait): make the rings, write them and the features, then `initialised()`. */
    talk(): Promise<void>;
    /** The backend is Connected: read its offer, then `connected()` (or `final`). */
    finishConnect(): Promise<void>;
    /** The backend announced Connected again while connected (a resize, say). */
    reconnected?(): Promise<void>;
    /** The connection is gone: requests in flight are kept to issue again if `recover`, else they fail. */
    teardown(recover: boolean): void;
    /** The device is gone for good: fail everything. */
    close(err: E): void;
    /** Revoke grants the backend has let go of since last time. */
    retryRevoke(): void;
    /** Let requests in flight finish (new ones are refused already), for an orderly close. */
    drain(err: E): Promise<void>;
    /** After `final`: what else the device does once it is gone. */
    finalised?(err: E): void;
}
export declare class FrontendLifecycle<E extends Error> {
    #private;
    readonly xs: XenstoreClient;
    readonly name: string;
    readonly dir: string;
    readonly backendDir: string;
    readonly device: FrontendDevice<E>;
    /** `name` is what the device is called in messages (`vif0`, `xvda`). */
    constructor(xs: XenstoreClient, name: string, dir: string, backendDir: string, device: FrontendDevice<E>);
    get status(): FrontendStatus;
    /** Closed, or closing: new requests are refused. */
    get refusing(): boolean;
    /** Start, and resolve once connected (or reject with why not). */
    start(): Promise<void>;
    switch(s: XenbusState): Promise<void>;
    /** The rings and features are written. */
    initialised(): Promise<void>;
    /** The backend's offer is read: go Connected and let `start` return. */
    connected(): Promise<void>;
    /** The device is gone for good (or the backend broke the protocol): fail everything, stop watching. */
    final(err: E): void;
    /**
     * Orderly close (Mirage's disconnect): new requests are refused, those in flight finish, then
     * Closing, Closed, and the grants go once the backend has let go of them.
     */
    disconnect(): Promise<void>;
}
