// exitCode(): a thread's end is seen even when its last message and its end are handled in one task.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { within } from '../support/hypervisor.js';
import { exitCode } from '../support/thread-end.js';

test("a thread's end, listened for from its start, is seen when its answer and its end come in one task; listened for after the answer, it is missed", { skip: !existsSync('/proc/thread-self') && 'no /proc thread ids here' }, async () => {
  // The thread posts an answer and ends while this thread is blocked, as under load: this
  // thread reads the answer only once the other is gone (its /proc entry removed).
  const tid = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const tid = new Int32Array(workerData);
     Atomics.store(tid, 0, Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()));
     Atomics.notify(tid, 0);
     parentPort.postMessage('answer');`,
    { eval: true, workerData: tid.buffer },
  );
  const exited = exitCode(worker);
  assert.notEqual(Atomics.wait(tid, 0, 0, 20_000), 'timed-out', 'the thread started');
  for (const end = performance.now() + 20_000; existsSync(`/proc/self/task/${tid[0]}`);) assert.ok(performance.now() < end, 'the thread ended');

  assert.equal(await within(new Promise((r) => worker.once('message', r)), 'the answer'), 'answer');
  assert.equal(worker.threadId, -1, "the answer's await resumed after Node had handled the end and emitted 'exit'");
  let lateEnd = false;
  worker.once('exit', () => (lateEnd = true));
  assert.equal(await within(exited, 'the end'), 0, 'the end listened for from the start is seen');
  await new Promise((r) => setImmediate(r));
  assert.equal(lateEnd, false, "an 'exit' listener added after the answer is never called: the old warm-up tests' 'hang'");
});
