// xenstored's socket polling window (halt-polling): it grows while requests follow answers
// within the longest window, shrinks to nothing while they come later, and an idle daemon never
// spins. The clock is the test's own, so nothing here depends on how fast the machine is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PollWindow, RUNNABLE_LOOK_MS, runQueueBusy, runnableTasks, SOCKET_POLL_BACKOFF_MS, SOCKET_POLL_MAX_US, SOCKET_POLL_PREEMPTED_US, SOCKET_POLL_START_US,
} from '../../../../src/xenstore/server/poll-window.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A window on a clock the test moves (ms). */
function windowOnClock(busy = (): boolean => false): { w: PollWindow; advanceUs: (us: number) => void } {
  let t = 1000;
  return { w: new PollWindow(SOCKET_POLL_MAX_US, () => t, busy), advanceUs: (us) => { t += us / 1000; } };
}

test('a daemon whose clients answer late never polls', async () => {
  const { w, advanceUs } = windowOnClock();
  for (let i = 0; i < 10; i++) {
    w.answered();
    assert.equal(w.polling, false, 'no window: no polling');
    advanceUs(SOCKET_POLL_MAX_US + 1);
    w.input();
    assert.equal(w.windowUs, 0);
  }
});

/**
 * Answers each followed by a read `afterUs` after polling ended with its window (the read came
 * while the daemon slept); the windows seen after each read.
 */
async function readsAfterWindow(w: PollWindow, advanceUs: (us: number) => void, n: number, afterUs: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < n; i++) {
    w.answered();
    advanceUs(w.windowUs);
    await turn();
    await turn();
    assert.equal(w.polling, false, `answer ${i}: polling ended with its window`);
    advanceUs(afterUs);
    w.input();
    seen.push(w.windowUs);
  }
  return seen;
}

test('requests that follow answers soon grow the window up to its bound; polling ends with the window', async () => {
  const { w, advanceUs } = windowOnClock();
  const seen = await readsAfterWindow(w, advanceUs, 8, 0);
  assert.equal(seen[0], SOCKET_POLL_START_US);
  assert.ok(seen.every((us, i) => i === 0 || us >= seen[i - 1]!), `never shrinks: ${seen}`);
  assert.equal(seen.at(-1), SOCKET_POLL_MAX_US, `bounded: ${seen}`);
});

test('a read during the window keeps it; late reads shrink it to nothing', async () => {
  const { w, advanceUs } = windowOnClock();
  await readsAfterWindow(w, advanceUs, 8, 0);
  assert.equal(w.windowUs, SOCKET_POLL_MAX_US);
  w.answered();
  assert.equal(w.polling, true, 'polls after an answer');
  advanceUs(5);
  w.input();
  assert.equal(w.windowUs, SOCKET_POLL_MAX_US, 'a read while polling changes nothing');
  const seen = await readsAfterWindow(w, advanceUs, 8, 10 * SOCKET_POLL_MAX_US);
  assert.ok(seen.every((us, i) => us < (i === 0 ? SOCKET_POLL_MAX_US : seen[i - 1]!) || us === 0), `shrinks: ${seen}`);
  assert.equal(w.windowUs, 0, 'shrunk to nothing');
  w.answered();
  assert.equal(w.polling, false, 'and the daemon sleeps at once');
});

test('a preempted pass of the polling loop stops polling for a while', async () => {
  const { w, advanceUs } = windowOnClock();
  await readsAfterWindow(w, advanceUs, 8, 0);
  assert.equal(w.windowUs, SOCKET_POLL_MAX_US);
  w.answered();
  assert.equal(w.polling, true);
  // The thread lost its CPU in the middle of the window.
  advanceUs(SOCKET_POLL_PREEMPTED_US);
  await turn();
  assert.equal(w.polling, false, 'polling stopped');
  assert.equal(w.windowUs, 0);
  // Reads that come soon do not bring it back during the back-off...
  const during = await readsAfterWindow(w, advanceUs, 5, 1);
  assert.deepEqual(during, [0, 0, 0, 0, 0]);
  // ...but do after it.
  advanceUs(SOCKET_POLL_BACKOFF_MS * 1000);
  const after = await readsAfterWindow(w, advanceUs, 3, 1);
  assert.equal(after[0], SOCKET_POLL_START_US);
  assert.ok(after[2]! > after[0]!, `grows again: ${after}`);
});

test('no polling while other tasks want the CPUs; the window still follows the client', async () => {
  let busy = false;
  const { w, advanceUs } = windowOnClock(() => busy);
  await readsAfterWindow(w, advanceUs, 8, 0);
  busy = true;
  for (let i = 0; i < 4; i++) {
    w.answered();
    assert.equal(w.polling, false, 'sleeps at once');
    advanceUs(1);
    w.input();
  }
  assert.equal(w.windowUs, SOCKET_POLL_MAX_US, 'kept: the client still answers soon');
  busy = false;
  w.answered();
  assert.equal(w.polling, true, 'polls again once the CPUs are free');
  advanceUs(SOCKET_POLL_MAX_US);
  await turn();
  assert.equal(w.polling, false);
});

test("the run queue is read from /proc/loadavg's fourth field", () => {
  assert.equal(runnableTasks('22.58 19.46 19.01 12/436 22256\n'), 12);
  assert.equal(runnableTasks('0.00 0.01 0.05 1/80 7'), 1);
  assert.ok(Number.isNaN(runnableTasks('')));
  assert.ok(Number.isNaN(runnableTasks('garbage 1/2')));
});

test('the CPUs are busy while more tasks are runnable than there are CPUs; the run queue is read once per look', () => {
  let t = 0;
  let text = '1.00 1.00 1.00 3/100 1';
  let reads = 0;
  const busy = runQueueBusy(() => (reads++, text), 2, () => t);
  assert.equal(busy(), true, '3 runnable on 2 CPUs');
  text = '1.00 1.00 1.00 2/100 1';
  assert.equal(busy(), true, 'the last look holds...');
  assert.equal(reads, 1);
  t += RUNNABLE_LOOK_MS;
  assert.equal(busy(), false, '...until the next: 2 runnable on 2 CPUs');
  assert.equal(reads, 2);
  text = 'garbage';
  t += RUNNABLE_LOOK_MS;
  assert.equal(busy(), true, 'a text without a run queue: busy');
});

test('a run queue that cannot be read means busy, without an exception and without trying again at every look', () => {
  let t = 0;
  let reads = 0;
  const busy = runQueueBusy(() => {
    reads++;
    throw Object.assign(new Error('EBADF: bad file descriptor, read'), { code: 'EBADF' });
  }, 64, () => t);
  for (let i = 0; i < 10; i++, t += RUNNABLE_LOOK_MS) assert.equal(busy(), true);
  assert.equal(reads, 1, 'read once');
});
