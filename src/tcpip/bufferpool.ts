// Buffers reused once their user is done with them: frames to transmit (free again once
// Net.write resolved, the device having consumed them) and the blocks of a TCP send buffer
// (free once acknowledged). A 64 KiB buffer from fresh memory costs zeroing or page faults
// and its ArrayBuffer costs the collector; a reused one is warm in the cache (a profile of the
// tcp bench: a third of the time went to allocating frames). Two size classes: up to a
// full-MTU frame, and up to a GSO super-frame.

const SMALL = 2048;
/** netif.h's XEN_NETIF_MAX_TX_SIZE: no frame is larger. */
export const POOL_LARGE = 0x10000;
/** Free buffers kept per class: 256 KiB of small ones, 1 MiB of large ones. */
const KEEP_SMALL = 128;
const KEEP_LARGE = 16;

export class BufferPool {
  #small: ArrayBuffer[] = [];
  #large: ArrayBuffer[] = [];
  /**
   * Buffers in the free lists: one given back twice must not be handed out twice. A strong set:
   * it holds only what the lists hold, and a WeakSet's add and delete (V8's ephemeron table,
   * rehashed as it churns) were 1.4% of a stream source's samples for a 64 KiB block each.
   */
  #free = new Set<ArrayBuffer>();

  /** `n` bytes holding whatever the last user left (the caller writes every byte). */
  take(n: number): Uint8Array {
    const list = n <= SMALL ? this.#small : n <= POOL_LARGE ? this.#large : undefined;
    if (!list) return new Uint8Array(n);
    const ab = list.pop();
    if (ab) {
      this.#free.delete(ab);
      return new Uint8Array(ab, 0, n);
    }
    return new Uint8Array(new ArrayBuffer(list === this.#small ? SMALL : POOL_LARGE), 0, n);
  }

  /** Give back a buffer from take() that nobody uses any more (others are left to the collector). */
  give(b: Uint8Array): void {
    const ab = b.buffer;
    if (!(ab instanceof ArrayBuffer) || b.byteOffset !== 0 || this.#free.has(ab)) return;
    const list = ab.byteLength === SMALL ? this.#small : ab.byteLength === POOL_LARGE ? this.#large : undefined;
    if (!list || list.length >= (list === this.#small ? KEEP_SMALL : KEEP_LARGE)) return;
    this.#free.add(ab);
    list.push(ab);
  }
}
