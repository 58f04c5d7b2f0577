// The retransmission timer's value by RFC 6298's rules, numbers worked by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rto, RTO_DEFAULTS } from '../../../../src/tcpip/tcp/rto.js';

test('RFC 6298: initial RTO, the first sample, smoothing with alpha 1/8 and beta 1/4, bounds, backoff', () => {
  const r = new Rto({ minRtoMs: 200, maxRtoMs: 60_000, initialRtoMs: 1000 });
  assert.equal(r.rto, 1000, '(2.1) RTO before any sample');
  // (2.2) first sample R: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4 RTTVAR).
  r.sample(100);
  assert.deepEqual([r.srtt, r.rttvar, r.rto], [100, 50, 300]);
  // (2.3) RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'| first, with the old SRTT; then SRTT = 7/8 SRTT + 1/8 R'.
  r.sample(300);
  assert.equal(r.rttvar, 0.75 * 50 + 0.25 * 200);
  assert.equal(r.srtt, 0.875 * 100 + 0.125 * 300);
  assert.equal(r.rto, 125 + 4 * 87.5);
  // (5.5) back off: double on each timeout, up to the maximum.
  r.backoff();
  assert.equal(r.rto, 950);
  for (let i = 0; i < 10; i++) r.backoff();
  assert.equal(r.rto, 60_000, '(2.5) a maximum may be placed on RTO');
  // (5.7) a new sample after the backoff computes RTO afresh.
  r.sample(125);
  assert.ok(r.rto < 1000, `RTO recomputed from SRTT/RTTVAR, not left backed off (${r.rto})`);
  // (2.4) the minimum: Linux's 200 ms, not the RFC's 1 s (a MAY), for same-host peers.
  const fast = new Rto(RTO_DEFAULTS);
  for (let i = 0; i < 50; i++) fast.sample(0.05);
  assert.equal(fast.rto, RTO_DEFAULTS.minRtoMs);
  // A clock that reads backwards gives no negative sample.
  fast.sample(-5);
  assert.ok(fast.srtt >= 0 && fast.rttvar >= 0);
});
