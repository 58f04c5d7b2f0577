// A connection as a Node Duplex byte stream: writes wait while the send buffer is full, reads
// open the receive window as the application consumes, end() sends FIN (half-close stays open
// for reading), destroy() without end() resets. Errors are the stack's typed errors.
import { Duplex } from 'node:stream';
import { formatIpv4 } from '../addr.js';
import { TcpipError } from '../errors.js';
import type { Connection, ConnectionSnapshot, ConnectionStats, TcpState } from './connection.js';

export class TcpSocket extends Duplex {
  #conn: Connection;
  #pending: { chunk: Uint8Array; cb: (err?: Error | null) => void } | undefined;
  /** onBytes' reader: the stream carries no bytes then. */
  #onBytes: ((bytes: Uint8Array) => boolean | void) | undefined;
  /** writeNow()'s caller, waiting for room in the send buffer. */
  #whenRoom: (() => void) | undefined;
  #wantRead = false;
  #ended = false;
  /** Chunks pushed to the stream and maybe not yet consumed (the newest `readableLength` bytes of them). */
  #pushed: Uint8Array[] = [];
  #pushedBytes = 0;
  /** A suspend is taking the program's writes: all of them go into the send buffer. */
  #unbounded = false;
  /** Carried over from before a restore or migration (handed back by the stack, see Tcp.resumed). */
  readonly resumed: boolean;

  constructor(conn: Connection, resumed = false) {
    super({ allowHalfOpen: true, readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 });
    this.#conn = conn;
    this.resumed = resumed;
    conn.events = {
      onEstablished: () => this.emit('connect'),
      onReadable: () => this.#pump(),
      onWritable: () => this.#writable(),
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

  /** The connection's counters so far (retransmissions, duplicate ACKs, ...): a copy. */
  get stats(): Required<ConnectionStats> {
    return { ...this.#conn.stats };
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

  /**
   * Read without copies, as Mirage's TCP read hands out views of the received pages: `fn` gets
   * each run of bytes in order, a view valid only during the call (of the device's receive
   * page, or of the stack's buffer for bytes that waited), and 'data' is no longer emitted. Bytes
   * that arrived before are handed over at once. The window stays open as far as `fn` keeps up;
   * 'end' and the other events come as before. Take it before reading through the stream.
   * `fn` answering false stops the handing over after those bytes: later ones wait in the
   * receive queue (copied, and the window closes as it fills) until resumeBytes().
   */
  onBytes(fn: (bytes: Uint8Array) => boolean | void): this {
    this.#onBytes = fn;
    // The stream carries only the end now: let it flow so that 'end' is emitted.
    this.resume();
    this.resumeBytes();
    return this;
  }

  /** Hand over what waited since onBytes' reader answered false, then each run as it arrives. */
  resumeBytes(): void {
    const fn = this.#onBytes;
    if (!fn || this.#conn.reader) return;
    for (let b = this.#conn.read(); b; b = this.#conn.read()) if (fn(b) === false) return;
    // After the peer's FIN no byte comes: no reader to keep (nor the closures it holds).
    if (!this.#conn.finReceived) this.#conn.reader = this.#handBytes;
    this.#pump(); // the end, if it waited behind those bytes
  }

  readonly #handBytes = (b: Uint8Array): void => {
    if (this.#onBytes!(b) === false) this.#conn.reader = undefined;
  };

  /** Abort with RST. */
  reset(): void {
    this.#conn.reset();
    this.destroy();
  }

  /**
   * Write past the stream's queue, for a writer that reuses its buffer as soon as this returns
   * (a host socket reading into one buffer: the gateway's splice): `bytes` are copied into the
   * send buffer now, all of them, even past its bound by this one write (the caller stops at
   * false, as a socket's send buffer in Linux takes a whole write once it has any room). Answers
   * whether there is room for more; after false, `room` runs once there is. Not while a write()
   * is pending (its bytes would be passed); bytes after the connection stopped sending are
   * dropped (its 'error' or 'close' says why).
   */
  writeNow(bytes: Uint8Array, room: () => void): boolean {
    if (this.#pending || this.writableLength > 0) throw new TcpipError('EINVAL', 'TcpSocket.writeNow while a write() is pending');
    this.#conn.write(bytes, true);
    if (this.#conn.sendSpace > 0) return true;
    this.#whenRoom = room;
    return false;
  }

  #writable(): void {
    this.#flush();
    const room = this.#whenRoom;
    if (room && this.#conn.sendSpace > 0) {
      this.#whenRoom = undefined;
      room();
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#pending = { chunk, cb };
    this.#flush();
  }

  #flush(): void {
    const p = this.#pending;
    if (!p) return;
    const n = this.#conn.write(p.chunk, this.#unbounded);
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
    while (this.#wantRead && !this.#onBytes) {
      const b = this.#conn.read();
      if (!b) break;
      this.#pushed.push(b);
      this.#pushedBytes += b.length;
      if (!this.push(b)) this.#wantRead = false;
      while (this.#pushed.length > 0 && this.#pushedBytes - this.#pushed[0]!.length >= this.readableLength) this.#pushedBytes -= this.#pushed.shift()!.length;
    }
    if (this.#conn.finReceived && this.#conn.rcvQueue.length === 0 && !this.#ended) {
      this.#ended = true;
      this.push(null);
    }
  }

  /**
   * The connection's state for a suspend record: what the program wrote goes into the send
   * buffer first (the stream's own queue included), and what the stream holds unread goes back
   * ahead of the receive queue.
   */
  snapshot(): ConnectionSnapshot {
    this.#unbounded = true;
    try {
      this.#flush();
    } finally {
      this.#unbounded = false;
    }
    let skip = this.#pushedBytes - this.readableLength;
    const unread = new Uint8Array(Math.max(0, this.readableLength));
    let at = 0;
    for (const b of this.#pushed) {
      const part = b.subarray(Math.min(skip, b.length));
      skip = Math.max(0, skip - b.length);
      unread.set(part.subarray(0, unread.length - at), at);
      at += Math.min(part.length, unread.length - at);
    }
    return this.#conn.snapshot(unread);
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
