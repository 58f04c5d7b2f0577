// A queue of bytes kept as the chunks they arrived in: the send buffer (read at any offset,
// dropped from the front as ACKs arrive) and the receive buffer (taken from the front).
import { copyBytes } from '../../hypervisor/copy.js';


export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #head = 0;
  length = 0;

  /** `release` hears of every chunk dropped whole (the send buffer gives its blocks back). */
  constructor(private readonly release?: (chunk: Uint8Array) => void) {}

  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.length += b.length;
    // Bytes that continue the last chunk in the same memory (copies from one Slab) join it.
    const last = this.#chunks[this.#chunks.length - 1];
    if (last && last.buffer === b.buffer && last.byteOffset + last.length === b.byteOffset) {
      this.#chunks[this.#chunks.length - 1] = new Uint8Array(b.buffer, last.byteOffset, last.length + b.length);
    } else this.#chunks.push(b);
  }

  /** Drop `n` bytes from the front. */
  drop(n: number): void {
    n = Math.min(n, this.length);
    this.length -= n;
    while (n > 0) {
      const c = this.#chunks[0]!;
      const left = c.length - this.#head;
      if (n < left) {
        this.#head += n;
        return;
      }
      n -= left;
      const done = this.#chunks.shift()!;
      this.#head = 0;
      this.release?.(done);
    }
  }

  /** Copy `len` bytes starting `from` bytes into the queue to dst[off..]. */
  copyTo(from: number, len: number, dst: Uint8Array, off: number): void {
    let skip = from + this.#head;
    for (const c of this.#chunks) {
      if (len === 0) return;
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const n = Math.min(len, c.length - skip);
      copyBytes(dst, c.subarray(skip, skip + n), off);
      off += n;
      len -= n;
      skip = 0;
    }
  }

  /** Take up to `max` bytes from the front as one chunk (no copy when a whole chunk fits). */
  shift(max = Infinity): Uint8Array | undefined {
    const c = this.#chunks[0];
    if (!c) return undefined;
    const n = Math.min(max, c.length - this.#head);
    const out = c.subarray(this.#head, this.#head + n);
    this.drop(n);
    return out;
  }
}
