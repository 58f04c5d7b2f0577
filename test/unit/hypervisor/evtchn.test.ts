// Event channels, 2-level ABI: binding, delivery through shared_info and the upcall loop,
// teardown, and the errnos Xen's event_channel.c returns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EVTCHNSTAT_closed, EVTCHNSTAT_interdomain, EVTCHNSTAT_unbound, EVTCHNSTAT_virq, NR_VIRQS, SHINFO_EVTCHN_PENDING,
  VIRQ_DEBUG, VIRQ_DOM_EXC, VIRQ_TIMER,
} from '../../../src/abi/event_channel.js';
import { DOMID_SELF } from '../../../src/abi/xen.js';
import { UPCALL_WORD, resendToPeers, setPort } from '../../../src/hypervisor/evtchn.js';
import { vcpuTimerThrough } from '../../../src/hypervisor/hypercalls.js';
import type { DomainView } from '../../../src/hypervisor/memory.js';
import { harness, xen, type Harness, type LocalDomain } from '../../support/hypervisor.js';

function pendingBit(view: DomainView, port: number): boolean {
  return (Atomics.load(view.mem32, (SHINFO_EVTCHN_PENDING >> 2) + (port >>> 5)) & (1 << (port & 31))) !== 0;
}

/** dom0 offers a port to `d`, `d` binds it: [dom0's port, d's port]. */
async function connectToDom0(h: Harness, d: LocalDomain): Promise<[number, number]> {
  const p0 = await h.dom0.evtchnAllocUnbound(d.domid);
  const pd = await d.hc.evtchnBindInterdomain(0, p0);
  return [p0, pd];
}

test('alloc_unbound, bind_interdomain and status on both ends', async (t) => {
  const h = harness(t);
  const d = h.local();
  const p0 = await h.dom0.evtchnAllocUnbound(d.domid);
  assert.deepEqual(await h.dom0.evtchnStatus(p0), { status: EVTCHNSTAT_unbound, vcpu: 0, remoteDomid: d.domid });
  const pd = await d.hc.evtchnBindInterdomain(0, p0);
  assert.deepEqual(await d.hc.evtchnStatus(pd), { status: EVTCHNSTAT_interdomain, vcpu: 0, remoteDomid: 0, remotePort: p0 });
  assert.deepEqual(await h.dom0.evtchnStatus(p0), { status: EVTCHNSTAT_interdomain, vcpu: 0, remoteDomid: d.domid, remotePort: pd });
  // dom0 may look at anyone's ports.
  assert.equal((await h.dom0.evtchnStatus(pd, d.domid)).status, EVTCHNSTAT_interdomain);
  // A guest offers a port itself, to dom0 (remote DOMID_SELF means itself).
  const offered = await d.hc.evtchnAllocUnbound(0);
  assert.deepEqual(await d.hc.evtchnStatus(offered), { status: EVTCHNSTAT_unbound, vcpu: 0, remoteDomid: 0 });
  const own = await d.hc.evtchnAllocUnbound(DOMID_SELF);
  assert.equal((await d.hc.evtchnStatus(own)).remoteDomid, d.domid);
  assert.deepEqual(await d.hc.evtchnStatus(own + 1), { status: EVTCHNSTAT_closed, vcpu: 0 });
});

test('send delivers through the upcall loop both ways; bind raises one event on the new port', async (t) => {
  const h = harness(t);
  const d = h.local();
  const p0 = await h.dom0.evtchnAllocUnbound(d.domid);
  d.events.listen(p0 + 100); // unrelated port, never raised
  const pd = await d.hc.evtchnBindInterdomain(0, p0);
  h.dom0Events.listen(p0);
  d.events.listen(pd);
  // Notifications sent to the unbound port could have been lost, so Xen raises one on bind.
  await d.events.until(pd, 1);
  for (let i = 1; i <= 3; i++) {
    const toDom0 = h.dom0Events.next(p0);
    d.hc.evtchnSend(pd);
    await toDom0;
    const toD = d.events.next(pd);
    h.dom0.evtchnSend(p0);
    await toD;
  }
  assert.equal(h.dom0Events.count(p0), 3);
  assert.equal(d.events.count(pd), 4);
  assert.equal(d.events.count(p0 + 100), 0);
});

test('two sends before the upcall runs make one event (edge semantics); a send during the handler makes another', async (t) => {
  const h = harness(t);
  const d = h.local();
  const [p0, pd] = await connectToDom0(h, d);
  h.dom0Events.listen(p0);
  const first = h.dom0Events.next(p0);
  d.hc.evtchnSend(pd);
  d.hc.evtchnSend(pd);
  await first;
  let again = true;
  h.dom0Events.loop.on(p0, () => {
    h.dom0Events.bump(p0);
    if (again) d.hc.evtchnSend(pd);
    again = false;
  });
  d.hc.evtchnSend(pd);
  await h.dom0Events.until(p0, 3);
  assert.equal(pendingBit(h.hv.dom0.view, p0), false);
});

test('a loopback channel: a domain binds its own unbound port', async (t) => {
  const h = harness(t);
  const d = h.local();
  const a = await d.hc.evtchnAllocUnbound(DOMID_SELF);
  const b = await d.hc.evtchnBindInterdomain(DOMID_SELF, a);
  assert.deepEqual(await d.hc.evtchnStatus(a), { status: EVTCHNSTAT_interdomain, vcpu: 0, remoteDomid: d.domid, remotePort: b });
  d.events.listen(a);
  const ev = d.events.next(a);
  d.hc.evtchnSend(b);
  await ev;
});

test('closing one end leaves the other unbound and reserved for the closer, who can bind again', async (t) => {
  const h = harness(t);
  const d = h.local();
  const [p0, pd] = await connectToDom0(h, d);
  await d.hc.evtchnClose(pd);
  assert.deepEqual(await d.hc.evtchnStatus(pd), { status: EVTCHNSTAT_closed, vcpu: 0 });
  assert.deepEqual(await h.dom0.evtchnStatus(p0), { status: EVTCHNSTAT_unbound, vcpu: 0, remoteDomid: d.domid });
  // Sending into an unbound port is dropped silently, as Xen does.
  h.dom0.evtchnSend(p0);
  const again = await d.hc.evtchnBindInterdomain(0, p0);
  assert.equal(again, pd, 'the lowest free port is reused');
  // And the other way round: dom0 closes, the guest's end waits for dom0 to bind again.
  await h.dom0.evtchnClose(p0);
  assert.deepEqual(await d.hc.evtchnStatus(again), { status: EVTCHNSTAT_unbound, vcpu: 0, remoteDomid: 0 });
  assert.equal(await h.dom0.evtchnBindInterdomain(d.domid, again), p0);
  await assert.rejects(d.hc.evtchnClose(pd + 1), xen('EINVAL'), 'closing a closed port');
});

test('a masked port stays pending and delivers on unmask', async (t) => {
  const h = harness(t);
  const d = h.local();
  const [p0, pd] = await connectToDom0(h, d);
  d.events.listen(pd);
  await d.events.until(pd, 1); // the bind's own event
  d.hc.evtchnMask(pd);
  h.dom0.evtchnSend(p0);
  assert.equal(pendingBit(d.domain.view, pd), true);
  assert.equal(Atomics.load(d.domain.view.mem32, UPCALL_WORD) & 0xff, 0, 'no upcall for a masked port');
  assert.equal(d.events.count(pd), 1);
  const ev = d.events.next(pd);
  d.hc.evtchnUnmask(pd);
  await ev;
  assert.equal(d.events.count(pd), 2);
  assert.equal(pendingBit(d.domain.view, pd), false);
  // Unmasking with nothing pending raises nothing.
  d.hc.evtchnUnmask(pd);
  assert.equal(Atomics.load(d.domain.view.mem32, UPCALL_WORD) & 0xff, 0);
});

test('VIRQ_TIMER: bind_virq, then set_timer_op raises it', async (t) => {
  const h = harness(t);
  const d = h.local();
  const port = await d.hc.evtchnBindVirq(VIRQ_TIMER);
  assert.deepEqual(await d.hc.evtchnStatus(port), { status: EVTCHNSTAT_virq, vcpu: 0, virq: VIRQ_TIMER });
  d.events.listen(port);
  const fired = d.events.next(port);
  d.hc.setTimer(performance.now() + 5);
  await fired;
  await assert.rejects(d.hc.evtchnBindVirq(VIRQ_TIMER), xen('EEXIST'));
  // Only the hypervisor raises a VIRQ: sending on its port is EINVAL, as in evtchn_send.
  assert.throws(() => d.hc.evtchnSend(port), xen('EINVAL'));
  await d.hc.evtchnClose(port);
  assert.equal(await d.hc.evtchnBindVirq(VIRQ_TIMER), port, 'a closed VIRQ can be bound again');
});

// On a shared pCPU a domain holds only so many timers (realm/globals.ts). set_timer_op's timer is
// the vCPU's (realm.ts hands globals.ts setOwnTimer to vcpuTimerThrough), which the pCPU keeps
// outside that bound (pcpu.ts; test/e2e/cpupool.test.ts' timer-hog). Here: set_timer_op arms
// through it, one timer at a time, and holds none once it fired or was cancelled. Before, it held
// an interval counted under the bound, parked between deadlines, for the domain's life.
test('set_timer_op arms the vCPU timer it is given: a new deadline replaces it, and once fired or cancelled none is held', async (t) => {
  const h = harness(t);
  const d = h.local();
  const port = await d.hc.evtchnBindVirq(VIRQ_TIMER);
  d.events.listen(port);
  const held = new Map<number, () => void>();
  let nextId = 1;
  vcpuTimerThrough((fn) => {
    const id = nextId++;
    held.set(id, fn);
    return { id } as unknown as NodeJS.Timeout;
  });
  const realClear = globalThis.clearTimeout;
  globalThis.clearTimeout = ((timer?: { id?: number }) => {
    if (typeof timer?.id === 'number') held.delete(timer.id);
    else realClear(timer as NodeJS.Timeout);
  }) as typeof clearTimeout;
  t.after(() => {
    globalThis.clearTimeout = realClear;
    vcpuTimerThrough((fn, ms) => setTimeout(fn, ms));
  });
  const fired = d.events.next(port);
  d.hc.setTimer(performance.now() + 10);
  d.hc.setTimer(performance.now() + 1);
  assert.equal(held.size, 1, 'a new deadline replaces the old one');
  const [id, fire] = [...held][0]!;
  held.delete(id); // it fired: the realm gave its place back
  fire();
  await fired;
  assert.equal(held.size, 0, 'none held once it fired');
  d.hc.setTimer(performance.now() + 10);
  assert.equal(held.size, 1);
  d.hc.setTimer(0);
  assert.equal(held.size, 0, 'none held once cancelled');
});

test('VIRQ_DOM_EXC reaches dom0 when a domain shuts down or is destroyed', async (t) => {
  const h = harness(t);
  const port = await h.dom0.evtchnBindVirq(VIRQ_DOM_EXC);
  h.dom0Events.listen(port);
  const d = h.local();
  const exceptions: number[] = [];
  h.hv.on('domainException', (domid) => exceptions.push(domid));
  let ev = h.dom0Events.next(port);
  await d.hc.shutdown('poweroff');
  await ev;
  ev = h.dom0Events.next(port);
  await h.hv.destroyDomain(d.domid);
  await ev;
  assert.deepEqual(exceptions, [d.domid, d.domid]);
});

test('EINVAL: bad ports, sends on closed ports, binds to ports not offered to the caller, bad VIRQs', async (t) => {
  const h = harness(t);
  const d = h.local();
  const other = h.local();
  for (const port of [0, -1, 1.5, NaN, 1024, 2 ** 32, '1' as unknown as number]) {
    assert.throws(() => d.hc.evtchnSend(port), xen('EINVAL'), `send on ${String(port)}`);
    assert.throws(() => d.hc.evtchnUnmask(port), xen('EINVAL'), `unmask ${String(port)}`);
    await assert.rejects(d.hc.evtchnStatus(port), xen('EINVAL'), `status of ${String(port)}`);
    await assert.rejects(d.hc.evtchnClose(port), xen('EINVAL'), `close ${String(port)}`);
  }
  assert.throws(() => d.hc.evtchnSend(5), xen('EINVAL'), 'send on a closed port');
  const forOther = await h.dom0.evtchnAllocUnbound(other.domid);
  await assert.rejects(d.hc.evtchnBindInterdomain(0, forOther), xen('EINVAL'), 'port offered to someone else');
  const [p0] = await connectToDom0(h, other);
  await assert.rejects(d.hc.evtchnBindInterdomain(0, p0), xen('EINVAL'), 'port already bound');
  await assert.rejects(d.hc.evtchnBindInterdomain(0, 4000), xen('EINVAL'), "port outside the remote's table");
  await assert.rejects(d.hc.evtchnBindInterdomain(0, p0 + 1), xen('EINVAL'), 'closed remote port');
  for (const virq of [-1, NR_VIRQS, 2.5, 'timer' as unknown as number]) {
    await assert.rejects(d.hc.evtchnBindVirq(virq), xen('EINVAL'), `VIRQ ${String(virq)}`);
  }
  await assert.rejects(d.hc.evtchnBindVirq(VIRQ_DEBUG, 1), xen('ENOENT'), 'a vCPU the domain does not have');
  await assert.rejects(d.hc.evtchnAllocUnbound(0x7ff5), xen('EINVAL'), 'reserved remote domid');
  await assert.rejects(h.dom0.evtchnAllocUnbound(1, -4), xen('EINVAL'), 'negative domid');
});

test('ESRCH for domains that do not exist, EPERM for acting on another domain', async (t) => {
  const h = harness(t);
  const d = h.local();
  const other = h.local();
  await assert.rejects(d.hc.evtchnBindInterdomain(77, 1), xen('ESRCH'));
  await assert.rejects(h.dom0.evtchnStatus(1, 77), xen('ESRCH'));
  await assert.rejects(h.dom0.evtchnAllocUnbound(0, 77), xen('ESRCH'));
  await assert.rejects(d.hc.evtchnAllocUnbound(0, other.domid), xen('EPERM'), 'alloc_unbound for another domain');
  await assert.rejects(d.hc.evtchnStatus(1, other.domid), xen('EPERM'), 'status of a port of another domain');
  await assert.rejects(d.hc.evtchnBindVirq(VIRQ_DOM_EXC), xen('EPERM'), 'a global VIRQ');
  // dom0 may allocate on a guest's behalf.
  const port = await h.dom0.evtchnAllocUnbound(0, d.domid);
  assert.deepEqual(await d.hc.evtchnStatus(port), { status: EVTCHNSTAT_unbound, vcpu: 0, remoteDomid: 0 });
});

test('ENOSPC once max_event_channels ports are in use; a closed port is reused first', async (t) => {
  const h = harness(t);
  const d = h.local({ maxEvtchns: 4 });
  const ports = [];
  for (let i = 0; i < 4; i++) ports.push(await d.hc.evtchnAllocUnbound(0));
  assert.deepEqual(ports, [1, 2, 3, 4]);
  await assert.rejects(d.hc.evtchnAllocUnbound(0), xen('ENOSPC'));
  await assert.rejects(d.hc.evtchnBindVirq(VIRQ_TIMER), xen('ENOSPC'));
  const offered = await h.dom0.evtchnAllocUnbound(d.domid);
  await assert.rejects(d.hc.evtchnBindInterdomain(0, offered), xen('ENOSPC'));
  assert.equal((await h.dom0.evtchnStatus(offered)).status, EVTCHNSTAT_unbound, 'the failed bind changed nothing');
  await d.hc.evtchnClose(2);
  assert.equal(await d.hc.evtchnBindInterdomain(0, offered), 2);
  assert.throws(() => d.hc.evtchnSend(5), xen('EINVAL'), 'a port beyond max_event_channels');
});

// The resend after a pCPU thread's reset (cpupool.ts) reads the victim's port table, which its
// guest may have rewritten before it spun. Before, each entry was believed: dom0 set the bit of
// whatever domain and port it named (any live domain, any port: a word up to ~256 MiB into that
// domain's memory under the 2-level ABI).
test("a reset domain's resend: only ports whose other end points back get an event; a rewritten entry writes nothing", { timeout: 60_000 }, async (t) => {
  const h = harness(t);
  const victim = h.local();
  const bystander = h.local();
  const [p0, pv] = await connectToDom0(h, victim);
  const [, pb] = await connectToDom0(h, bystander);
  h.dom0Events.listen(p0);
  await h.dom0Events.until(p0, 0);
  const v = victim.domain.view;
  // A closed port of the bystander's, one bound to dom0 (not to the victim), one out of its range.
  setPort(v, pv + 1, EVTCHNSTAT_interdomain, bystander.domid, pb + 1);
  setPort(v, pv + 2, EVTCHNSTAT_interdomain, bystander.domid, pb);
  setPort(v, pv + 3, EVTCHNSTAT_interdomain, bystander.domid, 100_000);
  setPort(v, pv + 4, EVTCHNSTAT_interdomain, bystander.domid, 2 ** 31 - 1);
  const before = bystander.domain.view.mem32.slice();
  const toDom0 = h.dom0Events.next(p0);
  resendToPeers(v, (domid) => h.hv.findDomain(domid)?.view);
  assert.deepEqual(bystander.domain.view.mem32, before, "nothing was written in the bystander's memory");
  await toDom0;
});


// A send reads the sender's own table, which its guest can rewrite. Before, the entry was
// believed: a guest that pointed its channel at another port of dom0 (another guest's backend,
// a VIRQ dom0 bound) raised that port on each send, as if the event came from there.
test("a guest that points its channel at another port of dom0: its sends raise only its own channel's port", async (t) => {
  const h = harness(t);
  const bad = h.local();
  const other = h.local();
  const [p0, pv] = await connectToDom0(h, bad);
  const [q0] = await connectToDom0(h, other);
  const d0 = h.hv.dom0.view;
  const clear = (port: number): void => void Atomics.and(d0.mem32, (SHINFO_EVTCHN_PENDING >> 2) + (port >>> 5), ~(1 << (port & 31)));
  clear(q0);
  setPort(bad.domain.view, pv, EVTCHNSTAT_interdomain, 0, q0);
  bad.hc.evtchnSend(pv);
  assert.equal(pendingBit(d0, q0), false, "the other guest's port was not raised");
  // Its own channel still works once its entry is true again.
  clear(p0);
  setPort(bad.domain.view, pv, EVTCHNSTAT_interdomain, 0, p0);
  bad.hc.evtchnSend(pv);
  assert.equal(pendingBit(d0, p0), true);
});
