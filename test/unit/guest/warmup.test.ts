// The warm-ups: a pool thread's while it waits, the whole boot path (upcalls, console,
// a xenstore request and its reply) on scratch memory; a vif shell's, its TCP/IP stack's; an
// incoming migration's, its stack's resume path. None leaves anything running behind it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { warmStackResume } from '../../../src/guest/warmup.js';
import * as stackModule from '../../../src/tcpip/stack.js';
import { within } from '../../support/hypervisor.js';
import { exitCode } from '../../support/thread-end.js';

const WARMUP = new URL('../../../src/guest/warmup.js', import.meta.url).href;
const CLOCK = new URL('../../../src/tcpip/clock.js', import.meta.url).href;
const STACK = new URL('../../../src/tcpip/stack.js', import.meta.url).href;
const ADDR = new URL('../../../src/tcpip/addr.js', import.meta.url).href;

/**
 * First in each thread's code: what its loop holds, every 5 s (unref'd: the reports keep nothing
 * alive), and that its loop ended (process 'exit').
 */
const REPORTER = `setInterval(() => require('node:worker_threads').parentPort.postMessage({ held: process.getActiveResourcesInfo() }), 5_000).unref();
  process.on('exit', () => require('node:worker_threads').parentPort.postMessage({ held: 'ended' }));`;
const isReport = (m: unknown) => typeof m === 'object' && m !== null && 'held' in m;

/** The thread's first message that is not a report. */
async function result<T>(worker: Worker, what: string): Promise<T> {
  return within(new Promise<T>((resolve) => worker.on('message', (m: T) => void (isReport(m) || resolve(m)))), what);
}

/**
 * Watches the thread from its start (call it as the thread is made): exited() is its exit code
 * once it ends by itself. If it has not within 20 s, the error says what its loop held at its
 * last report, 'ended' if its loop ended, or 'no report' if it never reported. Both are listened
 * for before the warm-up's answer is awaited (exitCode says why): listened for after it, the end
 * of a thread that answered and ended before this thread read the answer was missed, 'no
 * report' after 20 s (1 run of the file in 8 at load 6-11, 16 in 40 at load 6-7 with 4 busy loops).
 */
function watch(worker: Worker): { exited(what: string): Promise<number> } {
  let held: unknown = 'no report';
  worker.on('message', (m: { held?: unknown }) => void (isReport(m) && (held = m.held)));
  const code = exitCode(worker);
  return {
    async exited(what) {
      try {
        return await within(code, what);
      } catch (e) {
        throw new Error(`${(e as Error).message}; its loop held ${JSON.stringify(held)}`);
      }
    },
  };
}

test('a warm-up runs every step of the boot path, and leaves no handle that keeps its thread alive', async () => {
  // In a thread of its own, as in the vCPU pool: the thread ends by itself only if the warm-up
  // left no timer or other handle behind.
  const worker = new Worker(
    `${REPORTER}
     const { parentPort } = require('node:worker_threads');
     import(${JSON.stringify(WARMUP)}).then(async (m) => parentPort.postMessage(await m.warmUp()));`,
    { eval: true },
  );
  const thread = watch(worker);
  const completed = await result<boolean>(worker, 'the warm-up');
  assert.equal(completed, true, 'the scratch xenstore reply was read: the warm-up went through');
  assert.equal(await thread.exited('the warmed-up thread to exit by itself'), 0);
});

test("a shell's stack warm-up carries a request and its answer between two stacks in memory, and leaves nothing running", async () => {
  const worker = new Worker(
    `${REPORTER}
     const { parentPort } = require('node:worker_threads');
     Promise.all([import(${JSON.stringify(WARMUP)}), import(${JSON.stringify(CLOCK)})])
       .then(async ([m, c]) => parentPort.postMessage(await m.warmUpStack(new c.DeadlineClock(() => performance.now(), (ms, fn) => {
         const t = setTimeout(fn, ms);
         return { cancel: () => clearTimeout(t) };
       }))));`,
    { eval: true },
  );
  const thread = watch(worker);
  const completed = await result<boolean>(worker, 'the stack warm-up');
  assert.equal(completed, true, 'the client read the answer and the close: every step ran');
  assert.equal(await thread.exited('the thread to exit by itself (no timer of the stacks left)'), 0);
});

test("a shell's stack warm-up whose thread is held up past its bound while the stack loads still leaves nothing running", async () => {
  // The thread is busy for longer than the bound (WARM_STACK_MS) right after the warm-up starts,
  // as under load: the bound's timer is due before the stack's modules are loaded. Once they
  // are (the same modules, imported here too) and the steps had their turn, no timer of theirs
  // is armed: the stacks made after the bound did nothing (a connect's ARP retries held the
  // thread some 3 s more before).
  const worker = new Worker(
    `${REPORTER}
     const { parentPort } = require('node:worker_threads');
     Promise.all([import(${JSON.stringify(WARMUP)}), import(${JSON.stringify(CLOCK)})]).then(async ([m, c]) => {
       const clock = new c.DeadlineClock(() => performance.now(), (ms, fn) => {
         const t = setTimeout(fn, ms);
         return { cancel: () => clearTimeout(t) };
       });
       const done = m.warmUpStack(clock);
       for (const end = performance.now() + 1500; performance.now() < end;);
       const completed = await done;
       await Promise.all([import(${JSON.stringify(STACK)}), import(${JSON.stringify(ADDR)})]);
       for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
       parentPort.postMessage({ completed, pending: clock.pending });
     });`,
    { eval: true },
  );
  const thread = watch(worker);
  const late = await result<{ completed: boolean; pending: number }>(worker, 'the stack warm-up');
  assert.deepEqual(late, { completed: false, pending: 0 }, 'the bound ran out first, and nothing the steps did after it is waiting on the clock');
  assert.equal(await thread.exited('the thread to exit by itself (no stack made after the bound left running)'), 0);
});

test('the stack\'s resume path and the first answers after it run once on scratch stacks (an incoming migration\'s parked runtime), and every scratch socket is quiet', async () => {
  const errors: unknown[] = [];
  const onError = (e: unknown) => errors.push(e);
  process.on('uncaughtException', onError);
  try {
    // Bounded to catch a hang only: the runtime's bound (1 s) is the warm-up's, and a loaded machine
    // (load 13 on 2 cores) took 1.3 s for these steps; that the bound stops them is tested above.
    assert.equal(await warmStackResume(stackModule, undefined, 60_000), true, 'every step ran: answers, a freeze with one lost each way, a restore, the lost answer sent again, a request out of order and the lost one, all answered');
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('uncaughtException', onError);
  }
  assert.deepEqual(errors, []);
});
