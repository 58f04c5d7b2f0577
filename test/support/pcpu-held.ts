// A pCPU thread (guest/pcpu.ts) that a test can hold outside any turn, as guest code that V8 or
// Node ran between turns held it: once a domain named `held-spin` is placed, a timer of the
// thread spins forever; once one named `held-wait` is, it waits forever in Atomics.wait (asleep,
// no CPU). Neither is in a turn: its heartbeat says no domain runs, and its loop stops.
import { parentPort } from 'node:worker_threads';
import type { PcpuMessage } from '../../src/hypervisor/cpupool.js';

const stop: Record<string, () => void> = {
  'held-spin': () => {
    for (;;);
  },
  'held-wait': () => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0),
};
// Registered before guest/pcpu.js's own listener, so this one runs first; the timer fires after the place.
parentPort!.on('message', (m: PcpuMessage) => {
  const hold = m.type === 'place' ? stop[m.identity.name] : undefined;
  if (hold) setTimeout(hold, 50);
});
await import('../../src/guest/pcpu.js');
