// A thread's state as the OS sees it: running (or runnable) versus asleep; a thread reniced
// from outside however its code behaves (a migrated guest's boost, sched.ts RESUME_BOOST_MS).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ThreadState, currentThreadId } from '../../../src/hypervisor/thread.js';

const linux = currentThreadId() !== undefined;

/** A worker that reports its thread id and then sleeps in Atomics.wait until told, then spins. */
const CODE = `
const { parentPort } = require('node:worker_threads');
const { readlinkSync } = require('node:fs');
parentPort.once('message', (word) => {
  parentPort.postMessage(Number(/task\\/([0-9]+)$/.exec(readlinkSync('/proc/thread-self'))[1]));
  Atomics.wait(word, 0, 0);
  for (;;) {}
});`;

test('a thread asleep is not runnable; one that spins is; a closed reader tells nothing', { skip: !linux && 'needs /proc (Linux)', timeout: 20_000 }, async () => {
  const self = ThreadState.open(currentThreadId()!)!;
  assert.equal(self.runnable(), true, 'the thread reading its own state is running');
  self.close();
  assert.equal(self.runnable(), undefined);

  const word = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(CODE, { eval: true });
  try {
    const tid = await new Promise<number>((resolve) => {
      w.once('message', resolve);
      w.postMessage(word);
    });
    const state = ThreadState.open(tid)!;
    // Asleep in Atomics.wait: sampled until seen so (it may not have reached the wait yet).
    let asleep = false;
    for (let i = 0; i < 200 && !asleep; i++) {
      asleep = state.runnable() === false;
      if (!asleep) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(asleep, 'never seen asleep');
    Atomics.store(word, 0, 1);
    Atomics.notify(word, 0);
    let spinning = false;
    for (let i = 0; i < 200 && !spinning; i++) {
      spinning = state.runnable() === true;
      if (!spinning) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(spinning, 'never seen running');
    await w.terminate();
    assert.equal(state.runnable(), undefined, 'a thread that is gone');
    state.close();
  } finally {
    await w.terminate();
  }
});

/** Thread `tid`'s nice value (field 19 of its stat). */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

test('a thread that spins is reniced from outside once the time is up; a cancelled renice never comes, nor one whose reader closed (its thread ended)', { skip: !linux && 'needs /proc (Linux)', timeout: 20_000 }, async (t) => {
  const runner = niceOf(currentThreadId()!);
  if (runner >= 19) {
    const why = `this runner's nice is ${runner}: no higher value to renice to`;
    t.diagnostic(why);
    return t.skip(why);
  }
  const spinners = [0, 1, 2].map(() => new Worker(CODE, { eval: true }));
  try {
    const tids = await Promise.all(spinners.map((w) => new Promise<number>((resolve) => {
      w.once('message', resolve);
      const word = new Int32Array(new SharedArrayBuffer(4));
      w.postMessage(word);
      Atomics.store(word, 0, 1); // it spins from the start: only another thread can lower it
      Atomics.notify(word, 0);
    })));
    const [lowered, kept, ended] = tids as [number, number, number];
    const before = niceOf(lowered);
    assert.equal(niceOf(kept), before);
    assert.equal(niceOf(ended), before);
    const goal = Math.min(19, before + 7);
    const readers = [ThreadState.open(lowered)!, ThreadState.open(kept)!];
    t.after(() => readers.forEach((r) => r.close()));
    readers[0]!.reniceLater(goal, 30);
    readers[1]!.reniceLater(goal, 30)();
    // Its reader reads nothing, as once a thread has ended (its id may be another's by then).
    const closed = ThreadState.open(ended)!;
    closed.reniceLater(goal, 30);
    closed.close();
    let seen = niceOf(lowered);
    for (let i = 0; i < 400 && seen !== goal; i++) {
      await new Promise((r) => setTimeout(r, 5));
      seen = niceOf(lowered);
    }
    assert.equal(seen, goal, 'the spinning thread was not reniced');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(niceOf(kept), before, 'a cancelled renice came');
    assert.equal(niceOf(ended), before, 'a thread whose reader reads nothing was reniced');
  } finally {
    await Promise.all(spinners.map((w) => w.terminate()));
  }
});
