// A shared pCPU's one copy of the data-path hypercalls (guest/pcpu-hypercalls.ts): it delivers
// only through views it made itself, from the domain's own buffers and the peer grants dom0
// answered with. A send to a target it has no view of is held until that view comes; one it does
// not start (a kill) is left to the realm's own Hypercalls; what fails there (a bad port, a lock error) the realm throws as the hypercall
// would, without a second try; a peer's held FIFO queue lock is not waited for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { GNTST_permission_denied, GrantError } from '../../../src/abi/grant_table.js';
import { EVTCHN_FIFO_PRIORITY_DEFAULT, SHINFO_EVTCHN_PENDING, VCPUINFO_PENDING_SEL, vcpuInfoOffset } from '../../../src/abi/event_channel.js';
import { BLKIF_OP_READ, BLKIF_SLOT_SIZE, decodeBlkifRequest, encodeBlkifResponse } from '../../../src/abi/blkif.js';
import { BackRing, FrontRing } from '../../../src/abi/ring.js';
import { DOMID_SELF, PAGE_SIZE } from '../../../src/abi/xen.js';
import { POLL_RECORD, PUSH_NOTIFY, PUSH_RESPONSES, RING_BAD, STAGE_INDEX, STAGE_RECORD } from '../../../src/drivers/blk/front/ring-io.js';
import { XenError } from '../../../src/errors.js';
import { directChannel, type ControlChannel } from '../../../src/hypervisor/control.js';
import { errorCode } from '../../../src/hypervisor/error-code.js';
import { eventWord, PENDING } from '../../../src/hypervisor/evtchn-fifo.js';
import { unblockThrough, UPCALL_WORD } from '../../../src/hypervisor/evtchn.js';
import { onKilledAtGate } from '../../../src/hypervisor/gate.js';
import { Hypercalls } from '../../../src/hypervisor/hypercalls.js';
import { CB_DYING, CB_FIFO_QUEUE_LOCK, CB_IN_HYPERCALL, CB_KILL, CB_RUNSTATE, RUNSTATE_blocked } from '../../../src/hypervisor/layout.js';
import { LOCK_MAX_WAIT_MS } from '../../../src/hypervisor/lock.js';
import { GrantCopyBatch } from '../../../src/hypervisor/grant.js';
import { DomainView, guestBuffers } from '../../../src/hypervisor/memory.js';
import { grantIn, isGrant, PcpuHypercalls, PeerViews } from '../../../src/guest/pcpu-hypercalls.js';
import { blkPushThrough, SEND_DONE, SEND_NOT_HERE, sendHereThrough } from '../../../src/guest/realm/host.js';
import { PassWakes } from '../../../src/guest/wakes.js';
import { harness, holdLock, ramPage, within, xen, type Harness, type LocalDomain } from '../../support/hypervisor.js';

// As on a pCPU thread (pcpu.ts): a kill throws at the gate instead of blocking the thread.
onKilledAtGate(() => {
  throw new Error('killed');
});

function pending(view: DomainView, port: number): boolean {
  return (Atomics.load(view.mem32, (SHINFO_EVTCHN_PENDING >> 2) + (port >>> 5)) & (1 << (port & 31))) !== 0;
}

/** d bound to a port dom0 offered: [dom0's port, d's port], with dom0's pending bit cleared. */
async function bound(h: Harness, d: LocalDomain): Promise<[number, number]> {
  const p0 = await h.dom0.evtchnAllocUnbound(d.domid);
  const pd = await d.hc.evtchnBindInterdomain(0, p0);
  Atomics.and(h.hv.dom0.view.mem32, (SHINFO_EVTCHN_PENDING >> 2) + (p0 >>> 5), ~(1 << (p0 & 31)));
  return [p0, pd];
}

/**
 * The pCPU's side of d, with its own view (as a Resident makes it from the placed buffers) and the
 * thread's views of its peers; `sent` is told what each send did (pcpu.ts counts them).
 */
function pcpuSide(d: LocalDomain, peers = new PeerViews(), sent: (result: number | string) => void = () => {}): PcpuHypercalls {
  return new PcpuHypercalls(new DomainView(d.domain.view.buffers), peers, sent);
}

/** d bound to dom0, and its pCPU's side with a send on that port held (it has no view of dom0 yet). */
async function heldForDom0(h: Harness) {
  const d = h.local();
  const [p0, pd] = await bound(h, d);
  const hc = pcpuSide(d);
  assert.equal(hc.evtchnSend(pd), SEND_NOT_HERE, 'no view of dom0 yet: held');
  assert.equal(pending(h.hv.dom0.view, p0), false);
  return { d, p0, pd, hc };
}

test('a send is done on the pCPU only with a view of the target that dom0 granted; then it delivers as the hypercall does', async (t) => {
  const h = harness(t);
  const { d, p0, pd, hc } = await heldForDom0(h);
  hc.adopt({ peer: h.hv.dom0.view.buffers });
  assert.equal(hc.evtchnSend(pd), SEND_DONE);
  assert.equal(pending(h.hv.dom0.view, p0), true);
  // An unbound port is dropped silently, as in Xen.
  const unbound = await d.hc.evtchnAllocUnbound(0);
  assert.equal(hc.evtchnSend(unbound), SEND_DONE);
});

// A send made before the pCPU had a view of its target is held on the pCPU, not in the realm: a
// domain that halts before dom0's answer to its connect came (its realm runs no more) still makes
// it once the answer comes, as in Xen the send was done when it was made.
test('a send to a target the pCPU has no view of is held there and made once the view comes; dropped if its port was closed meanwhile, or its connect failed', async (t) => {
  const h = harness(t);
  const { p0, hc } = await heldForDom0(h);
  hc.adopt({ peer: h.hv.dom0.view.buffers });
  assert.equal(pending(h.hv.dom0.view, p0), true, 'made as the view came');
  Atomics.and(h.hv.dom0.view.mem32, (SHINFO_EVTCHN_PENDING >> 2) + (p0 >>> 5), ~(1 << (p0 & 31)));
  hc.adopt({ peer: structuredClone(h.hv.dom0.view.buffers) });
  assert.equal(pending(h.hv.dom0.view, p0), false, 'made once: nothing is held any more');

  // A connect that failed (dom0's answer to peer an error): its held sends go.
  const e = h.local();
  const [q0, qe] = await bound(h, e);
  const eSide = pcpuSide(e);
  assert.equal(eSide.evtchnSend(qe), SEND_NOT_HERE);
  eSide.unheld(0);
  eSide.adopt({ peer: h.hv.dom0.view.buffers });
  assert.equal(pending(h.hv.dom0.view, q0), false, 'dropped with its failed connect');

  // Its port closed before the view came: dropped there, as a send on a closed port is.
  const f = h.local();
  const [r0, rf] = await bound(h, f);
  const fSide = pcpuSide(f);
  assert.equal(fSide.evtchnSend(rf), SEND_NOT_HERE);
  await f.hc.evtchnClose(rf);
  fSide.adopt({ peer: h.hv.dom0.view.buffers });
  assert.equal(pending(h.hv.dom0.view, r0), false);
});

// A held send keeps the port it was made toward, not only the target's domid: the domain's port
// may be closed and bound again, to another peer, before dom0's answer to the old connect comes.
// Before, the pCPU made the send on whatever the port was bound to then, reaching the new peer.
test('a held send on a port closed and bound again to another peer before the view came is dropped, not made to the new peer', async (t) => {
  const h = harness(t);
  const { d, p0, pd, hc } = await heldForDom0(h);
  await d.hc.evtchnClose(pd);
  const e = h.local();
  const pe = await e.hc.evtchnAllocUnbound(d.domid);
  assert.equal(await d.hc.evtchnBindInterdomain(e.domid, pe), pd, 'the lowest closed port: the same one, now bound to e');
  hc.adopt({ peer: e.domain.view.buffers }); // the answer to the bind to e
  assert.equal(pending(e.domain.view, pe), false, 'nothing was sent to e');
  hc.adopt({ peer: h.hv.dom0.view.buffers }); // dom0's answer to the old connect
  assert.equal(pending(e.domain.view, pe), false, 'the send made toward dom0 did not reach e');
  assert.equal(pending(h.hv.dom0.view, p0), false, 'nor dom0: its channel was closed');
  // A send now on the port is e's, made at once (the pCPU has its view).
  assert.equal(hc.evtchnSend(pd), SEND_DONE);
  assert.equal(pending(e.domain.view, pe), true);
});

// Held sends are kept per target: one held again on the same port toward another target replaces
// the first (one entry per port), and a view of one target makes only the sends held for it.
test('a port held again toward another target holds only the later send; each view makes only its own target\'s', async (t) => {
  const h = harness(t);
  const d = h.local();
  const e = h.local();
  const f = h.local();
  const pe = await e.hc.evtchnAllocUnbound(d.domid);
  const de = await d.hc.evtchnBindInterdomain(e.domid, pe);
  const pf = await f.hc.evtchnAllocUnbound(d.domid);
  const df = await d.hc.evtchnBindInterdomain(f.domid, pf);
  const hc = pcpuSide(d);
  assert.equal(hc.evtchnSend(de), SEND_NOT_HERE);
  assert.equal(hc.evtchnSend(df), SEND_NOT_HERE);
  hc.adopt({ peer: f.domain.view.buffers });
  assert.deepEqual([pending(e.domain.view, pe), pending(f.domain.view, pf)], [false, true], "f's view makes f's send only");
  // de closed and bound again, to dom0, and a send held on it there: e's old one goes.
  await d.hc.evtchnClose(de);
  const p0 = await h.dom0.evtchnAllocUnbound(d.domid);
  assert.equal(await d.hc.evtchnBindInterdomain(0, p0), de);
  Atomics.and(h.hv.dom0.view.mem32, (SHINFO_EVTCHN_PENDING >> 2) + (p0 >>> 5), ~(1 << (p0 & 31)));
  assert.equal(hc.evtchnSend(de), SEND_NOT_HERE);
  hc.adopt({ peer: e.domain.view.buffers });
  assert.equal(pending(e.domain.view, pe), false, "e's send was replaced by the port's later one");
  hc.adopt({ peer: h.hv.dom0.view.buffers });
  assert.equal(pending(h.hv.dom0.view, p0), true, "dom0's is made with its view");
});

test("a realm's send before its target was connected reaches the target with dom0's answer, even if the realm never runs again (it halted)", async (t) => {
  const h = harness(t);
  const d = h.local();
  const [p0, pd] = await bound(h, d);
  const pcpu = pcpuSide(d);
  const direct = directChannel(h.hv.controlPlane(d.domid));
  let answered = false;
  // dom0's answer reaches the pCPU's side; the realm, halted, is never handed it.
  const channel = {
    async call(op: string, ...args: unknown[]) {
      pcpu.answered(op, await (direct.call as (op: string, ...a: unknown[]) => Promise<unknown>)(op, ...args));
      answered = true;
      return new Promise(() => {});
    },
  } as ControlChannel;
  const realm = new Hypercalls(guestBuffers(d.domain.view.buffers), channel, {
    sendHere: sendHereThrough((port) => pcpu.evtchnSend(port), d.domid),
    peersElsewhere: (domid) => pcpu.connected(domid),
  });
  h.dom0Events.listen(p0);
  const got = h.dom0Events.next(p0);
  realm.evtchnSend(pd);
  assert.equal(pending(h.hv.dom0.view, p0), false, 'no view of dom0 yet');
  await within(got, 'dom0 getting the event', 5000);
  assert.ok(answered, "dom0 answered the realm's connect");
});

test('a send to itself (a loopback channel) needs no peer view: done on the pCPU, through its own view', async (t) => {
  const h = harness(t);
  const d = h.local();
  const a = await d.hc.evtchnAllocUnbound(DOMID_SELF);
  const b = await d.hc.evtchnBindInterdomain(DOMID_SELF, a);
  const hc = pcpuSide(d);
  assert.equal(pending(d.domain.view, a), false);
  assert.equal(hc.evtchnSend(b), SEND_DONE, 'no grant adopted: its own view is enough');
  assert.equal(pending(d.domain.view, a), true);
});

// fix18 counted 4 wakes of dom0 where 2 were meant: each resident had a view of dom0 of its own,
// and the pass's wakes (wakes.ts) know a target by its view. Now the thread has one per peer.
test("two residents of one pCPU thread that each notify dom0 twice in a pass wake it twice, not four times: they share the thread's view of it", async (t) => {
  const h = harness(t);
  const a = h.local();
  const b = h.local();
  const [pa0, pa] = await bound(h, a);
  const [pb0, pb] = await bound(h, b);
  const peers = new PeerViews();
  const aSide = pcpuSide(a, peers);
  const bSide = pcpuSide(b, peers);
  // Each resident's grant came in a message of its own: the same memory, another SharedArrayBuffer object.
  aSide.adopt({ peer: structuredClone(h.hv.dom0.view.buffers) });
  bSide.adopt({ peer: structuredClone(h.hv.dom0.view.buffers) });
  let notifies = 0;
  const wakes = new PassWakes(() => void notifies++);
  unblockThrough((words, index) => wakes.wake(words, index));
  t.after(() => unblockThrough((words, index) => void Atomics.notify(words, index, 1)));
  const dom0 = h.hv.dom0.view;
  const runstate = Atomics.load(dom0.ctl, CB_RUNSTATE);
  t.after(() => Atomics.store(dom0.ctl, CB_RUNSTATE, runstate));
  // dom0 handles each event and sleeps again before the next send, as a backend that ran dry.
  const consumed = () => {
    for (const p of [pa0, pb0]) Atomics.and(dom0.mem32, (SHINFO_EVTCHN_PENDING >> 2) + (p >>> 5), ~(1 << (p & 31)));
    Atomics.store(dom0.mem32, (vcpuInfoOffset(0) + VCPUINFO_PENDING_SEL) >> 2, 0);
    Atomics.store(dom0.mem32, ((vcpuInfoOffset(0) + VCPUINFO_PENDING_SEL) >> 2) + 1, 0);
    Atomics.and(dom0.mem32, UPCALL_WORD, ~0xff);
    Atomics.store(dom0.ctl, CB_RUNSTATE, RUNSTATE_blocked);
  };
  consumed();
  for (const [side, port] of [[aSide, pa], [bSide, pb], [aSide, pa], [bSide, pb]] as const) {
    assert.equal(side.evtchnSend(port), SEND_DONE);
    consumed();
  }
  wakes.end();
  assert.equal(notifies, 2, 'the pass\'s first wake of dom0 at once, and one kept for its end');
});

test("the thread's view of a peer is kept while that domain is live, and replaced once it is dying (its domid may come back as another)", async (t) => {
  const h = harness(t);
  const old = h.local();
  const next = h.local();
  const peers = new PeerViews();
  const first = peers.of({ peer: old.domain.view.buffers });
  assert.equal(peers.of({ peer: structuredClone(old.domain.view.buffers) }), first, 'the same domain: the same view');
  // Another domain's buffers under the old one's domid (a domid comes back once its domain is dying).
  const again = { peer: { ...next.domain.view.buffers, domid: old.domid } };
  assert.equal(peers.of(again), first, 'not while the domain with that domid is live');
  Atomics.store(old.domain.view.ctl, CB_DYING, 1);
  t.after(() => Atomics.store(old.domain.view.ctl, CB_DYING, 0));
  const fresh = peers.of(again);
  assert.notEqual(fresh, first, 'its domain is dying: the new one gets a view of its own');
  assert.equal(fresh.buffers.memory, next.domain.view.buffers.memory);
  assert.equal(peers.of({ peer: { ...structuredClone(next.domain.view.buffers), domid: old.domid } }), fresh, 'and keeps it');
});

test("the thread's entry for a peer goes once no resident holds its view and the view is collected; a held one stays", async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const h = harness(t);
  const gone = h.local();
  const kept = h.local();
  const peers = new PeerViews();
  const held = peers.of({ peer: kept.domain.view.buffers });
  peers.of({ peer: gone.domain.view.buffers });
  assert.equal(peers.size, 2);
  // The collection, and the registry's callback after it, come in later tasks.
  for (let i = 0; i < 100 && peers.size > 1; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  assert.equal(peers.size, 1, 'the unheld view was collected, and its entry went with it');
  assert.equal(peers.of({ peer: structuredClone(kept.domain.view.buffers) }), held, 'the held view is still the one');
});

test("hostile ports: out of range, not integers, or bound only in a pool mate's table fail on the pCPU with the hypercall's EINVAL, and the realm throws it without trying again", async (t) => {
  const h = harness(t);
  const a = h.local();
  const b = h.local();
  const [p0, pa] = await bound(h, a);
  const bSide = pcpuSide(b);
  bSide.adopt({ peer: h.hv.dom0.view.buffers });
  let tries = 0;
  const bRealm = new Hypercalls(b.domain.view, directChannel(h.hv.controlPlane(b.domid)), {
    sendHere: sendHereThrough((port) => (tries++, bSide.evtchnSend(port)), b.domid),
  });
  for (const port of [pa, 0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 40, 4096, 2 ** 17]) {
    assert.equal(bSide.evtchnSend(port), 'EINVAL', `port ${port}`);
    assert.throws(() => b.hc.evtchnSend(port), xen('EINVAL'), `port ${port}: the Pool-0 hypercall's error`);
    assert.throws(() => bRealm.evtchnSend(port), xen('EINVAL'), `port ${port}: the realm's`);
  }
  assert.equal(tries, 11, 'one try on the pCPU per send');
  assert.equal(pending(h.hv.dom0.view, p0), false, "b's sends never reached a's channel");
  assert.equal(Atomics.load(b.domain.view.ctl, CB_IN_HYPERCALL), 0, 'every try left the gate');
});

test("a peer's FIFO queue lock held by another thread: the pCPU does not wait for it (it runs pool mates); the event is linked once the lock is free", async (t) => {
  const h = harness(t);
  await h.dom0Events.loop.useFifo(h.dom0);
  const d = h.local();
  const p0 = await h.dom0.evtchnAllocUnbound(d.domid);
  const pd = await d.hc.evtchnBindInterdomain(0, p0);
  const hc = pcpuSide(d);
  hc.adopt({ peer: h.hv.dom0.view.buffers });
  h.dom0Events.listen(p0);
  const first = h.dom0Events.next(p0);
  assert.equal(hc.evtchnSend(pd), SEND_DONE);
  await first;
  const held = await holdLock(t, h.hv.dom0.view.ctl, CB_FIFO_QUEUE_LOCK + EVTCHN_FIFO_PRIORITY_DEFAULT);
  const next = h.dom0Events.next(p0);
  const t0 = performance.now();
  assert.equal(hc.evtchnSend(pd), SEND_DONE, 'done: the event waits in the hypervisor, not the sender');
  assert.ok(performance.now() - t0 < LOCK_MAX_WAIT_MS, 'it did not wait out the lock');
  const dom0 = h.hv.dom0.view;
  assert.equal(dom0.mem32[eventWord(dom0, p0)]! & PENDING, 0, 'not linked while the lock is held: deferred');
  await held.release();
  await next;
});

test('a domain being killed: the pCPU does not send and leaves its gate; the realm\'s own path stops there as before', async (t) => {
  const h = harness(t);
  const d = h.local();
  const [p0, pd] = await bound(h, d);
  const hc = pcpuSide(d);
  hc.adopt({ peer: h.hv.dom0.view.buffers });
  Atomics.store(d.domain.view.ctl, CB_KILL, 1);
  assert.equal(hc.evtchnSend(pd), SEND_NOT_HERE);
  assert.equal(Atomics.load(d.domain.view.ctl, CB_IN_HYPERCALL), 0);
  assert.equal(pending(h.hv.dom0.view, p0), false);
  Atomics.store(d.domain.view.ctl, CB_KILL, 0);
});

test("the realm's side of the answer: done, left to the realm, or each error's type and errno", () => {
  const at = (r: number | string) => sendHereThrough(() => r, 7);
  assert.equal(at(SEND_DONE)(3), true);
  assert.equal(at(SEND_NOT_HERE)(3), false);
  assert.throws(() => at('EINVAL')(3), (e: unknown) => e instanceof XenError && e.errno === 'EINVAL' && /d7: EVTCHNOP_send on port 3/.test(e.message));
  assert.throws(() => at('nonsense')(3), TypeError);
  assert.equal(errorCode(new XenError('EINVAL', 'x')), 'EINVAL');
  assert.equal(errorCode(new RangeError('x')), undefined, 'a bug is not a hypercall error');
});

test("blkfront's push in a realm: an event the pCPU's copy did not send is not asked of it again (a failure thrown, a send left to the realm done by its own copy)", () => {
  const own: number[] = [];
  const staged = new Float64Array(STAGE_RECORD);
  const push = (r: number | string) => blkPushThrough(() => r, 7, (port) => own.push(port))(0, 32, 3, staged, 1, 1, 0);
  assert.equal(push(0), 0);
  assert.equal(push(PUSH_RESPONSES), PUSH_RESPONSES, 'sent on the pCPU, or not due');
  assert.equal(push(RING_BAD), RING_BAD);
  assert.deepEqual(own, []);
  assert.equal(push(PUSH_NOTIFY | PUSH_RESPONSES), PUSH_RESPONSES, 'left to the realm (SEND_NOT_HERE): sent by its own copy, not by its caller');
  assert.deepEqual(own, [3]);
  assert.throws(() => push('EINVAL'), (e: unknown) => e instanceof XenError && e.errno === 'EINVAL' && /d7: EVTCHNOP_send on port 3/.test(e.message));
  assert.throws(() => push('nonsense'), TypeError);
  assert.deepEqual(own, [3], 'a failed send is not tried again');
});

test("the realm's own send (evtchnSendOwn) does not ask the pCPU's copy", async (t) => {
  const h = harness(t);
  const d = h.local();
  const [p0, pd] = await bound(h, d);
  let tries = 0;
  const realm = new Hypercalls(d.domain.view, directChannel(h.hv.controlPlane(d.domid)), {
    sendHere: () => (tries++, false),
  });
  await realm.connect(0);
  realm.evtchnSendOwn(pd);
  assert.equal(tries, 0);
  assert.equal(pending(h.hv.dom0.view, p0), true, 'delivered by the realm\'s copy');
  assert.equal(Atomics.load(d.domain.view.ctl, CB_IN_HYPERCALL), 0);
});

test('only a well-formed grant in the answer to peer or bindInterdomain (or a push) is adopted', () => {
  const peer = { domid: 0, memory: new SharedArrayBuffer(8), control: new SharedArrayBuffer(8) };
  assert.deepEqual(grantIn('peer', { peer }), { peer });
  assert.deepEqual(grantIn('bindInterdomain', { port: 5, peer: { peer } }), { peer });
  assert.equal(grantIn('bindInterdomain', { port: 5 }), undefined);
  assert.equal(grantIn('status', { peer }), undefined, 'other ops carry no grant');
  assert.equal(grantIn('peer', null), undefined);
  assert.equal(grantIn('peer', { peer: { ...peer, memory: new ArrayBuffer(8) } }), undefined);
  assert.equal(grantIn('peer', { peer: { ...peer, domid: '0' } }), undefined);
  assert.equal(isGrant({ peer: { ...peer, control: undefined } }), false);
});

/** Every SharedArrayBuffer in `v` (a control-plane answer as a realm gets it). */
function buffersIn(v: unknown, out: SharedArrayBuffer[] = []): SharedArrayBuffer[] {
  if (v instanceof SharedArrayBuffer) out.push(v);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) buffersIn(x, out);
  return out;
}

/**
 * d's library OS as in its realm (realm.ts): its Hypercalls over its own buffers, its control
 * calls answered as the pCPU passes dom0's answers on (pcpu.ts), its sends and connect() asking
 * the pCPU's copy. `answers`: what the realm was handed.
 */
function realmSide(h: Harness, d: LocalDomain) {
  const pcpu = pcpuSide(d);
  const direct = directChannel(h.hv.controlPlane(d.domid));
  const answers: unknown[] = [];
  const channel = {
    async call(op: string, ...args: unknown[]) {
      const value = pcpu.answered(op, await (direct.call as (op: string, ...a: unknown[]) => Promise<unknown>)(op, ...args));
      answers.push(value);
      return value;
    },
  } as ControlChannel;
  const hc = new Hypercalls(guestBuffers(d.domain.view.buffers), channel, {
    sendHere: sendHereThrough((port) => pcpu.evtchnSend(port), d.domid),
    peersElsewhere: (domid) => pcpu.connected(domid),
  });
  return { hc, pcpu, answers };
}

test("a realm's library OS is handed no peer's buffers: dom0's answers to its bind and connect reach it without the grant, which the pCPU's copy adopted; its sends reach dom0 through that copy", async (t) => {
  const h = harness(t);
  const d = h.local();
  const r = realmSide(h, d);
  const p0 = await h.dom0.evtchnAllocUnbound(d.domid);
  const pd = await r.hc.evtchnBindInterdomain(0, p0);
  assert.equal(r.pcpu.connected(0), true);
  await r.hc.connect(0);
  assert.deepEqual(r.answers, [{ port: pd }], 'connected by the bind: connect asks dom0 nothing');
  assert.equal(await r.hc.connect(d.domid).then(() => r.answers.length), 1, 'nor for itself');
  // A second domain bound to d: d connects to it, and dom0's answer carries no grant either.
  const e = h.local();
  const pe = await e.hc.evtchnAllocUnbound(d.domid);
  await r.hc.evtchnBindInterdomain(e.domid, pe);
  const f = h.local();
  await assert.rejects(r.hc.connect(f.domid), /not connected/);
  assert.deepEqual(buffersIn(r.answers), []);
  r.hc.evtchnSend(pd);
  assert.equal(pending(h.hv.dom0.view, p0), true);
});

test("a realm's library OS, connected to a peer, maps, copies and pins none of its grants: GNTST_permission_denied", async (t) => {
  const h = harness(t);
  const d = h.local();
  const r = realmSide(h, d);
  await r.hc.evtchnBindInterdomain(0, await h.dom0.evtchnAllocUnbound(d.domid));
  const { pfn } = ramPage(h.dom0, 1);
  const ref = h.dom0.grantAccess(d.domid, pfn, false);
  assert.throws(() => r.hc.grantMap(0, ref, false), (e: unknown) => e instanceof GrantError && e.status === GNTST_permission_denied && /shared cpupool/.test(e.message));
  const [own] = r.hc.populatePhysmap(1);
  assert.deepEqual(r.hc.grantCopy([{ source: { domid: 0, ref, offset: 0 }, dest: { pfn: own!, offset: 0 }, len: 8 }]), [GNTST_permission_denied]);
  const batch = new GrantCopyBatch(1);
  batch.reset(new Uint8Array(8), false);
  batch.add(ref, 0, 8, 0);
  assert.equal(r.hc.grantCopyLocal(0, batch), 1);
  assert.equal(batch.status[0], GNTST_permission_denied);
});

test("blkfront's push and poll in the pCPU's copy read and write only the calling domain's own memory: a ring placed past it is RING_BAD, one in it is encoded where its backend reads it", (t) => {
  const h = harness(t);
  const d = h.local({ ramFrames: 16 });
  const hc = pcpuSide(d);
  const past = d.domain.view.buffers.memory.byteLength;
  const peer = h.local({ ramFrames: 2 * (past / PAGE_SIZE) });
  assert.ok(peer.domain.view.buffers.memory.byteLength > past + PAGE_SIZE);
  const staged = new Float64Array(STAGE_RECORD);
  staged.set([0, 5, BLKIF_OP_READ, 0, 8, 1, 77, 7], STAGE_INDEX);
  const out = new Int32Array(POLL_RECORD * 32);
  const peerBefore = peer.domain.view.mem8.slice();
  // Within the peer's memory, past d's: d's copy has no view of the peer's memory to write.
  assert.equal(hc.blkPush(past, 32, 0, staged, 1, 1, 0), RING_BAD);
  assert.equal(hc.blkPoll(past, 32, 0, out), RING_BAD);
  assert.deepEqual(peer.domain.view.mem8, peerBefore);
  const ringOff = 8 * PAGE_SIZE;
  const bytes = d.domain.view.mem8.subarray(ringOff, ringOff + PAGE_SIZE);
  FrontRing.create(bytes, BLKIF_SLOT_SIZE);
  assert.equal(hc.blkPush(ringOff, 32, 0, staged, 1, 1, 0), 'EINVAL', 'port 0 is no channel: the due send failed, after the push');
  const back = new BackRing(bytes, BLKIF_SLOT_SIZE);
  assert.deepEqual(decodeBlkifRequest(back.view, back.slotOffset(0)), {
    kind: 'segments', operation: BLKIF_OP_READ, nrSegments: 1, handle: 0, id: 5n, sectorNumber: 8, seg: [{ gref: 77, firstSect: 0, lastSect: 7 }],
  });
  encodeBlkifResponse(back.view, back.slotOffset(0), { id: 5n, operation: BLKIF_OP_READ, status: 0 });
  back.rspProdPvt = 1;
  back.pushResponses();
  assert.equal(hc.blkPoll(ringOff, 32, 0, out), 1);
  assert.deepEqual([...out.subarray(0, 3)], [5, BLKIF_OP_READ, 0]);
});

/** d's blkfront ring at frame 8 of its memory, one read staged: what a push encodes into it. */
function stagedRing(d: LocalDomain) {
  const ringOff = 8 * PAGE_SIZE;
  const bytes = d.domain.view.mem8.subarray(ringOff, ringOff + PAGE_SIZE);
  FrontRing.create(bytes, BLKIF_SLOT_SIZE);
  const staged = new Float64Array(STAGE_RECORD);
  staged.set([0, 5, BLKIF_OP_READ, 0, 8, 1, 77, 7], STAGE_INDEX);
  return { ringOff, bytes, staged };
}

// The pCPU's side of host.blkPush (pcpu.ts reads workerData at load, so it is tested here): the
// push runs in the copy a Pool-0 domain runs (ring-io.ts localRingIo), and the backend's event,
// when the push says it is due, is sent as evtchnSend sends it, once, counted as each send is.
test("blkfront's push on the pCPU sends the backend's event when due, as evtchnSend does: done, held until the backend is connected, or the send's error; the ring work is done either way", async (t) => {
  const h = harness(t);
  const d = h.local({ ramFrames: 16 });
  const [p0, pd] = await bound(h, d);
  const results: (number | string)[] = [];
  const hc = pcpuSide(d, new PeerViews(), (r) => results.push(r));
  const { ringOff, bytes, staged } = stagedRing(d);
  const back = new BackRing(bytes, BLKIF_SLOT_SIZE);
  // No view of dom0 yet: the send is held, and PUSH_NOTIFY tells the realm to connect dom0.
  assert.equal(hc.blkPush(ringOff, 32, pd, staged, 1, 1, 0), PUSH_NOTIFY);
  assert.equal(back.view.getUint32(0, true), 1, 'the request was published');
  assert.equal(pending(h.hv.dom0.view, p0), false);
  hc.adopt({ peer: h.hv.dom0.view.buffers });
  assert.equal(pending(h.hv.dom0.view, p0), true, 'the held event was sent as dom0 was connected');
  Atomics.and(h.hv.dom0.view.mem32, (SHINFO_EVTCHN_PENDING >> 2) + (p0 >>> 5), ~(1 << (p0 & 31)));
  // The backend took the request and asks for an event on the next (req_event = 2).
  back.reqCons = 1;
  back.view.setUint32(4, 2, true);
  staged.set([1, 6], STAGE_INDEX);
  assert.equal(hc.blkPush(ringOff, 32, pd, staged, 1, 2, 0), 0, 'sent on the pCPU: nothing left to the realm');
  assert.equal(pending(h.hv.dom0.view, p0), true);
  // Not due (the backend asked for none before req_prod 10): no send at all.
  Atomics.and(h.hv.dom0.view.mem32, (SHINFO_EVTCHN_PENDING >> 2) + (p0 >>> 5), ~(1 << (p0 & 31)));
  back.reqCons = 2;
  back.view.setUint32(4, 10, true);
  staged.set([2, 7], STAGE_INDEX);
  assert.equal(hc.blkPush(ringOff, 32, pd, staged, 1, 3, 0), 0);
  assert.equal(pending(h.hv.dom0.view, p0), false);
  // A port that is no channel: the send's error, the ring work done.
  back.view.setUint32(4, 4, true);
  staged.set([3, 8], STAGE_INDEX);
  assert.equal(hc.blkPush(ringOff, 32, 4000, staged, 1, 4, 0), 'EINVAL');
  assert.equal(back.view.getUint32(0, true), 4, 'published before the send failed');
  assert.deepEqual(results, [SEND_NOT_HERE, SEND_DONE, SEND_DONE, 'EINVAL'], 'each send counted as it went: the held one when held (not done) and again when made, the one not due not at all');
  // A poll through the same copy reads the backend's response.
  encodeBlkifResponse(back.view, back.slotOffset(0), { id: 5n, operation: BLKIF_OP_READ, status: 0 });
  back.rspProdPvt = 1;
  back.pushResponses();
  const out = new Int32Array(POLL_RECORD * 32);
  assert.equal(hc.blkPoll(ringOff, 32, 0, out), 1);
  assert.deepEqual([...out.subarray(0, 3)], [5, BLKIF_OP_READ, 0]);
});
