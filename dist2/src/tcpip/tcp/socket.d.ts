import { Duplex } from 'node:stream';
import type { Connection, TcpState } from './connection.js';
export declare class TcpSocket extends Duplex {
    #private;
    constructor(conn: Connection);
    get remoteAddress(): string;
    get remotePort(): number;
    get localPort(): number;
    get state(): TcpState;
    /** Nagle off (true) or on (false, the default). */
    setNoDelay(noDelay?: boolean): this;
    setKeepAlive(enable: boolean, idleMs?: number, intervalMs?: number, count?: number): this;
    /** Abort with RST. */
    reset(): void;
    _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void;
    _final(cb: (err?: Error | null) => void): void;
    _read(): void;
    _destroy(err: Error | null, cb: (err?: Error | null) => void): void;
}
