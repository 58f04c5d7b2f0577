import { type Ipv4 } from '../addr.js';
import { type Clock } from '../clock.js';
import { type TcpipError } from '../errors.js';
import { ByteQueue } from './bytequeue.js';
import { NewReno } from './newreno.js';
import { Rto } from './rto.js';
import { type Segment, type TcpOptions } from './wire.js';
import { type BufferPool } from '../bufferpool.js';
import type { Slab } from '../slab.js';
import type { TcpConfig } from './settings.js';
/** What a connection needs from the TCP layer that owns it. */
export interface TcpHost {
    readonly clock: Clock;
    readonly config: TcpConfig;
    readonly random: () => number;
    /** Where small kept bytes (the send buffer, received segments) are copied to. */
    readonly slab: Slab;
    /** The blocks of send buffers: given back once acknowledged. */
    readonly sendBlocks: BufferPool;
    /** The vif does GSO: segments may be super-frames of several MSS. */
    readonly gso: boolean;
    pathMtu(addr: Ipv4): number;
    /**
     * Send one segment; `len` payload bytes are copied from the connection's send buffer at
     * `bufOffset`.
     */
    emit(c: Connection, seq: number, ack: number, flags: number, window: number, opts: TcpOptions | undefined, len: number, bufOffset: number): void;
    /** The handshake completed. */
    established(c: Connection): void;
    /** The connection entered TIME-WAIT. */
    timeWait(c: Connection): void;
    /** The connection is CLOSED: forget it. */
    release(c: Connection): void;
}
export type TcpState = 'SYN-SENT' | 'SYN-RECEIVED' | 'ESTABLISHED' | 'FIN-WAIT-1' | 'FIN-WAIT-2' | 'CLOSE-WAIT' | 'CLOSING' | 'LAST-ACK' | 'TIME-WAIT' | 'CLOSED';
/** What the owner of a connection (the stream) hears from it. */
export interface ConnectionEvents {
    onEstablished(): void;
    /** In-order bytes are ready to read(), or the peer's FIN arrived. */
    onReadable(): void;
    /** Send buffer space freed. */
    onWritable(): void;
    /** The connection is gone; with an error unless it closed in order. */
    onClosed(err: TcpipError | undefined): void;
}
export declare class Connection {
    #private;
    private readonly host;
    readonly localPort: number;
    readonly remoteAddr: Ipv4;
    readonly remotePort: number;
    readonly passive: boolean;
    state: TcpState;
    events: ConnectionEvents | undefined;
    readonly iss: number;
    sndUna: number;
    sndNxt: number;
    /** The highest sequence number sent (sndNxt goes back to sndUna after a timeout). */
    sndMax: number;
    sndWnd: number;
    readonly sndBuf: ByteQueue;
    rcvNxt: number;
    readonly rcvQueue: ByteQueue;
    readonly rto: Rto;
    readonly cc: NewReno;
    noDelay: boolean;
    /** Segments sent again, and how many of those a timeout caused. */
    readonly stats: {
        retransmits: number;
        timeouts: number;
        fastRetransmits: number;
        sackRetransmits: number;
    };
    constructor(host: TcpHost, localPort: number, remoteAddr: Ipv4, remotePort: number, passive: boolean, iss: number);
    get config(): TcpConfig;
    get key(): string;
    get describe(): string;
    get finReceived(): boolean;
    /** Bytes the application may still add to the send buffer. */
    get sendSpace(): number;
    get mss(): number;
    /** Active open: send the SYN. */
    open(): void;
    /** Passive open: take the SYN's options and answer with SYN-ACK. */
    acceptSyn(seg: Segment): void;
    /** Queue bytes to send; returns how many fit in the send buffer. */
    write(data: Uint8Array): number;
    /** Take received bytes (undefined when none are waiting); opens the window as space frees. */
    read(max?: number): Uint8Array | undefined;
    /** No more data from us: send FIN after what is queued. */
    close(): void;
    /** Abort: RST to the peer if it knows us, drop everything. */
    reset(err?: TcpipError): void;
    /** Forget the connection without a word to the peer (an evicted half-open one, a recycled TIME-WAIT). */
    abandon(): void;
    setKeepAlive(enable: boolean, idleMs?: number, intervalMs?: number, count?: number): void;
    /** Send whatever the windows, Nagle and the FIN allow. */
    output(): void;
    input(seg: Segment): void;
    /** The peer or the path is gone (ICMP hard error): fail the open, or keep trying (RFC 1122 soft errors). */
    unreachable(refused: boolean): void;
    /** ICMP says the path MTU fell: send smaller segments from now on. */
    pathMtuChanged(): void;
}
