import { XenError } from '../../errors.js';
/** A byte pipe to xenstored, as the client library drives it. */
export interface XsClientTransport {
    /**
     * Begin delivery: `onData` gets xenstored's bytes in order (any chunking), then `onClose` is
     * called once when the pipe is gone, with why. Bytes that arrived earlier are delivered now.
     */
    start(onData: (bytes: Uint8Array) => void, onClose: (err: XenError) => void): void;
    /** Queue bytes to xenstored; throws a XenError if the pipe is closed. */
    send(bytes: Uint8Array): void;
    /** Close the pipe; `onClose` follows. */
    close(): void;
}
/**
 * What connectLocal needs of a xenstored in this thread (server/daemon.ts's Xenstored is one),
 * so the client library does not depend on the daemon.
 */
export interface LocalXenstored {
    connect(domid: number, send: (bytes: Uint8Array) => number | void, opts: LocalConnectOptions): LocalConnection;
}
export interface LocalConnectOptions {
    /** dom0 rights (default: domid 0 is privileged, others are not). */
    privileged?: boolean;
    /** Called when xenstored drops the connection, with the XENSTORE_ERROR_* reason (0: domain released). */
    onClose?: (reason: number) => void;
}
/** One in-process connection: request bytes go in through `receive`. */
export interface LocalConnection {
    receive(bytes: Uint8Array): void;
    close(): void;
}
/** Connect to xenstored's Unix socket (XENSTORED_PATH for Xen's own tools). */
export declare function connectSocket(path: string): Promise<XsClientTransport>;
/**
 * A connection to a Xenstored in this thread (dom0 code in the host process), as domain
 * `domid` (privileged for dom0 unless opts say otherwise).
 */
export declare function connectLocal(xenstored: LocalXenstored, domid?: number, opts?: Omit<LocalConnectOptions, 'onClose'>): XsClientTransport;
