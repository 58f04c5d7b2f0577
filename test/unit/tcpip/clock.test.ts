import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clockFromTime, DeadlineClock, TimerSlot } from '../../../src/tcpip/clock.js';
import { ManualClock } from '../../support/tcpip-link.js';

test('clockFromTime: now in ms from the monotonic clock; one sleep for the earliest deadline; cancelled timers do not fire', async () => {
  let ns = 5_000_000n;
  const sleeps: { ms: number; wake: () => void; signal: AbortSignal | undefined }[] = [];
  const clock = clockFromTime({
    monotonicMs: () => Number(ns) / 1e6,
    sleep: (ms, opts) => new Promise((wake) => sleeps.push({ ms, wake, signal: opts?.signal })),
  });
  const tick = () => new Promise((r) => setImmediate(r));
  assert.equal(clock.now(), 5);
  ns = 7_500_000n;
  assert.equal(clock.now(), 7.5);
  const fired: string[] = [];
  clock.setTimer(10, () => fired.push('a'));
  const b = clock.setTimer(20, () => fired.push('b'));
  clock.setTimer(30, () => fired.push('c'));
  b.cancel();
  assert.deepEqual(sleeps.map((s) => s.ms), [10], 'later deadlines ride on the sleep already there');
  clock.setTimer(5, () => fired.push('d'));
  assert.deepEqual(sleeps.map((s) => s.ms), [10, 5], 'an earlier deadline moves the sleep');
  assert.equal(sleeps[0]!.signal?.aborted, true);
  ns = 12_500_000n;
  sleeps[1]!.wake();
  await tick();
  assert.deepEqual(fired, ['d']);
  assert.deepEqual(sleeps.map((s) => s.ms), [10, 5, 5], 'then a sleep for the next deadline (a at 17.5)');
  ns = 37_500_000n;
  sleeps[2]!.wake();
  await tick();
  assert.deepEqual(fired, ['d', 'a', 'c'], 'everything due, in deadline order; b was cancelled');
  assert.equal(sleeps.length, 3, 'nothing armed, no sleep');
});

test('DeadlineClock and TimerSlot: re-arming and clearing per segment cost no timer; a later deadline waits on the timer there; the last cancel lets the host timer go', async () => {
  const host: { ms: number; cancelled: boolean; fn: () => void }[] = [];
  let now = 0;
  const clock = new DeadlineClock(() => now, (ms, fn) => {
    const h = { ms, cancelled: false, fn };
    host.push(h);
    return { cancel: () => { h.cancelled = true; } };
  });
  const slot = new TimerSlot(clock);
  let fired = 0;
  for (let i = 0; i < 10_000; i++) {
    now = i / 100;
    slot.arm(200, () => fired++);
    if (i % 2 === 0) slot.clear();
  }
  assert.equal(host.length, 1, 'one host timer for 10,000 arms');
  assert.equal(clock.pending, 1, 'and one clock timer: each later deadline waits on the one there');
  now = 150;
  host[0]!.fn();
  assert.equal(fired, 0, 'woken before the deadline: nothing fires');
  assert.equal(host[1]!.ms, 50, 'the host timer for the clock timer at 200');
  now = 200;
  host[1]!.fn();
  assert.equal(fired, 0, 'the slot\'s deadline moved on meanwhile: nothing fires');
  assert.ok(Math.abs(host[2]!.ms - 99.99) < 1e-6, 'the clock timer waits on for the live deadline');
  slot.clear();
  assert.equal(clock.pending, 1, 'a clear leaves the clock timer to find nothing due');
  now = 299.99;
  host[2]!.fn();
  assert.equal(fired, 0);
  assert.equal(clock.pending, 0);
  assert.equal(host.length, 3, 'nothing armed, no host timer');
  slot.arm(10, () => fired++);
  assert.equal(host.length, 4);
  slot.cancel();
  assert.equal(clock.pending, 0, 'a cancel takes the clock timer away');
  assert.equal(host[3]!.cancelled, false, 'not within the turn: TCP cancels and re-arms in one go');
  await Promise.resolve();
  assert.equal(host[3]!.cancelled, true, 'idle: no host timer left');
  slot.arm(5, () => fired++);
  now = 305;
  host[4]!.fn();
  assert.equal(fired, 1, 'a deadline that came earlier moved the clock timer, and fires');
});

test('TimerSlot: arming again replaces the pending timer; ensure keeps an earlier deadline', () => {
  const clock = new ManualClock();
  const slot = new TimerSlot(clock);
  const fired: number[] = [];
  slot.arm(10, () => fired.push(1));
  slot.arm(20, () => fired.push(2));
  slot.ensure(5, () => fired.push(3));
  clock.advanceTo(30);
  assert.deepEqual(fired, [2]);
  assert.equal(slot.armed, false);
});

test("TimerSlot.due: the live deadline, which a later arm moves on (TCP's snapshot carries it as rtxInMs)", () => {
  let now = 10;
  const clock = new DeadlineClock(() => now, () => ({ cancel() {} }));
  const slot = new TimerSlot(clock);
  slot.arm(200, () => {});
  assert.equal(slot.due, 210);
  now = 50;
  slot.arm(200, () => {});
  assert.equal(slot.due, 250, 'moved on, though the clock timer stays at 210');
  slot.ensure(5, () => {});
  assert.equal(slot.due, 250, 'ensure() leaves an armed deadline');
});
