// os.io: I/O pages, Mirage's Io_page. Buffers carved from the guest's own RAM, page-aligned
// and contiguous, which a driver can grant to its backend instead of copying through bounce
// pages: block I/O on them is zero-copy (blkfront grants their frames), and a backend sees
// adjacent frames as one run it can copy in one go.
//
// They live as long as the guest, as a driver's DMA pool does: a backend may keep a persistent
// grant on a frame for as long as the device is connected, so a frame is never handed back
// while one could still be mapped. Allocate them once and reuse them.
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import type { Hypercalls } from '../hypervisor/hypercalls.js';
import { allocContiguous } from '../drivers/ringpages.js';

export interface IoPages {
  /** `bytes`, rounded up to whole pages, of zeroed I/O memory. Throws ENOMEM past the domain's memory= . */
  alloc(bytes: number): Uint8Array;
  /**
   * After a resume: I/O pages the program had before the suspend, with their contents, by
   * where they were (a buffer's byteOffset, and its length). EINVAL unless they were allocated
   * as I/O pages then. Pages the program does not take back stay allocated.
   */
  reclaim(byteOffset: number, bytes: number): Uint8Array;
}

/** [first pfn, count] of each allocation: what a suspend record keeps (abi/suspend.ts). */
export type IoRanges = readonly (readonly [number, number])[];

export function ioPages(hc: Hypercalls, before: IoRanges = []): IoPages & { ranges(): IoRanges } {
  const ranges: [number, number][] = before.map(([p, n]) => [p, n]);
  const view = (pfn: number, n: number) => new Uint8Array(hc.memory.buffers.memory, pfn * PAGE_SIZE, n * PAGE_SIZE);
  return {
    alloc(bytes: number): Uint8Array {
      if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new XenError('EINVAL', `I/O pages for ${bytes} bytes`);
      const n = Math.ceil(bytes / PAGE_SIZE);
      const pfns = allocContiguous(hc, n);
      const buf = view(pfns[0]!, n);
      // Reused frames hold their old contents (populate_physmap); fill through 32-bit words,
      // which is far quicker on shared memory (DESIGN.md §10).
      new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength >> 2).fill(0);
      ranges.push([pfns[0]!, n]);
      return buf;
    },
    reclaim(byteOffset: number, bytes: number): Uint8Array {
      const pfn = byteOffset / PAGE_SIZE;
      const n = Math.ceil(bytes / PAGE_SIZE);
      if (!Number.isInteger(pfn) || !Number.isSafeInteger(bytes) || bytes <= 0
        || !before.some(([p, c]) => pfn >= p && pfn + n <= p + c)) {
        throw new XenError('EINVAL', `no I/O pages of the suspended program at offset ${byteOffset} (${bytes} bytes)`);
      }
      return view(pfn, n);
    },
    // In order of frame, as a suspend record's must be (frames freed and taken again come back out of order).
    ranges: () => [...ranges].sort((x, y) => x[0] - y[0]),
  };
}
