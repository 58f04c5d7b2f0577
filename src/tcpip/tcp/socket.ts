// A connection as a Node Duplex byte stream: writes wait while the send buffer is full, reads
// open the receive window as the application consumes, end() sends FIN (half-close stays open
// for reading), destroy() without end() resets. Errors are the stack's typed errors.
import { Duplex } from 'node:stream';
import { formatIpv4 } from '../addr.js';
import type { TcpipError } from '../errors.js';
import type { Connection, TcpState } from './connection.js';

export class TcpSocket extends Duplex {
  #conn: Connection;
  #pending: { chunk: Uint8Array; cb: (err?: Error | null) => void } | undefined;
  #wantRead = false;
  #ended = false;

  constructor(conn: Connection) {
    super({ allowHalfOpen: true, readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 });
    this.#conn = conn;
    conn.events = {
      onEstablished: () => this.emit('connect'),
      onReadable: () => this.#pump(),
      onWritable: () => this.#flush(),
      onClosed: (err) => this.#onClosed(err),
    };
  }

  get remoteAddress(): string {
    return formatIpv4(this.#conn.remoteAddr);
  }

  get remotePort(): number {
    return this.#conn.remotePort;
  }

  get localPort(): number {
    return this.#conn.localPort;
  }

  get state(): TcpState {
    return this.#conn.state;
  }

  /** Nagle off (true) or on (false, the default). */
  setNoDelay(noDelay = true): this {
    this.#conn.noDelay = noDelay;
    if (noDelay) this.#conn.output();
    return this;
  }

  setKeepAlive(enable: boolean, idleMs?: number, intervalMs?: number, count?: number): this {
    this.#conn.setKeepAlive(enable, idleMs, intervalMs, count);
    return this;
  }

  /** Abort with RST. */
  reset(): void {
    this.#conn.reset();
    this.destroy();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#pending = { chunk, cb };
    this.#flush();
  }

  #flush(): void {
    const p = this.#pending;
    if (!p) return;
    const n = this.#conn.write(p.chunk);
    if (n === p.chunk.length) {
      this.#pending = undefined;
      p.cb();
    } else p.chunk = p.chunk.subarray(n);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#conn.close();
    cb();
  }

  override _read(): void {
    this.#wantRead = true;
    this.#pump();
  }

  #pump(): void {
    while (this.#wantRead) {
      const b = this.#conn.read();
      if (!b) break;
      if (!this.push(b)) this.#wantRead = false;
    }
    if (this.#conn.finReceived && this.#conn.rcvQueue.length === 0 && !this.#ended) {
      this.#ended = true;
      this.push(null);
    }
  }

  #onClosed(err: TcpipError | undefined): void {
    this.#pump();
    if (err) this.destroy(err);
    else if (!this.#ended) {
      this.#ended = true;
      this.push(null);
    }
    const p = this.#pending;
    if (p) {
      this.#pending = undefined;
      p.cb(err ?? new Error('connection closed'));
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Destroyed before our FIN was queued (an abort, not an orderly close): reset the peer.
    const s = this.#conn.state;
    if (s === 'ESTABLISHED' || s === 'CLOSE-WAIT' || s === 'SYN-SENT' || s === 'SYN-RECEIVED') this.#conn.reset();
    cb(err);
  }
}
