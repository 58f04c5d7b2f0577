import { type Ipv4 } from '../addr.js';
import type { Clock } from '../clock.js';
import { BufferPool } from '../bufferpool.js';
import { Slab } from '../slab.js';
import { type Icmp } from '../icmp.js';
import { type Ipv4Layer, type Ipv4Packet } from '../ipv4.js';
import { Connection, type TcpHost } from './connection.js';
import { type TcpConfig } from './settings.js';
import { TcpSocket } from './socket.js';
import { type TcpOptions } from './wire.js';
export interface TcpServer {
    readonly port: number;
    close(): void;
}
export interface TcpCounters {
    rxSegments: number;
    rxBad: number;
    rstSent: number;
    synDropped: number;
    halfOpenEvicted: number;
    timeWaitRecycled: number;
}
export interface ConnectOptions {
    localPort?: number;
    noDelay?: boolean;
}
export declare class Tcp implements TcpHost {
    #private;
    private readonly ip;
    readonly clock: Clock;
    readonly random: () => number;
    readonly config: TcpConfig;
    readonly counters: TcpCounters;
    constructor(ip: Ipv4Layer, icmp: Icmp, clock: Clock, random: () => number, config?: Partial<TcpConfig>);
    /** Kept bytes have a slab apart from frames', so that a stream's bytes lie end to end in it. */
    readonly slab: Slab;
    readonly sendBlocks: BufferPool;
    get gso(): boolean;
    /** Connections in any state but LISTEN. */
    get connectionCount(): number;
    get timeWaitCount(): number;
    /** Connections per state, for tests and stats. */
    states(): Record<string, number>;
    /** The connections (tests and stats look at them). */
    connections(): IterableIterator<Connection>;
    pathMtu(addr: Ipv4): number;
    listen(port: number, onConn: (s: TcpSocket) => void, opts?: {
        backlog?: number;
    }): TcpServer;
    /** Open a connection; resolves once established, rejects with ConnectionRefused, Timeout or NoRoute. */
    connect(addr: string, port: number, opts?: ConnectOptions): Promise<TcpSocket>;
    emit(c: Connection, seq: number, ack: number, flags: number, window: number, opts: TcpOptions | undefined, len: number, bufOffset: number): void;
    established(c: Connection): void;
    timeWait(c: Connection): void;
    release(c: Connection): void;
    input(p: Ipv4Packet): void;
    /** Fail every connection (the interface went away or the address changed). */
    abortAll(reason: string): void;
}
