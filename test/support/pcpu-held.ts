// A pCPU thread (guest/pcpu.ts) that a test can hold outside any turn, as guest code that V8 or
// Node ran between turns held it: once a domain named `held-spin` is placed, a timer of the
// thread spins forever; once one named `held-wait` is, it waits forever in Atomics.wait (asleep,
// no CPU). Neither is in a turn: its heartbeat says no domain runs, and its loop stops. Once one
// named `lost-in-turn` is, the thread ends with its heartbeat saying that domain's turn runs, as a
// thread lost during a turn (out of heap) leaves it.
import { parentPort, workerData } from 'node:worker_threads';
import type { PcpuData, PcpuMessage } from '../../src/hypervisor/cpupool.js';
import { PcpuStats } from '../../src/hypervisor/doorbell.js';

const stats = new PcpuStats((workerData as PcpuData).stats, (workerData as PcpuData).epoch);
let placed = -1;

const stop: Record<string, () => void> = {
  'held-spin': () => {
    for (;;);
  },
  'held-wait': () => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0),
  'lost-in-turn': () => {
    Atomics.store(stats.words, PcpuStats.TURN_START, stats.now());
    Atomics.store(stats.words, PcpuStats.RUNNING, placed + 1);
    process.exit(1);
  },
};
// Registered before guest/pcpu.js's own listener, so this one runs first; the timer fires after the place.
parentPort!.on('message', (m: PcpuMessage) => {
  const hold = m.type === 'place' ? stop[m.identity.name] : undefined;
  if (m.type === 'place') placed = m.domid;
  if (hold) setTimeout(hold, 50);
});
await import('../../src/guest/pcpu.js');
