// A shell's RAM faulted in while it waits in the pool: the first write to a fresh page of a
// SharedArrayBuffer costs the VM 15-22 µs (DESIGN.md §10; 35-290 ms for 6 MiB measured here
// under load), which a restore into the shell would otherwise pay while it copies the image's
// frames in. One zero is written per frame (the frame is zero already: the write only makes the
// kernel back it), a batch per turn of dom0's event loop, and only while the shell is idle: the
// batches run on dom0's thread, as its claim does, so none runs once it is taken, and its parked
// runtime touches no RAM frame (its allocator's high-water mark is checked before each batch).
import { PAGE_SIZE } from '../abi/xen.js';
import type { Domain } from '../hypervisor/hypervisor.js';
import { CB_RAM_HWM, firstRamPfn, totalFrames } from '../hypervisor/layout.js';

/** Frames faulted in per turn of the event loop. */
export const PREFAULT_BATCH_FRAMES = 64;

export async function prefaultRam(d: Domain, idle: () => boolean): Promise<void> {
  const { geometry, mem8, ctl } = d.view;
  const first = firstRamPfn(geometry);
  const end = totalFrames(geometry);
  for (let pfn = first; pfn < end; pfn += PREFAULT_BATCH_FRAMES) {
    if (!idle() || d.dying || Atomics.load(ctl, CB_RAM_HWM) !== first) return;
    const stop = Math.min(end, pfn + PREFAULT_BATCH_FRAMES);
    for (let p = pfn; p < stop; p++) mem8[p * PAGE_SIZE] = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
