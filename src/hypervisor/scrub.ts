// Freed guest memory wiped off dom0's thread, as Xen scrubs freed pages in its idle loop
// (page_alloc.c's scrub_free_pages). A page a guest never wrote is not backed yet, and the first
// touch of one costs this VM 15-40 µs (DESIGN.md §10), reads included: wiping a 64 MiB guest's
// 16 MiB of RAM after its destroy held dom0's thread for 70-400 ms, and the create that came next
// waited behind it. One thread at the lowest priority wipes each buffer and hands it back; the
// domain heap pools it only then (domheap.ts).
//
// The same thread faults in the RAM of a domain that waits for a restore (a shell), which would
// otherwise pay for those first touches while the image's frames are copied in. It does so with
// an atomic compare-and-exchange of each frame's first word from 0 to 0: a locked write on x86,
// which makes the kernel back the page, and which changes no byte, whoever writes the frame
// meanwhile. It stops once the domain's runtime populates a frame of its own or it is dying.
import { Worker } from 'node:worker_threads';
import type { Scrubber } from './domheap.js';
import type { Domain } from './hypervisor.js';
import { CB_DYING, CB_RAM_HWM, firstRamPfn, totalFrames } from './layout.js';
import { PAGE_SIZE } from '../abi/xen.js';

/** Frames faulted in between two looks at the thread's messages (a wipe waits no longer). */
export const PREFAULT_BATCH_FRAMES = 64;

// Float64Array's fill is the fastest zeroing of a SharedArrayBuffer in V8 (0.0 is all zero bits);
// a length that is not a multiple of 8 falls back to 32-bit words. setPriority: this thread only.
// Prefaults go one batch a turn, so wipes asked meanwhile are done between two batches.
const SOURCE = `
const { parentPort } = require('node:worker_threads');
try { require('node:os').setPriority(19); } catch {}
const prefaults = [];
const batch = () => {
  const j = prefaults[0];
  const stop = Math.min(j.end, j.pfn + j.batch);
  if (Atomics.load(j.ctl, j.hwmIndex) !== j.first || Atomics.load(j.ctl, j.dyingIndex) !== 0) j.end = j.pfn;
  for (; j.pfn < stop && j.pfn < j.end; j.pfn++) Atomics.compareExchange(j.mem, j.pfn * j.wordsPerFrame, 0, 0);
  if (j.pfn >= j.end) {
    prefaults.shift();
    parentPort.postMessage({ id: j.id, frames: j.pfn - j.first });
  }
  if (prefaults.length > 0) setImmediate(batch);
};
parentPort.on('message', (m) => {
  if (m.prefault) {
    const p = m.prefault;
    prefaults.push({ ...p, mem: new Int32Array(p.memory), ctl: new Int32Array(p.control), pfn: p.first, id: m.id });
    if (prefaults.length === 1) setImmediate(batch);
    return;
  }
  const { id, buf } = m;
  (buf.byteLength % 8 === 0 ? new Float64Array(buf) : new Int32Array(buf)).fill(0);
  parentPort.postMessage({ id });
});
`;

export class ThreadScrubber implements Scrubber {
  #worker: Worker | undefined;
  #gone: Error | undefined;
  #seq = 0;
  readonly #waiting = new Map<number, { resolve: (frames: number) => void; reject: (e: Error) => void }>();

  /** Resolves once `buf` is all zeros; rejects if the thread is gone (the buffer is then not to be reused). */
  async scrub(buf: SharedArrayBuffer): Promise<void> {
    await this.#ask({ buf });
  }

  /**
   * Fault in `d`'s RAM frames, in the background; resolves with how many frames it went over
   * (all of them, or those before it stopped), rejects if the thread is gone.
   */
  prefault(d: Domain): Promise<number> {
    const { buffers, geometry } = d.view;
    return this.#ask({
      prefault: {
        memory: buffers.memory, control: buffers.control, first: firstRamPfn(geometry), end: totalFrames(geometry),
        wordsPerFrame: PAGE_SIZE >> 2, hwmIndex: CB_RAM_HWM, dyingIndex: CB_DYING, batch: PREFAULT_BATCH_FRAMES,
      },
    });
  }

  #ask(m: object): Promise<number> {
    if (this.#gone) return Promise.reject(this.#gone);
    // Started on first use: a host that never destroys a guest never pays for the thread.
    const w = (this.#worker ??= this.#start());
    const id = this.#seq++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      w.postMessage({ id, ...m });
    });
  }

  #start(): Worker {
    const w = new Worker(SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 } });
    w.unref();
    w.on('message', ({ id, frames }: { id: number; frames?: number }) => {
      this.#waiting.get(id)?.resolve(frames ?? 0);
      this.#waiting.delete(id);
    });
    w.on('error', (e) => this.#fail(e));
    w.on('exit', (code) => this.#fail(new Error(`the scrubber thread exited (${code})`)));
    return w;
  }

  #fail(e: Error): void {
    this.#gone ??= e;
    for (const p of this.#waiting.values()) p.reject(this.#gone);
    this.#waiting.clear();
  }

  async close(): Promise<void> {
    this.#fail(new Error('the scrubber is closed'));
    const w = this.#worker;
    this.#worker = undefined;
    await w?.terminate();
  }
}
