// No wake-up is lost between a vCPU loop that goes to sleep and another thread that raises its
// upcall: the waker notifies only a vCPU marked blocked (evtchn.ts wake), so the loop marks itself
// blocked first and then waits on the value it read before (the word a raise changes). Another
// thread raises an event as soon as the loop has handled the last one, after a spin of random
// length, so the raises land in every phase of the loop's way to sleep; a lost wake leaves the
// raiser waiting for its acknowledgement.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { EVTCHNSTAT_ipi } from '../../../src/abi/event_channel.js';
import { setPort } from '../../../src/hypervisor/evtchn.js';
import { allocateDomainBuffers, DomainView } from '../../../src/hypervisor/memory.js';
import { HALT_POLL_MAX_US, UpcallLoop } from '../../../src/hypervisor/upcall.js';

const ROUNDS = 3000;
/** How long the raiser waits for one acknowledgement before it calls the wake lost. */
const LOST_AFTER_MS = 10_000;
const ACKED = 0;
const LOST_AT = 1;

for (const haltPollUs of [0, HALT_POLL_MAX_US]) test(`a raise from another thread in any phase of the loop's way to sleep wakes it (halt-poll ${haltPollUs} µs)`, async (t) => {
  const buffers = allocateDomainBuffers(3, { maxGrantFrames: 1, ramFrames: 1, maxEvtchns: 8, initialGrantFrames: 1 });
  const view = new DomainView(buffers);
  setPort(view, 1, EVTCHNSTAT_ipi, 0, 0);
  const ack = new Int32Array(new SharedArrayBuffer(8));
  const loop = new UpcallLoop(view, { pausable: false, haltPollUs, onError: (e) => assert.fail(String(e)) });
  loop.on(1, () => {
    Atomics.add(ack, ACKED, 1);
    Atomics.notify(ack, ACKED);
  });
  loop.start();
  t.after(() => loop.stop());
  const evtchn = new URL('../../../src/hypervisor/evtchn.js', import.meta.url).href;
  const memory = new URL('../../../src/hypervisor/memory.js', import.meta.url).href;
  const raiser = new Worker(`
    const { workerData } = require('node:worker_threads');
    Promise.all([import(${JSON.stringify(evtchn)}), import(${JSON.stringify(memory)})]).then(([{ setPending }, { DomainView }]) => {
      const view = new DomainView(workerData.buffers);
      const ack = new Int32Array(workerData.ack);
      for (let i = 1; i <= ${ROUNDS}; i++) {
        const spinUntil = performance.now() + Math.random() * 0.03;
        while (performance.now() < spinUntil);
        setPending(view, 1);
        // Until this round's acknowledgement: a wait can also end on the last round's notify,
        // which the handler makes after its add (then the count is still i - 1).
        const deadline = performance.now() + ${LOST_AFTER_MS};
        while (Atomics.load(ack, ${ACKED}) < i) {
          const left = deadline - performance.now();
          if (left <= 0) {
            Atomics.store(ack, ${LOST_AT}, i);
            return;
          }
          Atomics.wait(ack, ${ACKED}, i - 1, left);
        }
      }
    });`, { eval: true, workerData: { buffers, ack: ack.buffer } });
  const code = await new Promise<number>((resolve, reject) => raiser.once('exit', resolve).once('error', reject));
  assert.equal(code, 0);
  assert.equal(Atomics.load(ack, LOST_AT), 0, `the wake of round ${Atomics.load(ack, LOST_AT)} was lost`);
  assert.equal(Atomics.load(ack, ACKED), ROUNDS);
});
