// The bytes of the frames one rx queue holds for its frontend (xenvif_rx_queue_tail), kept in
// one buffer used as a ring: held frames leave in the order they came (sent or expired), so
// their copies are taken at the newest end and let go at the oldest, and a held frame costs no
// allocation. A fresh buffer per held frame did (a 64 KiB GSO frame's slice() cost a dom0
// profile 10-20 times its copy: V8's external-memory collections and fresh pages). The buffer
// is made when the queue first holds a frame and kept for the queue's life.

export class HeldBytes {
  #buf: Uint8Array | undefined;
  /** Offsets in #buf: the oldest copy's start and the end of the newest; the copies kept. */
  #head = 0;
  #tail = 0;
  #count = 0;
  /** Where the copies before a wrap end (-1: not wrapped): once the oldest of them goes, the oldest is at the start. */
  #wrapEnd = -1;

  constructor(readonly capacity: number) {}

  /** A copy of `frame`, valid until release(); undefined when the ring has no room for it (the caller makes its own). */
  copy(frame: Uint8Array): Uint8Array | undefined {
    const n = frame.length;
    let at: number;
    if (this.#tail >= this.#head) {
      // From the newest copy to the end of the buffer, else from its start up to the oldest
      // (never onto it: head === tail would read as empty).
      if (this.#tail + n <= this.capacity) {
        at = this.#tail;
      } else if (n < this.#head) {
        at = 0;
        this.#wrapEnd = this.#tail;
      } else {
        return undefined;
      }
    } else if (this.#tail + n < this.#head) {
      at = this.#tail;
    } else {
      return undefined;
    }
    const buf = (this.#buf ??= new Uint8Array(this.capacity));
    const v = buf.subarray(at, at + n);
    v.set(frame);
    this.#tail = at + n;
    this.#count++;
    return v;
  }

  /** Let go of the oldest copy, `v` (copies go in the order they were made). */
  release(v: Uint8Array): void {
    if (v.buffer !== this.#buf?.buffer) return;
    this.#head = v.byteOffset - this.#buf.byteOffset + v.length;
    if (this.#head === this.#wrapEnd) {
      this.#head = 0;
      this.#wrapEnd = -1;
    }
    if (--this.#count === 0) this.clear();
  }

  /** Every copy let go. */
  clear(): void {
    this.#head = this.#tail = this.#count = 0;
    this.#wrapEnd = -1;
  }
}
