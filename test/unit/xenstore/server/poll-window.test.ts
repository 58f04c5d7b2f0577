// xenstored's socket polling window (halt-polling): it grows while requests follow answers
// within the longest window, shrinks to nothing while they come later, and an idle daemon never
// spins. The clock is the test's own, so nothing here depends on how fast the machine is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PollWindow, GATE_LOOK_MS, runDelayBusy, schedTimes, SOCKET_POLL_BACKOFF_MS, SOCKET_POLL_MAX_US, SOCKET_POLL_PREEMPTED_US, SOCKET_POLL_START_US, WAIT_SHARE_BUSY,
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

test("a thread's time on a CPU and its waits are read from schedstat's first two fields", () => {
  assert.deepEqual(schedTimes('109804 3865 2\n'), { onCpuNs: 109804, waitNs: 3865 });
  assert.ok(Number.isNaN(schedTimes('').waitNs));
  assert.ok(Number.isNaN(schedTimes('garbage 1 2').waitNs));
});

/** A schedstat the test moves: `step(onCpuUs, waitUs)` adds to the thread's times and advances the clock one look. */
function schedOnClock(): { read: () => string; now: () => number; step: (onCpuUs: number, waitUs: number) => void; reads: () => number } {
  let t = 0;
  let onCpuNs = 5_000_000;
  let waitNs = 70_000;
  let reads = 0;
  return {
    read: () => (reads++, `${onCpuNs} ${waitNs} 1234\n`),
    now: () => t,
    step: (onCpuUs, waitUs) => {
      onCpuNs += onCpuUs * 1000;
      waitNs += waitUs * 1000;
      t += GATE_LOOK_MS;
    },
    reads: () => reads,
  };
}

test('the CPU is free while the thread seldom waits for it, busy while it waits for a good share of the time it wants it', () => {
  const s = schedOnClock();
  const busy = runDelayBusy(s.read, s.now);
  assert.equal(busy(), false, 'no evidence yet: free');
  for (let i = 0; i < 40; i++) {
    s.step(2000, 2000 * WAIT_SHARE_BUSY * 0.5);
    assert.equal(busy(), false, `look ${i}: waits of half the bound`);
  }
  let looks = 0;
  while (!busy()) {
    s.step(2000, 2000);
    assert.ok(++looks < 10, 'waiting half the time turns the gate soon');
  }
  for (let i = 0; i < 10; i++) {
    s.step(3000, 3000);
    assert.equal(busy(), true, `look ${i}: still waiting half the time`);
  }
  looks = 0;
  while (busy()) {
    s.step(3000, 0);
    assert.ok(++looks < 100, 'no more waits: free again within a few half-lives');
  }
});

test('one preemption among quiet looks does not close the gate; a thread that mostly sleeps is judged by its waits over its own CPU time', () => {
  const s = schedOnClock();
  const busy = runDelayBusy(s.read, s.now);
  busy();
  for (let i = 0; i < 40; i++) {
    s.step(2000, 20);
    busy();
  }
  s.step(2000, 1000);
  assert.equal(busy(), false, 'a 1 ms wait after 200 ms of 1% waits');
  // A daemon that sleeps between rare requests: little CPU time, but it waits as long as it runs.
  for (let i = 0; i < 40; i++) s.step(20, 20);
  s.step(20, 20);
  assert.equal(busy(), true, 'busy by the share, whatever the wall time');
});

test('the schedstat is read once per look', () => {
  const s = schedOnClock();
  const busy = runDelayBusy(s.read, s.now);
  for (let i = 0; i < 5; i++) busy();
  assert.equal(s.reads(), 1);
  s.step(0, 0);
  busy();
  busy();
  assert.equal(s.reads(), 2);
});

test('a schedstat that cannot be read, or makes no sense, means busy for good, read once, without an exception', () => {
  for (const read of [
    () => { throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' }); },
    () => 'garbage',
  ]) {
    let t = 0;
    let reads = 0;
    const busy = runDelayBusy(() => (reads++, read()), () => t);
    for (let i = 0; i < 10; i++, t += GATE_LOOK_MS) assert.equal(busy(), true);
    assert.equal(reads, 1, 'read once');
  }
});
