// A thread that holds a shared pCPU's doorbell, as each Pool-0 peer of its domains does, and
// takes one domain's bit whenever it finds it set, spinning (docs/SECURITY.md, "The doorbell is
// not trusted"): for the tests and the doorbell-theft bench.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { DoorbellSlot } from '../../src/hypervisor/doorbell.js';

/** Steals until it took `thefts` bits, `ms` passed, or `stop[0]` was set; resolves with how many it took. */
export async function doorbellThief(bell: DoorbellSlot, o: { thefts: number; ms: number; stop?: Int32Array }): Promise<number> {
  const stop = o.stop ?? new Int32Array(new SharedArrayBuffer(4));
  const thief = new Worker(`
    const { workerData: { buffer, slot, thefts, ms, stop }, parentPort } = require('node:worker_threads');
    const db = new Int32Array(buffer);
    const w = 2 + (slot >>> 5), bit = 1 << (slot & 31); // doorbell.ts: the bitmap after two header words
    const end = Date.now() + ms;
    let stolen = 0;
    while (stolen < thefts && Atomics.load(stop, 0) === 0 && Date.now() < end) if ((Atomics.load(db, w) & bit) !== 0 && (Atomics.and(db, w, ~bit) & bit) !== 0) stolen++;
    parentPort.postMessage(stolen);`, { eval: true, workerData: { buffer: bell.buffer, slot: bell.slot, thefts: o.thefts, ms: o.ms, stop } });
  const [stolen] = (await once(thief, 'message')) as [number];
  return stolen;
}
