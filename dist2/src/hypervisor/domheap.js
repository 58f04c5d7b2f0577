// Guest memory buffers, reused. A SharedArrayBuffer's backing store is freed only when every
// thread that saw it has collected its last reference, and the allocator rarely hands the
// pages back to the kernel, so a host that creates and destroys guests all day grew by the
// size of every guest it ever ran (issue 11: 65 MB -> 1.9 GB over 1,000 cycles of 16 MiB
// guests). As Xen's domheap takes freed pages back for the next domain, this keeps wiped
// buffers of a size for the next domain of that size, up to a bounded total.
//
// A buffer is reused only if no other domain's thread can still hold it: one lent to a peer
// (a driver domain mapping it, a frontend bound to it) goes back only once those borrowers
// are gone from the domain table, else it is left to the garbage collector.
const WORDS = Int32Array.BYTES_PER_ELEMENT;
/** Wiped buffers kept for reuse (bytes), by default. */
export const DEFAULT_DOMHEAP_FREE_BYTES = 64 << 20;
export class DomHeap {
    #free = new Map();
    #maxFreeBytes;
    #freeBytes = 0;
    #reused = 0;
    #allocated = 0;
    constructor(opts = {}) {
        this.#maxFreeBytes = opts.maxFreeBytes ?? DEFAULT_DOMHEAP_FREE_BYTES;
    }
    /** A zeroed buffer of `bytes` (a multiple of 4). */
    alloc(bytes) {
        const list = this.#free.get(bytes);
        const buf = list?.pop();
        if (buf) {
            if (list.length === 0)
                this.#free.delete(bytes);
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
    free(buf) {
        const bytes = buf.byteLength;
        if (bytes % WORDS !== 0 || this.#freeBytes + bytes > this.#maxFreeBytes)
            return;
        // Wiped now, not on reuse: a guest must never see a previous guest's data, and create is
        // the path that has to be fast. Through an Int32Array: fill on a SharedArrayBuffer byte
        // view is ~10x slower (DESIGN.md §10).
        new Int32Array(buf).fill(0);
        const list = this.#free.get(bytes);
        if (list)
            list.push(buf);
        else
            this.#free.set(bytes, [buf]);
        this.#freeBytes += bytes;
    }
    stats() {
        return { reused: this.#reused, allocated: this.#allocated, freeBytes: this.#freeBytes };
    }
}
//# sourceMappingURL=domheap.js.map