// The credit scheduler of shared pCPUs: UNDER before OVER, credit by weight, caps park a domain
// for the rest of its period. Time is passed in, so nothing here depends on the clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CREDIT_MIN_MS, CREDIT_PERIOD_MS, CreditScheduler } from '../../../src/hypervisor/credit.js';

test('a domain that spent its credit runs only after those that did not', () => {
  const s = new CreditScheduler<string>();
  s.set('busy');
  s.set('idle');
  assert.deepEqual(new Set(s.pick(['busy', 'idle'], 0)), new Set(['busy', 'idle']));
  s.charge('busy', CREDIT_PERIOD_MS); // burnt more than its share
  assert.deepEqual(s.pick(['busy', 'idle'], 1), ['idle']);
  // Alone, an OVER domain still runs: the pCPU is not left idle.
  assert.deepEqual(s.pick(['busy'], 2), ['busy']);
});

test('credit comes in proportion to weight', () => {
  const s = new CreditScheduler<string>();
  s.set('heavy', 768);
  s.set('light', 256);
  s.pick([], 0);
  // Each burns the same: the light one (a quarter of the period) goes OVER first.
  s.charge('heavy', CREDIT_PERIOD_MS / 3);
  s.charge('light', CREDIT_PERIOD_MS / 3);
  assert.deepEqual(s.pick(['heavy', 'light'], 1), ['heavy']);
});

test('a cap parks a domain until the next period, even when nothing else runs', () => {
  const s = new CreditScheduler<string>();
  s.set('capped', 256, 10); // 10% of a pCPU
  s.pick([], 0);
  s.charge('capped', (CREDIT_PERIOD_MS * 10) / 100);
  assert.deepEqual(s.pick(['capped'], 1), []);
  assert.ok(s.untilNextPeriod(1) > 0);
  assert.deepEqual(s.pick(['capped'], CREDIT_PERIOD_MS + 1), ['capped']);
});

test('round robin within a class, and forgotten domains are skipped', () => {
  const s = new CreditScheduler<string>();
  for (const k of ['a', 'b', 'c']) s.set(k);
  const firsts = new Set([0, 1, 2].map((t) => s.pick(['a', 'b', 'c'], t)[0]));
  assert.equal(firsts.size, 3);
  s.delete('b');
  assert.deepEqual(new Set(s.pick(['a', 'b', 'c'], 3)), new Set(['a', 'c']));
  assert.deepEqual(s.params('a'), { weight: 256, cap: 0 });
});

test("a debt is bounded as Xen bounds it: a domain charged one long turn is UNDER again within a few periods", () => {
  const s = new CreditScheduler<string>();
  s.set('late');
  s.set('mate');
  s.pick([], 0);
  s.charge('late', 5000); // a 5 s turn: a full collection, or its thread preempted on a loaded host
  // Its mate stays runnable and UNDER (it is charged nothing), so 'late' runs only once it is UNDER again.
  let periods = 0;
  for (let now = CREDIT_PERIOD_MS; !s.pick(['late', 'mate'], now).includes('late'); now += CREDIT_PERIOD_MS) periods++;
  // Each period earns half of 30 ms: from the bound of -30 ms, UNDER in the third (not after 333).
  assert.equal(periods, Math.ceil(-CREDIT_MIN_MS / (CREDIT_PERIOD_MS / 2)) + 1);
});
