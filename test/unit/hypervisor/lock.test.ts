// The robust shared-memory mutex: exclusion between real threads, the owner's thread in the
// word, and what a waiter gets when the owner died holding it or never lets go.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { breakAbandoned, lock, POISONED, resetLock, unlock } from '../../../src/hypervisor/lock.js';
import { currentThreadId } from '../../../src/hypervisor/thread.js';
import { exitCode } from '../../support/thread-end.js';

const LOCK_URL = new URL('../../../src/hypervisor/lock.js', import.meta.url).href;

/** A thread that runs `body` with `lock`, `unlock` and `w` (an Int32Array over `sab`) in scope. */
function thread(sab: SharedArrayBuffer, body: string): Worker {
  return new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    import(${JSON.stringify(LOCK_URL)}).then(({ lock, unlock }) => {
      const w = new Int32Array(workerData);
      ${body}
    });`, { eval: true, workerData: sab });
}

const message = (w: Worker) => new Promise((resolve) => w.once('message', resolve));

test('the word holds its owner thread while locked, and nothing once unlocked', { skip: currentThreadId() === undefined && 'no /proc thread ids here' }, () => {
  const w = new Int32Array(new SharedArrayBuffer(8));
  lock(w, 1);
  assert.equal(w[1], currentThreadId());
  unlock(w, 1);
  assert.equal(w[1], 0);
});

test('threads exclude each other: no increment is lost', async () => {
  const sab = new SharedArrayBuffer(8);
  const ROUNDS = 20_000;
  const body = `for (let i = 0; i < ${ROUNDS}; i++) { lock(w, 0); w[1] = w[1] + 1; unlock(w, 0); } parentPort.postMessage('done');`;
  const workers = [thread(sab, body), thread(sab, body)];
  await Promise.all(workers.map(message));
  assert.equal(new Int32Array(sab)[1], 2 * ROUNDS);
  await Promise.all(workers.map((w) => w.terminate()));
});

test('a thread that dies holding the lock: the waiter is told the owner died (EOWNERDEAD), later ones that it is not recoverable, until it is reset', { skip: currentThreadId() === undefined && 'no /proc thread ids here' }, async () => {
  const sab = new SharedArrayBuffer(8);
  const w = new Int32Array(sab);
  const t = thread(sab, `lock(w, 0); parentPort.postMessage('held'); setImmediate(() => process.exit(0));`);
  const exited = exitCode(t); // from its start: it may end before its 'held' is read
  await message(t);
  // Blocks this thread until the owner is seen gone (bounded: 30 s would be ETIMEDOUT).
  assert.throws(() => lock(w, 0, 30_000), { name: 'LockError', state: 'owner-dead', errno: 'EDEADLK' });
  assert.equal(w[0], POISONED);
  assert.throws(() => lock(w, 0), { name: 'LockError', state: 'not-recoverable' });
  await exited;
  resetLock(w, 0);
  lock(w, 0);
  unlock(w, 0);
});

test('an owner that holds the lock past the bound: timed out, and the lock stays its owner', async () => {
  const sab = new SharedArrayBuffer(8);
  const w = new Int32Array(sab);
  const t = thread(sab, `lock(w, 0); parentPort.postMessage('held'); setImmediate(() => { for (;;); });`);
  await message(t);
  const held = w[0];
  assert.throws(() => lock(w, 0, 100), { name: 'LockError', state: 'timed-out', errno: 'ETIMEDOUT' });
  assert.equal(w[0] & ~(1 << 30), held);
  await t.terminate();
});

// A destroy frees the locks a dead thread left (breakAbandoned): only those, judged on one load.
test("breakAbandoned frees a dead owner's lock (waiters bit or not) and a poisoned one; never a free one, a live owner's or an unknown owner's", { skip: currentThreadId() === undefined && 'no /proc thread ids here' }, async () => {
  const WAITERS = 1 << 30;
  const UNKNOWN_OWNER = WAITERS - 1;
  const w = new Int32Array(new SharedArrayBuffer(8));
  assert.equal(breakAbandoned(w, 0), false, 'free');
  assert.equal(w[0], 0);
  lock(w, 0);
  const mine = w[0]!;
  assert.equal(breakAbandoned(w, 0), false, 'held by this live thread');
  w[0] = mine | WAITERS;
  assert.equal(breakAbandoned(w, 0), false, 'held by this live thread, with waiters');
  assert.equal(w[0], mine | WAITERS);
  for (const v of [UNKNOWN_OWNER, UNKNOWN_OWNER | WAITERS]) {
    w[0] = v;
    assert.equal(breakAbandoned(w, 0), false, 'an owner whose thread id is unknown is never judged dead');
    assert.equal(w[0], v);
  }
  w[0] = POISONED;
  assert.equal(breakAbandoned(w, 0), true, 'poisoned');
  assert.equal(w[0], 0);
  // A thread that took it and ended.
  const t = thread(w.buffer as SharedArrayBuffer, `lock(w, 0); parentPort.postMessage(w[0]); setImmediate(() => process.exit(0));`);
  const exited = exitCode(t);
  const dead = (await message(t)) as number;
  await exited;
  for (const v of [dead, dead | WAITERS]) {
    w[0] = v;
    let broken = false;
    // Until the kernel has let the thread go (bounded).
    for (let i = 0; i < 500 && !broken; i++) {
      broken = breakAbandoned(w, 0);
      if (!broken) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(broken, true, `dead owner ${v.toString(16)}`);
    assert.equal(w[0], 0);
  }
});
