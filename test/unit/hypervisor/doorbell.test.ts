// A shared pCPU's doorbell: a domain's upcall rings its bit, one wake per batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DB_PENDING, DOORBELL_SLOTS, doorbellBytes, ring, takeRung } from '../../../src/hypervisor/doorbell.js';
import { setPending, setPort, unmask, mask, UPCALL_WORD } from '../../../src/hypervisor/evtchn.js';
import { CB_RUNSTATE, RUNSTATE_blocked, RUNSTATE_running } from '../../../src/hypervisor/layout.js';
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

test('an event wakes a blocked vCPU thread at once, and a running one not at all (it sees the upcall byte)', async (t) => {
  const vcpu = (domid: number, runstate: number) => {
    const view = new DomainView(allocateDomainBuffers(domid, { maxGrantFrames: 1, ramFrames: 1, maxEvtchns: 8, initialGrantFrames: 1 }));
    setPort(view, 1, EVTCHNSTAT_ipi, 0, 0);
    Atomics.store(view.ctl, CB_RUNSTATE, runstate);
    return view;
  };
  // Atomics.waitAsync does not keep the event loop alive by itself.
  const alive = setInterval(() => {}, 1000);
  t.after(() => clearInterval(alive));
  // A running vCPU does not wait on the word; this waiter shows that no notify is made for it.
  const running = vcpu(6, RUNSTATE_running);
  const unwoken = Atomics.waitAsync(running.mem32, UPCALL_WORD, 0, 200);
  setPending(running, 1);
  assert.equal(unwoken.async && (await unwoken.value), 'timed-out');
  const blocked = vcpu(7, RUNSTATE_blocked);
  const woken = Atomics.waitAsync(blocked.mem32, UPCALL_WORD, 0, 60_000);
  setPending(blocked, 1);
  assert.equal(woken.async && (await woken.value), 'ok');
});
