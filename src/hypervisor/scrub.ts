// Freed guest memory wiped off dom0's thread, as Xen scrubs freed pages in its idle loop
// (page_alloc.c's scrub_free_pages). A page a guest never wrote is not backed yet, and the first
// touch of one costs this VM 15-40 µs (DESIGN.md §10), reads included: wiping a 64 MiB guest's
// 16 MiB of RAM after its destroy held dom0's thread for 70-400 ms, and the create that came next
// waited behind it. One thread at the lowest priority wipes each buffer and hands it back; the
// domain heap pools it only then (domheap.ts).
import { Worker } from 'node:worker_threads';
import type { Scrubber } from './domheap.js';

// Float64Array's fill is the fastest zeroing of a SharedArrayBuffer in V8 (0.0 is all zero bits);
// a length that is not a multiple of 8 falls back to 32-bit words. setPriority: this thread only.
const SOURCE = `
const { parentPort } = require('node:worker_threads');
try { require('node:os').setPriority(19); } catch {}
parentPort.on('message', ({ id, buf }) => {
  (buf.byteLength % 8 === 0 ? new Float64Array(buf) : new Int32Array(buf)).fill(0);
  parentPort.postMessage(id);
});
`;

export class ThreadScrubber implements Scrubber {
  #worker: Worker | undefined;
  #gone: Error | undefined;
  #seq = 0;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  /** Resolves once `buf` is all zeros; rejects if the thread is gone (the buffer is then not to be reused). */
  scrub(buf: SharedArrayBuffer): Promise<void> {
    if (this.#gone) return Promise.reject(this.#gone);
    // Started on first use: a host that never destroys a guest never pays for the thread.
    const w = (this.#worker ??= this.#start());
    const id = this.#seq++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      w.postMessage({ id, buf });
    });
  }

  #start(): Worker {
    const w = new Worker(SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 } });
    w.unref();
    w.on('message', (id: number) => {
      this.#waiting.get(id)?.resolve();
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
