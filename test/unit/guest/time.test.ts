// The guest's clock and sleepers: one set_timer_op deadline for the earliest sleeper, and
// VIRQ_TIMER wakes those that are due. The timer interrupt is delivered by hand here, so
// nothing depends on how fast the machine is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Hypercalls } from '../../../src/hypervisor/hypercalls.js';
import { GuestTime } from '../../../src/guest/time.js';

/** A guest clock whose set_timer_op calls are recorded. */
function clock(): { time: GuestTime; armed: number[] } {
  const armed: number[] = [];
  const hc = { setTimer: (at: number) => void armed.push(at) } as unknown as Hypercalls;
  return { time: new GuestTime(hc), armed };
}

/** Which of `sleeps` have resolved, after the microtasks of a wake-up have run. */
async function woken(sleeps: Promise<unknown>[]): Promise<boolean[]> {
  const done = sleeps.map(() => false);
  sleeps.forEach((s, i) => void s.then(() => (done[i] = true)));
  await new Promise((r) => setImmediate(r));
  return done;
}

test('the timer is armed for the earliest sleeper, and a later sleeper does not re-arm it', () => {
  const { time, armed } = clock();
  const before = performance.now();
  void time.sleep(60_000);
  assert.equal(armed.length, 1);
  assert.ok(armed[0]! >= before + 60_000, 'armed for the deadline, in performance.now() ms');
  void time.sleep(120_000);
  assert.equal(armed.length, 1, 'a later deadline leaves the timer alone');
  void time.sleep(30_000);
  assert.equal(armed.length, 2);
  assert.ok(armed[1]! < armed[0]!, 're-armed for the new earliest deadline');
});

test('VIRQ_TIMER wakes the sleepers that are due, in deadline order, and re-arms for the next one', async () => {
  const { time, armed } = clock();
  const order: string[] = [];
  const late = time.sleep(60_000).then(() => order.push('late'));
  const b = time.sleep(1).then(() => order.push('b'));
  const a = time.sleep(0).then(() => order.push('a'));
  // Past both short deadlines without relying on timers: wait until performance.now() has moved on.
  const t = performance.now() + 2;
  while (performance.now() < t) await new Promise((r) => setImmediate(r));
  armed.length = 0;
  time.onTimer();
  assert.deepEqual(await woken([a, b, late]), [true, true, false]);
  assert.deepEqual(order, ['a', 'b']);
  assert.equal(armed.length, 1, 'the timer is armed again for the sleeper that is left');
  assert.ok(armed[0]! > performance.now() + 50_000);
});

test('a timer interrupt with nobody due wakes nobody, and the next deadline stays armed', async () => {
  const { time, armed } = clock();
  const s = time.sleep(60_000);
  armed.length = 0;
  // The hypervisor's timer may fire a little before performance.now() reaches the deadline.
  time.onTimer();
  assert.deepEqual(await woken([s]), [false], 'an early VIRQ_TIMER wakes nobody');
  assert.equal(armed.length, 1, 'and arms the timer again, which has fired: else the sleeper would never wake');
  const z = time.sleep(0);
  await new Promise((r) => setImmediate(r));
  armed.length = 0;
  time.onTimer();
  assert.deepEqual(await woken([z, s]), [true, false]);
  assert.equal(armed.length, 1, 'armed again once the timer fired');
  assert.ok(armed[0]! > performance.now() + 50_000, 'for the 60 s sleeper that is left');
});

test('a bad duration is refused; the clocks move forward', async () => {
  const { time, armed } = clock();
  await assert.rejects(time.sleep(-1), RangeError);
  await assert.rejects(time.sleep(Number.NaN), RangeError);
  await assert.rejects(time.sleep(Infinity), RangeError);
  assert.deepEqual(armed, [], 'nothing armed for a refused sleep');
  const m0 = time.monotonic();
  assert.ok(time.monotonic() >= m0);
  assert.ok(Math.abs(time.wallclock().getTime() - Date.now()) < 60_000);
});

test('an aborted sleep rejects with the reason, leaves the queue, and the timer is re-armed for the next sleeper', async () => {
  const { time, armed } = clock();
  const later = time.sleep(120_000);
  const ac = new AbortController();
  const s = time.sleep(60_000, { signal: ac.signal });
  assert.equal(time.sleepers, 2);
  const first = armed.at(-1)!;
  ac.abort(new Error('cancelled'));
  await assert.rejects(s, /cancelled/);
  assert.equal(time.sleepers, 1, 'the aborted sleeper is gone before its deadline');
  assert.ok(armed.at(-1)! > first, 're-armed for the later sleeper');
  time.onTimer();
  assert.deepEqual(await woken([later]), [false]);
});

test('a sleep with an already aborted signal rejects at once and queues nothing; a woken one ignores a later abort', async () => {
  const { time } = clock();
  const ac = new AbortController();
  ac.abort(new Error('early'));
  await assert.rejects(time.sleep(10, { signal: ac.signal }), /early/);
  assert.equal(time.sleepers, 0);
  const live = new AbortController();
  const s = time.sleep(0, { signal: live.signal });
  const t = performance.now() + 1;
  while (performance.now() < t) await new Promise((r) => setImmediate(r));
  time.onTimer();
  await s;
  live.abort();
  assert.equal(time.sleepers, 0);
});

// In a shared pool, the VIRQ_TIMER handler's re-arm needs a timer of the domain's pCPU, which a
// domain at its bound is refused (ENOMEM). Before, that error was thrown from the handler (the
// domain crashed) and the sleepers left waited for a timer never armed.
test('a re-arm refused in the timer interrupt: due sleepers wake, the others fail with its error, and the handler does not throw', async () => {
  let refuse = false;
  const hc = {
    setTimer: () => {
      if (refuse) throw Object.assign(new Error('the domain has as many timers armed as its shared pCPU allows'), { errno: 'ENOMEM' });
    },
  } as unknown as Hypercalls;
  const time = new GuestTime(hc);
  const due = time.sleep(0);
  const ac = new AbortController();
  const later = time.sleep(60_000, { signal: ac.signal });
  const latest = time.sleep(120_000);
  const t = performance.now() + 1;
  while (performance.now() < t) await new Promise((r) => setImmediate(r));
  refuse = true;
  assert.doesNotThrow(() => time.onTimer());
  await due;
  await assert.rejects(later, { errno: 'ENOMEM' });
  await assert.rejects(latest, { errno: 'ENOMEM' });
  assert.equal(time.sleepers, 0, 'nobody waits for a timer that is not armed');
  ac.abort(new Error('too late'));
  refuse = false;
  const next = time.sleep(0);
  const t2 = performance.now() + 1;
  while (performance.now() < t2) await new Promise((r) => setImmediate(r));
  time.onTimer();
  await next;
});

test('GuestTime.monotonicMs runs with the clock monotonic() reads, in ms, and never goes back', () => {
  const { time } = clock();
  const ms = (ns: bigint) => Number(ns) / 1e6;
  let last = -Infinity;
  for (let i = 0; i < 200; i++) {
    // Readings of one clock nest: what passes between two inner ones is within what passes between two outer ones.
    const outer0 = time.monotonic();
    const a = time.monotonicMs();
    const inner0 = time.monotonic();
    for (let spin = 0; spin < 1000 * (i % 5); spin++) Math.sqrt(spin);
    const inner1 = time.monotonic();
    const b = time.monotonicMs();
    const outer1 = time.monotonic();
    assert.ok(b - a <= ms(outer1 - outer0) + 1e-3 && b - a >= ms(inner1 - inner0) - 1e-3, `${b - a} ms within [${ms(inner1 - inner0)}, ${ms(outer1 - outer0)}]`);
    assert.ok(a >= last && b >= a);
    last = b;
  }
});
