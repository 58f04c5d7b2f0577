// A shared pCPU's doorbell: a domain's upcall rings its bit, one wake per batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DB_PENDING, DOORBELL_SLOTS, doorbellBytes, ring, takeRung } from '../../../src/hypervisor/doorbell.js';
import { deferWakes, setPending, setPort, unmask, mask, UPCALL_WORD } from '../../../src/hypervisor/evtchn.js';
import { allocateDomainBuffers, DomainView } from '../../../src/hypervisor/memory.js';
import { EVTCHNSTAT_ipi } from '../../../src/abi/event_channel.js';

test('rung slots come back once, and the pending word is the 0 -> 1 edge', () => {
  const db = new Int32Array(new SharedArrayBuffer(doorbellBytes()));
  ring(db, 0);
  ring(db, 33);
  ring(db, DOORBELL_SLOTS - 1);
  ring(db, 33);
  assert.equal(Atomics.load(db, DB_PENDING), 1);
  assert.deepEqual(takeRung(db, []), [0, 33, DOORBELL_SLOTS - 1]);
  assert.equal(Atomics.load(db, DB_PENDING), 0);
  assert.deepEqual(takeRung(db, []), []);
});

test("a domain's event rings its pCPU's doorbell; a masked one does not until unmasked", () => {
  const buffer = new SharedArrayBuffer(doorbellBytes());
  const view = new DomainView(allocateDomainBuffers(5, {
    maxGrantFrames: 1, ramFrames: 1, maxEvtchns: 8, initialGrantFrames: 1, doorbell: { buffer, slot: 7 },
  }));
  const db = new Int32Array(buffer);
  setPort(view, 1, EVTCHNSTAT_ipi, 0, 0);
  setPort(view, 2, EVTCHNSTAT_ipi, 0, 0);
  mask(view, 2);
  setPending(view, 2);
  assert.deepEqual(takeRung(db, []), [], 'masked');
  setPending(view, 1);
  assert.deepEqual(takeRung(db, []), [7]);
  // The upcall is still pending (nobody ran the domain): no second ring for the same edge.
  unmask(view, 2);
  assert.deepEqual(takeRung(db, []), []);
});

test('deferred wakes: an event hands its wake to the pCPU once per edge, for a doorbell and for an upcall word', (t) => {
  const wakes: [Int32Array, number][] = [];
  deferWakes((words, index) => wakes.push([words, index]));
  t.after(() => deferWakes(undefined));
  const buffer = new SharedArrayBuffer(doorbellBytes());
  const pooled = new DomainView(allocateDomainBuffers(5, {
    maxGrantFrames: 1, ramFrames: 1, maxEvtchns: 8, initialGrantFrames: 1, doorbell: { buffer, slot: 3 },
  }));
  const threaded = new DomainView(allocateDomainBuffers(6, { maxGrantFrames: 1, ramFrames: 1, maxEvtchns: 8, initialGrantFrames: 1 }));
  for (const v of [pooled, threaded]) {
    setPort(v, 1, EVTCHNSTAT_ipi, 0, 0);
    setPort(v, 2, EVTCHNSTAT_ipi, 0, 0);
  }
  setPending(pooled, 1);
  setPending(pooled, 2); // the same upcall edge: nothing more to wake
  setPending(threaded, 1);
  setPending(threaded, 2);
  assert.equal(wakes.length, 2);
  assert.equal(wakes[0]![0].buffer, buffer);
  assert.equal(wakes[0]![1], DB_PENDING);
  assert.equal(wakes[1]![0], threaded.mem32);
  assert.equal(wakes[1]![1], UPCALL_WORD);
  assert.deepEqual(takeRung(new Int32Array(buffer), []), [3], 'the bit is set at once; only the notify waits');
});
