// NewReno's window arithmetic (RFC 5681, RFC 6582, RFC 3465, RFC 6928) in bytes, step by step.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NewReno } from '../../../../src/tcpip/tcp/newreno.js';

const MSS = 1000;

test('NewReno: IW10, slow start by bytes acked, congestion avoidance one MSS per window', () => {
  const cc = new NewReno(MSS, 0);
  assert.equal(cc.cwnd, 10 * MSS, 'RFC 6928 initial window');
  assert.equal(cc.onAck(5000, 5000, 10_000), 'normal');
  assert.equal(cc.cwnd, 15 * MSS, 'slow start grows by the bytes acknowledged');
  cc.ssthresh = 15 * MSS;
  // At ssthresh: one MSS once a whole cwnd of bytes has been acknowledged.
  cc.onAck(12_000, 7000, 15_000);
  assert.equal(cc.cwnd, 15 * MSS);
  cc.onAck(20_000, 8000, 15_000);
  assert.equal(cc.cwnd, 16 * MSS);
});

test('NewReno: fast retransmit at the third duplicate ACK, inflation, partial ACK deflation, full ACK exit (RFC 6582)', () => {
  const cc = new NewReno(MSS, 0);
  cc.cwnd = 20 * MSS;
  const flight = 20 * MSS;
  const sndMax = 100_000;
  assert.equal(cc.onDupAck(80_000, flight, sndMax), false);
  assert.equal(cc.onDupAck(80_000, flight, sndMax), false);
  assert.equal(cc.onDupAck(80_000, flight, sndMax), true, 'the third duplicate ACK fires fast retransmit');
  assert.equal(cc.ssthresh, 10 * MSS, 'ssthresh = max(FlightSize / 2, 2 SMSS)');
  assert.equal(cc.cwnd, 13 * MSS, 'cwnd = ssthresh + 3 SMSS');
  assert.equal(cc.recover, sndMax);
  assert.ok(cc.inRecovery);
  cc.onDupAck(80_000, flight, sndMax);
  assert.equal(cc.cwnd, 14 * MSS, 'each further duplicate inflates by one SMSS');
  // A partial ACK: deflate by the new data acknowledged, add back one SMSS as it covers at least one.
  assert.equal(cc.onAck(85_000, 5000, flight), 'partial');
  assert.equal(cc.cwnd, 14 * MSS - 5000 + MSS);
  assert.ok(cc.inRecovery);
  // The ACK of everything up to recover ends recovery: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
  assert.equal(cc.onAck(sndMax, 15_000, 15_000), 'full');
  assert.equal(cc.cwnd, 2 * MSS, 'nothing left in flight: SMSS + SMSS');
  assert.equal(cc.inRecovery, false);
  const capped = new NewReno(MSS, 0);
  for (let i = 0; i < 3; i++) capped.onDupAck(MSS, 20 * MSS, 20 * MSS);
  capped.onAck(20 * MSS, 10 * MSS, 50 * MSS);
  assert.equal(capped.cwnd, capped.ssthresh, 'a large flight left: capped at ssthresh');
  // Duplicate ACKs below recover do not start a second recovery for the same loss (RFC 6582 section 4.1).
  const again = new NewReno(MSS, 0);
  again.recover = 50_000;
  for (let i = 0; i < 3; i++) assert.equal(again.onDupAck(40_000, 10 * MSS, 60_000), false);
  // SACK's loss signal fires before the third duplicate (RFC 6675's DupThresh met by SACKed bytes).
  const sacked = new NewReno(MSS, 0);
  assert.equal(sacked.onDupAck(10_000, 10 * MSS, 20_000, true), true);
});

test('NewReno: a timeout collapses cwnd to one MSS and halves ssthresh from the flight', () => {
  const cc = new NewReno(MSS, 0);
  cc.cwnd = 40 * MSS;
  cc.onTimeout(30 * MSS, 123_456);
  assert.deepEqual([cc.cwnd, cc.ssthresh, cc.recover, cc.inRecovery, cc.dupAcks], [MSS, 15 * MSS, 123_456, false, 0]);
  cc.onTimeout(MSS, 123_456);
  assert.equal(cc.ssthresh, 2 * MSS, 'never below 2 SMSS');
});
