// Reading a save image or migration stream exactly: `read(n)` gives n octets or fails with a
// clear error when the stream ends first, stalls longer than the timeout, or would exceed what
// the reader allows in all. Backpressure: the stream is paused while enough is buffered.
import type { Readable } from 'node:stream';
import { XenError } from '../errors.js';
import { readDeadline } from './deadline.js';

const HIGH_WATER = 8 << 20;

export class ByteSource {
  readonly #stream: Readable;
  readonly #stallMs: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  /** Octets handed out so far. */
  offset = 0;

  constructor(stream: Readable, opts: { stallMs: number }) {
    this.#stream = stream;
    this.#stallMs = opts.stallMs;
    stream.on('data', (b: Buffer) => {
      this.#chunks.push(b);
      this.#buffered += b.length;
      if (this.#buffered > HIGH_WATER) stream.pause();
      this.#wake?.();
    });
    stream.on('end', () => {
      this.#ended = true;
      this.#wake?.();
    });
    stream.on('error', (e) => {
      this.#error = e;
      this.#wake?.();
    });
  }

  /** Exactly `n` octets; `what` names them in errors. */
  async read(n: number, what: string): Promise<Buffer> {
    await this.need(n, what);
    return this.take(n);
  }

  /**
   * Wait until `n` octets are here (at most the high-water mark's worth), to be taken without a
   * wait (take, takeInto): a record's parts, read without a promise each.
   */
  async need(n: number, what: string): Promise<void> {
    while (this.#buffered < n) {
      if (this.#error) throw new XenError('EIO', `reading ${what} at offset ${this.offset}: ${this.#error.message}`);
      if (this.#ended) throw new XenError('EINVAL', `the stream is truncated: ${what} at offset ${this.offset} needs ${n} octets, ${this.#buffered} are left`);
      this.#stream.resume();
      let cancel: (() => void) | undefined;
      // What came while dom0's thread was blocked past the timeout is read before it is judged.
      const stalled = await new Promise<boolean>((resolve) => {
        this.#wake = () => resolve(false);
        cancel = readDeadline(this.#stallMs, () => resolve(true));
      });
      cancel?.();
      this.#wake = null;
      if (stalled) throw new XenError('ETIMEDOUT', `the stream stalled: nothing came for ${this.#stallMs} ms while reading ${what} at offset ${this.offset}`);
    }
  }

  /** `n` octets that need() waited for: a view of what came where they came in one piece, else a copy. */
  take(n: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      this.#consume(n);
      this.#resumeBelowHighWater();
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    this.takeInto(out);
    return out;
  }

  /** `dst.length` octets that need() waited for, copied into `dst` (a domain's frame: no buffer of their own). */
  takeInto(dst: Uint8Array): void {
    if (this.#buffered < dst.length) throw new RangeError(`takeInto: ${dst.length} octets asked, ${this.#buffered} here`);
    let at = 0;
    while (at < dst.length) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, dst.length - at);
      dst.set(k === c.length ? c : c.subarray(0, k), at);
      at += k;
      this.#consume(k);
    }
    this.#resumeBelowHighWater();
  }

  /** The first `n` octets of the first chunk are handed out. */
  #consume(n: number): void {
    const first = this.#chunks[0]!;
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#buffered -= n;
    this.offset += n;
  }

  #resumeBelowHighWater(): void {
    if (this.#buffered <= HIGH_WATER && this.#stream.isPaused()) this.#stream.resume();
  }

  /** Stop reading (the rest is not ours). */
  close(): void {
    this.#stream.pause();
    this.#stream.removeAllListeners('data');
  }
}
