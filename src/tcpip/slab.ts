// Buffers carved out of larger ones. At GSO sizes, allocating and collecting one ArrayBuffer
// per frame and per received segment cost more than the copies themselves (a profile of the
// tcp bench: a third of the time); a view into a slab costs an object. Memory is never reused,
// so a view stays valid for as long as someone holds it, and a slab goes to the collector once
// no view of it is left (Node's Buffer pool makes the same trade: a kept view pins its slab).
import { copyBytes } from '../hypervisor/copy.js';

const SLAB_BYTES = 128 * 1024;
/** Larger requests get a buffer of their own: they would waste too much of a slab's tail. */
const MAX_CARVE = SLAB_BYTES / 2;
const LARGE_COPY = 4096;

/**
 * Memory not zeroed first, where the runtime has it (Node's Buffer; the stack runs in Node's
 * threads, and needs nothing else from it): zeroing 64 KiB that is overwritten at once cost as
 * much as the copy. A plain Uint8Array elsewhere.
 */
const uninitialized: (n: number) => Uint8Array = (() => {
  const B = (globalThis as { Buffer?: { allocUnsafeSlow(n: number): Uint8Array } }).Buffer;
  return B ? (n: number) => B.allocUnsafeSlow(n) : (n: number) => new Uint8Array(n);
})();

export class Slab {
  #buf = new Uint8Array(0);
  #used = 0;

  /** `n` zeroed bytes. */
  alloc(n: number): Uint8Array {
    if (n > MAX_CARVE) return new Uint8Array(n);
    if (this.#used + n > this.#buf.length) {
      this.#buf = new Uint8Array(SLAB_BYTES);
      this.#used = 0;
    }
    const v = this.#buf.subarray(this.#used, this.#used + n);
    this.#used += n;
    return v;
  }

  /** A copy of `src` that the caller may keep. */
  copy(src: Uint8Array): Uint8Array {
    // Large copies are fastest alone: V8 copies into memory it need not zero first.
    if (src.length >= LARGE_COPY) {
      const b = uninitialized(src.length);
      copyBytes(b, src);
      return b;
    }
    const v = this.alloc(src.length);
    copyBytes(v, src);
    return v;
  }
}
