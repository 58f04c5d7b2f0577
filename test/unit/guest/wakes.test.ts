// A shared pCPU's wakes of sleeping vCPU threads: the first of a pass at once, the rest batched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { MAX_BATCHED_WAKES, PassWakes, WAKE_BATCH_MS } from '../../../src/guest/wakes.js';
import { setPending, setPort, unblockThrough, UPCALL_WORD } from '../../../src/hypervisor/evtchn.js';
import { CB_RUNSTATE, RUNSTATE_blocked } from '../../../src/hypervisor/layout.js';
import { allocateDomainBuffers, DomainView } from '../../../src/hypervisor/memory.js';
import { EVTCHNSTAT_ipi } from '../../../src/abi/event_channel.js';

/** A PassWakes whose notifies are recorded, on a clock the test moves. */
function recorded() {
  const made: [Int32Array, number][] = [];
  const clock = { t: 0 };
  const w = new PassWakes((words, index) => void made.push([words, index]), () => clock.t);
  return { w, made, clock };
}

test("a target's first wake of a pass is made at once; its later ones when the pass is over", () => {
  const { w, made } = recorded();
  const a = new Int32Array(new SharedArrayBuffer(8));
  w.wake(a, 0);
  assert.deepEqual(made, [[a, 0]]);
  w.wake(a, 0);
  w.wake(a, 0);
  w.afterTurn();
  assert.equal(made.length, 1, 'kept while the pass runs');
  w.end();
  assert.deepEqual(made, [[a, 0], [a, 0]], 'one kept wake per target: a second notify would wake nobody more');
  // The next pass starts afresh: its first wake is at once again.
  w.wake(a, 0);
  assert.equal(made.length, 3);
  w.end();
  assert.equal(made.length, 3, 'nothing was kept');
});

test("a first wake of one target does not keep another target's first wake", () => {
  const { w, made } = recorded();
  const dom0 = new Int32Array(new SharedArrayBuffer(8));
  const other = new Int32Array(new SharedArrayBuffer(8));
  w.wake(dom0, 0);
  w.wake(other, 0);
  w.wake(dom0, 1); // the same view, another word: another target
  assert.deepEqual(made, [[dom0, 0], [other, 0], [dom0, 1]]);
  w.wake(other, 0);
  assert.equal(made.length, 3, "the target's second wake is kept");
  w.end();
  assert.deepEqual(made.at(-1), [other, 0]);
});

test('a kept wake waits WAKE_BATCH_MS at most after short turns, counted from the oldest', () => {
  const { w, made, clock } = recorded();
  const a = new Int32Array(new SharedArrayBuffer(8));
  const b = new Int32Array(new SharedArrayBuffer(8));
  w.wake(a, 0);
  w.wake(b, 0);
  clock.t = 1;
  w.wake(a, 0);
  clock.t = 1 + WAKE_BATCH_MS / 2;
  w.wake(b, 0);
  w.afterTurn();
  assert.equal(made.length, 2);
  clock.t = 1 + WAKE_BATCH_MS * 1.01;
  w.afterTurn();
  assert.equal(made.length, 4, 'both kept wakes made once the oldest is due');
  // Still the same pass: the next one is kept again, not made at once.
  w.wake(a, 0);
  assert.equal(made.length, 4);
  w.end();
  assert.equal(made.length, 5);
});

test('a kept wake is made before a turn that may be long, not after it', () => {
  const { w, made } = recorded();
  const a = new Int32Array(new SharedArrayBuffer(8));
  w.wake(a, 0);
  w.wake(a, 0);
  w.beforeTurn(WAKE_BATCH_MS / 4); // a domain whose last turn was short: the wake may wait for it
  assert.equal(made.length, 1);
  w.beforeTurn(30); // one whose last turn took 30 ms: dom0 must not sleep through this one
  assert.equal(made.length, 2);
  w.wake(a, 0);
  w.beforeTurn(Infinity); // a domain's first turn: its length is unknown
  assert.equal(made.length, 3);
  w.beforeTurn(Infinity);
  assert.equal(made.length, 3, 'nothing kept, nothing made');
  w.end();
  assert.equal(made.length, 3);
});

test('a realm that names endless targets gets them woken at once, never an unbounded list', () => {
  const { w, made } = recorded();
  const a = new Int32Array(new SharedArrayBuffer(8));
  for (let i = 0; i < MAX_BATCHED_WAKES * 3; i++) w.wake(a, i);
  assert.equal(made.length, MAX_BATCHED_WAKES * 3, 'every first wake at once');
  for (let i = 0; i < MAX_BATCHED_WAKES * 3; i++) w.wake(a, i);
  // Targets past the tracked ones are woken at once again; the tracked ones are kept, once each.
  assert.equal(made.length, MAX_BATCHED_WAKES * 5);
  for (let i = 0; i < MAX_BATCHED_WAKES; i++) w.wake(a, i);
  w.end();
  assert.equal(made.length, MAX_BATCHED_WAKES * 6);
});

test('hostile arguments: no index is refused, a bad view wakes nothing and breaks nothing', () => {
  const w = new PassWakes();
  assert.throws(() => w.wake(new Int32Array(new SharedArrayBuffer(8)), { valueOf: () => 0 }), TypeError);
  w.wake({}, 0); // the pass's first: made at once, and refused by Atomics.notify quietly
  w.wake(new Int32Array(new SharedArrayBuffer(8)), 99); // out of range
  w.wake(new Float64Array(8), 0); // not an integer view
  w.wake(null, 0);
  w.end();
  // Still works for a real view afterwards.
  const sab = new Int32Array(new SharedArrayBuffer(8));
  w.wake(sab, 0);
  w.end();
});

test('a sleeping vCPU thread is woken through the pCPU: the event reaches it', async () => {
  // The domain as a Pool-0 thread sees it: blocked on its upcall word, woken by a send.
  const view = new DomainView(allocateDomainBuffers(7, { maxGrantFrames: 1, ramFrames: 1, maxEvtchns: 8, initialGrantFrames: 1 }));
  setPort(view, 3, EVTCHNSTAT_ipi, 0, 0);
  const sleeper = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const m = new Int32Array(workerData.memory);
     parentPort.postMessage('waiting');
     const r = Atomics.wait(m, workerData.word, 0, 10000);
     parentPort.postMessage(r);`,
    { eval: true, workerData: { memory: view.buffers.memory, word: UPCALL_WORD } },
  );
  try {
    await new Promise((resolve) => sleeper.once('message', resolve));
    Atomics.store(view.ctl, CB_RUNSTATE, RUNSTATE_blocked);
    const passes = new PassWakes();
    const through: number[] = [];
    unblockThrough((words, index) => {
      through.push(index);
      passes.wake(words, index);
    });
    // Let the sleeper reach its wait (a notify before it would find no waiter; its wait then sees the byte).
    await new Promise((r) => setTimeout(r, 50));
    setPending(view, 3);
    passes.end();
    const got = await new Promise((resolve) => sleeper.once('message', resolve));
    assert.deepEqual(through, [UPCALL_WORD]);
    assert.ok(got === 'ok' || got === 'not-equal', `the sleeper ${String(got)}`);
  } finally {
    unblockThrough((words, index) => void Atomics.notify(words, index, 1));
    await sleeper.terminate();
  }
});
