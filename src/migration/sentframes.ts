// The sender's copy of each frame as last sent (migrate.ts). There is no dirty bit for guest
// frames in a SharedArrayBuffer, so a frame has changed when it differs from its copy: every
// populated frame is compared in every round, the stop-and-copy's included, while the guest is
// stopped. The copies mirror RAM, each frame at its pfn's place in a slab of SLAB_FRAMES frames
// (one allocation a slab, not one a frame: 3,362 ArrayBuffers set off mark-compacts of dom0's
// heap), so that frames next to each other in RAM are next to each other in their copy too and
// a run of them is compared with one memcmp, not one call a frame with a Map lookup and a view
// each: that cost about as much again as the bytes (the 256 MiB bench guest's 12,578 frames).
import { PAGE_SIZE } from '../abi/xen.js';

/** Frames of copies one allocation holds (1 MiB). */
const SLAB_FRAMES = 256;
/** Frames compared with one call (64 KiB); only a run that differs is looked at frame by frame. */
const COMPARE_RUN_FRAMES = 16;

export class SentFrames {
  /** The copies of frames pfn SLAB_FRAMES*i .. SLAB_FRAMES*(i+1)-1, made when one of them is first sent. */
  readonly #slabs: (Buffer | undefined)[] = [];
  /** 1 where the copy of a pfn is what was last sent of it. */
  #sent = new Uint8Array(0);

  /**
   * Frames of `pfns[from..to)` that differ from the copy last sent (or were never sent), pushed
   * to `out`; their copies are brought up to date. A range, not a slice: pre-copy compares a
   * guest's pfns a slice at a time, and copied each slice to do it.
   */
  changed(mem: SharedArrayBuffer, pfns: readonly number[], from = 0, to = pfns.length, out: number[] = []): number[] {
    const ram = Buffer.from(mem);
    for (let i = from; i < to;) {
      const n = this.#run(pfns, i, to);
      if (n > 1) {
        const pfn = pfns[i]!;
        const at = (pfn % SLAB_FRAMES) * PAGE_SIZE;
        if (ram.compare(this.#slabs[Math.floor(pfn / SLAB_FRAMES)]!, at, at + n * PAGE_SIZE, pfn * PAGE_SIZE, (pfn + n) * PAGE_SIZE) === 0) {
          i += n;
          continue;
        }
      }
      for (const end = i + Math.max(n, 1); i < end; i++) {
        const pfn = pfns[i]!;
        const slab = this.#slab(pfn);
        const at = (pfn % SLAB_FRAMES) * PAGE_SIZE;
        const inRam = pfn * PAGE_SIZE;
        if (this.#sent[pfn] === 1 && ram.compare(slab, at, at + PAGE_SIZE, inRam, inRam + PAGE_SIZE) === 0) continue;
        ram.copy(slab, at, inRam, inRam + PAGE_SIZE);
        this.#sent[pfn] = 1;
        out.push(pfn);
      }
    }
    return out;
  }

  /**
   * How many frames from `pfns[i]` (at most COMPARE_RUN_FRAMES) were sent, have consecutive
   * pfns and share a slab, before `to`: one comparison covers them. 0 if its frame was not sent.
   */
  #run(pfns: readonly number[], i: number, to: number): number {
    const first = pfns[i]!;
    if (this.#sent[first] !== 1) return 0;
    const limit = Math.min(COMPARE_RUN_FRAMES, SLAB_FRAMES - (first % SLAB_FRAMES), to - i);
    let n = 1;
    while (n < limit && pfns[i + n] === first + n && this.#sent[first + n] === 1) n++;
    return n;
  }

  /** The copy of `pfn` last compared, which is what is sent of it. */
  frame(pfn: number): Uint8Array {
    const at = (pfn % SLAB_FRAMES) * PAGE_SIZE;
    return this.#slabs[Math.floor(pfn / SLAB_FRAMES)]!.subarray(at, at + PAGE_SIZE);
  }

  /** Unsent again (they go with the stop-and-copy). */
  forget(pfns: readonly number[]): void {
    for (const p of pfns) this.#sent[p] = 0;
  }

  #slab(pfn: number): Buffer {
    if (pfn >= this.#sent.length) {
      const grown = new Uint8Array(Math.max(pfn + 1, 2 * this.#sent.length));
      grown.set(this.#sent);
      this.#sent = grown;
    }
    const i = Math.floor(pfn / SLAB_FRAMES);
    return (this.#slabs[i] ??= Buffer.allocUnsafeSlow(SLAB_FRAMES * PAGE_SIZE));
  }
}
