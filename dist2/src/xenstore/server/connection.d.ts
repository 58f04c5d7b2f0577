import { Buffer } from 'node:buffer';
import type { XenErrnoName } from '../../errors.js';
import type { Domain } from './domain.js';
import type { Accessor } from './perms.js';
import type { CloseReason, ConnectionSink, SendBytes } from './transport.js';
import type { Transaction } from './view.js';
import type { WatchOwner } from './watches.js';
/** A connection as a transport (or the host) holds it. */
export interface XsConnection extends ConnectionSink {
    readonly domid: number;
    readonly closed: boolean;
}
/** What a connection needs from the daemon it belongs to. */
export interface ConnectionOwner {
    dispatch(conn: Connection, type: number, reqId: number, txId: number, payload: Buffer): void;
    /** The connection is gone: forget its watches and transactions. */
    forget(conn: Connection): void;
    trace(conn: Connection, dir: 'IN' | 'OUT', msg: Buffer): void;
    readonly tracing: boolean;
    readonly log: (line: string) => void;
    readonly limits: {
        readonly outstanding: number;
        readonly maxOutputBytes: number;
        readonly maxTotalOutputBytes: number;
    };
    /** The connection may have requests to handle: give it a turn. */
    wake(conn: Connection): void;
    /** Unread output of some connection changed by `delta` bytes; returns the total over all connections. */
    addUnread(delta: number): number;
}
/** Unprocessed input a connection holds before its transport stops reading. */
export declare const INPUT_HOLD: number;
/** Unread output beyond which a connection's requests wait until the peer reads. */
export declare const OUTPUT_THROTTLE: number;
export declare class Connection implements XsConnection, Accessor, WatchOwner {
    #private;
    private readonly owner;
    readonly seq: number;
    readonly domain: Domain;
    readonly privileged: boolean;
    private readonly transport;
    private readonly onDrop;
    readonly home: string;
    readonly transactions: Map<number, Transaction>;
    constructor(owner: ConnectionOwner, seq: number, domain: Domain, privileged: boolean, transport: SendBytes, onDrop: (reason: CloseReason) => void);
    /** Set by the transport: called when the connection takes input again after holding it. */
    onInputSpace: (() => void) | undefined;
    get domid(): number;
    get target(): number | undefined;
    get closed(): boolean;
    /** Replies and events handed to the transport and not yet delivered (as of the last send). */
    get outstanding(): number;
    receive(bytes: Uint8Array): void;
    /** False while the connection holds more unprocessed input than INPUT_HOLD: stop reading. */
    get wantsInput(): boolean;
    /** A complete request waits and may be handled now. */
    get runnable(): boolean;
    /** Handle up to `max` requests (the scheduler's turn); returns how many were handled. */
    serve(max: number): number;
    /** Hold further requests until resume() (a request completing asynchronously). */
    stall(): void;
    resume(): void;
    nextTransactionId(): number;
    reply(type: number, reqId: number, txId: number, payload: Uint8Array | string): void;
    replyError(reqId: number, txId: number, errno: XenErrnoName): void;
    /** A WATCH_EVENT ("path\0token\0"); events that would not fit a packet are not sent. */
    sendEvent(path: string, token: Buffer): void;
    /** The transport reports how many bytes of output the peer has not taken yet. */
    outputPending(bytes: number): void;
    /** The peer reconnected its ring: start afresh, as a new connection would. */
    reset(): void;
    /** The transport is gone. */
    close(): void;
    /** xenstored drops the peer (bad input, unread output, domain released). */
    drop(reason: CloseReason, why: string): void;
}
