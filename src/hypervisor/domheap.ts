// Guest memory buffers, reused. A SharedArrayBuffer's backing store is freed only when every
// thread that saw it has collected its last reference, and the allocator rarely hands the
// pages back to the kernel, so a host that creates and destroys guests all day grew by the
// size of every guest it ever ran (issue 11: 65 MB -> 1.9 GB over 1,000 cycles of 16 MiB
// guests). As Xen's domheap takes freed pages back for the next domain, this keeps wiped
// buffers of a size for the next domain of that size, up to a bounded total.
//
// A buffer is reused only if no other domain's thread can still hold it: one lent to a peer
// (a driver domain mapping it, a frontend bound to it) goes back only once the last of those
// borrowers is reaped too (and a thread that may still run one has ended).
//
// A buffer is wiped before it is pooled: at once on the caller's thread, or by a Scrubber (a host's
// runs on a thread of its own, scrub.ts), pooled only once it says so.

const WORDS = Int32Array.BYTES_PER_ELEMENT;

/** Wiped buffers kept for reuse (bytes), by default. */
export const DEFAULT_DOMHEAP_FREE_BYTES = 64 << 20;

export interface DomHeapStats {
  /** Buffers handed out since the start that were reused. */
  readonly reused: number;
  /** Buffers handed out that had to be allocated. */
  readonly allocated: number;
  /** Bytes held in the free pool now. */
  readonly freeBytes: number;
  /** Bytes of freed buffers being wiped (not in the pool yet). */
  readonly scrubbingBytes: number;
}

/** Wipes freed buffers elsewhere: resolves once the buffer is all zeros, rejects if it may not be. */
export interface Scrubber {
  scrub(buf: SharedArrayBuffer): Promise<void>;
  close(): Promise<void>;
}

export class DomHeap {
  readonly #free = new Map<number, SharedArrayBuffer[]>();
  readonly #maxFreeBytes: number;
  readonly #scrubber: Scrubber | undefined;
  #freeBytes = 0;
  #scrubbingBytes = 0;
  #reused = 0;
  #allocated = 0;

  constructor(opts: { maxFreeBytes?: number; scrubber?: Scrubber } = {}) {
    this.#maxFreeBytes = opts.maxFreeBytes ?? DEFAULT_DOMHEAP_FREE_BYTES;
    this.#scrubber = opts.scrubber;
  }

  /** A zeroed buffer of `bytes` (a multiple of 4). */
  alloc(bytes: number): SharedArrayBuffer {
    const list = this.#free.get(bytes);
    const buf = list?.pop();
    if (buf) {
      if (list!.length === 0) this.#free.delete(bytes);
      this.#freeBytes -= bytes;
      this.#reused++;
      return buf;
    }
    this.#allocated++;
    return new SharedArrayBuffer(bytes);
  }

  /**
   * Take back a buffer nobody else holds any more (the caller's promise). Kept, wiped, while
   * the pool has room; otherwise dropped.
   */
  free(buf: SharedArrayBuffer): void {
    const bytes = buf.byteLength;
    if (bytes % WORDS !== 0 || this.#freeBytes + this.#scrubbingBytes + bytes > this.#maxFreeBytes) return;
    // Wiped now, not on reuse: a guest must never see a previous guest's data, and create is
    // the path that has to be fast.
    if (this.#scrubber) {
      this.#scrubbingBytes += bytes;
      const done = () => void (this.#scrubbingBytes -= bytes);
      this.#scrubber.scrub(buf).then(() => {
        done();
        this.#keep(buf);
      }, done);
      return;
    }
    // Through an Int32Array: fill on a SharedArrayBuffer byte view is ~10x slower (DESIGN.md §10).
    new Int32Array(buf).fill(0);
    this.#keep(buf);
  }

  #keep(buf: SharedArrayBuffer): void {
    const bytes = buf.byteLength;
    const list = this.#free.get(bytes);
    if (list) list.push(buf);
    else this.#free.set(bytes, [buf]);
    this.#freeBytes += bytes;
  }

  stats(): DomHeapStats {
    return { reused: this.#reused, allocated: this.#allocated, freeBytes: this.#freeBytes, scrubbingBytes: this.#scrubbingBytes };
  }

  /** Stop the scrubber: buffers it has not handed back are not pooled. */
  async close(): Promise<void> {
    await this.#scrubber?.close();
  }
}
