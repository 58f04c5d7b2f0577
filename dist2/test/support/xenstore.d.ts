import type { EventPort } from '../../src/xenstore/common/ring.js';
import { Buffer } from 'node:buffer';
import { type Socket } from 'node:net';
import { type ConnectOptions, Xenstored, type XenstoredOptions, type XsConnection } from '../../src/xenstore/server/daemon.js';
export interface Msg {
    type: number;
    reqId: number;
    txId: number;
    payload: Buffer;
}
/** Payloads are written with '\0' in strings; they are latin1 bytes on the wire. */
export declare function packet(type: number, payload: string | Uint8Array, txId?: number, reqId?: number): Buffer;
/** Splits a byte stream into messages. */
export declare class Framer {
    #private;
    readonly msgs: Msg[];
    push(bytes: Uint8Array): void;
}
/** A reply as "TYPE payload" text for compact assertions: errors read "ERROR ENOENT\0". */
export declare function show(m: Msg): string;
/**
 * A connection driven in-process. xenstored answers synchronously, so `req` returns the reply
 * at once; watch events collect in `events`.
 */
export declare class Peer {
    #private;
    readonly conn: XsConnection;
    readonly framer: Framer;
    readonly events: string[];
    dropped: number | undefined;
    constructor(xs: Xenstored, domid: number, opts?: ConnectOptions);
    /** Send a request; returns every non-event message it produced (normally the one reply). */
    send(type: number, payload: string | Uint8Array, txId?: number): Msg[];
    drain(): Msg[];
    /** The one reply to a request, as show() text. */
    req(type: number, payload: string | Uint8Array, txId?: number): string;
    takeEvents(): string[];
}
export interface SocketDaemon {
    xs: Xenstored;
    path: string;
    stop(): Promise<void>;
}
/** A Xenstored listening on a socket in a fresh temp dir. */
export declare function startDaemon(opts?: XenstoredOptions): Promise<SocketDaemon>;
/** A raw client on the daemon's socket. */
export declare class SocketPeer {
    #private;
    readonly sock: Socket;
    readonly framer: Framer;
    closed: boolean;
    private constructor();
    static open(path: string): Promise<SocketPeer>;
    write(bytes: Uint8Array): void;
    /** Wait until `n` messages are buffered or the socket closes; returns them. */
    recv(n?: number): Promise<Msg[]>;
    req(type: number, payload: string | Uint8Array, txId?: number): Promise<Msg>;
    /** Resolves when the daemon has closed the connection. */
    waitClosed(): Promise<void>;
    close(): void;
}
/** Two ends of an in-thread event channel; events arrive on a later turn, as real ones do. */
export declare function portPair(): [EventPort, EventPort];
