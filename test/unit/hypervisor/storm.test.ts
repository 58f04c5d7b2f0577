// Event storms: a loop with a storm limit throttles a port that fires too often and delivers
// what arrived meanwhile once the pause is over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setPending } from '../../../src/hypervisor/evtchn.js';
import { Hypervisor } from '../../../src/hypervisor/hypervisor.js';
import { UpcallLoop } from '../../../src/hypervisor/upcall.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

for (const abi of ['2-level', 'FIFO'] as const) test(`${abi} ABI: a port over its storm limit is masked for a while, and nothing is lost`, async (t) => {
  // The clock is mocked so a loaded machine cannot stretch the 20 events over the 10 ms pause.
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const hv = new Hypervisor();
  const view = hv.dom0.view;
  const storms: number[] = [];
  const loop = new UpcallLoop(view, { pausable: false, onError: (e) => assert.fail(String(e)), stormLimit: 5, onStorm: (p) => storms.push(p) });
  if (abi === 'FIFO') await loop.useFifo(hv.dom0Hypercalls);
  let handled = 0;
  loop.on(7, () => handled++);
  loop.start();
  for (let i = 0; i < 20; i++) {
    setPending(view, 7);
    await tick();
  }
  assert.equal(handled, 5, 'events past the limit reach no handler while the port is throttled');
  assert.deepEqual(storms, [7]);
  // After the pause the port is unmasked and the pending event is delivered once.
  t.mock.timers.tick(30);
  await tick();
  assert.equal(handled, 6);
  setPending(view, 7);
  await tick();
  assert.equal(handled, 7, 'the port works normally again');
  loop.stop();
});

for (const abi of ['2-level', 'FIFO'] as const) test(`${abi} ABI: while other domains keep an event pending, the loop still lets its handlers' microtasks and the thread's tasks run`, async () => {
  const hv = new Hypervisor();
  const view = hv.dom0.view;
  const loop = new UpcallLoop(view, { pausable: false, onError: (e) => assert.fail(String(e)) });
  if (abi === 'FIFO') await loop.useFifo(hv.dom0Hypercalls);
  // Each event raises the next, as senders in other threads would: the upcall never goes quiet
  // until the thread's tasks have run (or a bound far past when they should have).
  const BOUND = 1_000_000;
  let handled = 0;
  let microtaskAt = -1;
  let immediateAt = -1;
  const done = new Promise<void>((resolve) => {
    loop.on(7, () => {
      handled++;
      if (handled === 1) {
        queueMicrotask(() => (microtaskAt = handled));
        setImmediate(() => (immediateAt = handled));
      }
      if (handled < BOUND && (immediateAt < 0 || handled < immediateAt + 10)) setPending(view, 7);
      else resolve();
    });
  });
  loop.start();
  setPending(view, 7);
  await done;
  loop.stop();
  // A round is one pass over the 2-level bitmaps, or up to the FIFO budget of events.
  assert.ok(microtaskAt >= 1 && microtaskAt <= (abi === 'FIFO' ? 4096 : 1), `the microtask ran after event ${microtaskAt}`);
  assert.ok(immediateAt > 0 && handled < BOUND, `the immediate ran after event ${immediateAt} of ${handled}`);
});
