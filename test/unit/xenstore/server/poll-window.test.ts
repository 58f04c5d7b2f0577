// xenstored's socket polling window (halt-polling): it grows while requests follow answers
// within the longest window, shrinks to nothing while they come later, and an idle daemon never
// spins. The clock is the test's own, so nothing here depends on how fast the machine is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PollWindow, SOCKET_POLL_MAX_US, SOCKET_POLL_START_US } from '../../../../src/xenstore/server/poll-window.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A window on a clock the test moves (ms). */
function windowOnClock(): { w: PollWindow; advanceUs: (us: number) => void } {
  let t = 1000;
  return { w: new PollWindow(SOCKET_POLL_MAX_US, () => t), advanceUs: (us) => { t += us / 1000; } };
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

/** Answers each followed by a read as the window ends (after polling stopped); the windows seen. */
async function readsAtWindowEnd(w: PollWindow, advanceUs: (us: number) => void, n: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < n; i++) {
    w.answered();
    // Past the window (the longest window's end at most): polling stops at the next turn, and
    // the read comes while the daemon sleeps.
    advanceUs(Math.min(w.windowUs + 1, SOCKET_POLL_MAX_US));
    await turn();
    await turn();
    assert.equal(w.polling, false, `answer ${i}: polling ended with its window`);
    w.input();
    seen.push(w.windowUs);
  }
  return seen;
}

test('requests that follow answers soon grow the window up to its bound; polling ends with the window', async () => {
  const { w, advanceUs } = windowOnClock();
  const seen = await readsAtWindowEnd(w, advanceUs, 8);
  assert.equal(seen[0], SOCKET_POLL_START_US);
  assert.ok(seen.every((us, i) => i === 0 || us >= seen[i - 1]!), `never shrinks: ${seen}`);
  assert.equal(seen.at(-1), SOCKET_POLL_MAX_US, `bounded: ${seen}`);
});

test('a read during the window keeps it; late reads shrink it to nothing', async () => {
  const { w, advanceUs } = windowOnClock();
  await readsAtWindowEnd(w, advanceUs, 8);
  assert.equal(w.windowUs, SOCKET_POLL_MAX_US);
  w.answered();
  assert.equal(w.polling, true, 'polls after an answer');
  advanceUs(5);
  w.input();
  assert.equal(w.windowUs, SOCKET_POLL_MAX_US, 'a read while polling changes nothing');
  for (let i = 0; i < 8 && w.windowUs > 0; i++) {
    w.answered();
    advanceUs(10 * SOCKET_POLL_MAX_US);
    await turn();
    assert.equal(w.polling, false);
    w.input();
  }
  assert.equal(w.windowUs, 0, 'shrunk to nothing');
  w.answered();
  assert.equal(w.polling, false, 'and the daemon sleeps at once');
});
