// A shared pCPU's one copy of the data-path hypercalls (guest/pcpu-hypercalls.ts): it delivers
// only through views it made itself, from the domain's own buffers and the peer grants dom0
// answered with; anything it cannot finish (no view of the target, a bad port, a kill) is left
// to the realm's own Hypercalls, which fails it as the hypercall always did.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHINFO_EVTCHN_PENDING } from '../../../src/abi/event_channel.js';
import { XenError } from '../../../src/errors.js';
import { onKilledAtGate } from '../../../src/hypervisor/gate.js';
import { CB_IN_HYPERCALL, CB_KILL } from '../../../src/hypervisor/layout.js';
import { DomainView } from '../../../src/hypervisor/memory.js';
import { grantIn, isGrant, PcpuHypercalls } from '../../../src/guest/pcpu-hypercalls.js';
import { harness, type Harness, type LocalDomain } from '../../support/hypervisor.js';

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

/** The pCPU's side of d, with its own views (as a Resident makes them from the placed buffers). */
function pcpuSide(d: LocalDomain): PcpuHypercalls {
  return new PcpuHypercalls(new DomainView(d.domain.view.buffers));
}

test('a send is done on the pCPU only with a view of the target that dom0 granted; then it delivers as the hypercall does', async (t) => {
  const h = harness(t);
  const d = h.local();
  const [p0, pd] = await bound(h, d);
  const hc = pcpuSide(d);
  assert.equal(hc.evtchnSend(pd), false, 'no view of dom0 yet: left to the realm');
  assert.equal(pending(h.hv.dom0.view, p0), false);
  hc.adopt({ peer: h.hv.dom0.view.buffers });
  assert.equal(hc.evtchnSend(pd), true);
  assert.equal(pending(h.hv.dom0.view, p0), true);
  // An IPI-like send to itself needs no peer; an unbound port is dropped silently, as in Xen.
  const unbound = await d.hc.evtchnAllocUnbound(0);
  assert.equal(hc.evtchnSend(unbound), true);
});

test('hostile ports: out of range, not integers, or bound only in a pool mate\'s table, are left to the realm, which fails them with EINVAL', async (t) => {
  const h = harness(t);
  const a = h.local();
  const b = h.local();
  const [p0, pa] = await bound(h, a);
  const bSide = pcpuSide(b);
  bSide.adopt({ peer: h.hv.dom0.view.buffers });
  for (const port of [pa, 0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 40, 4096, 2 ** 17]) {
    assert.equal(bSide.evtchnSend(port), false, `port ${port}`);
    assert.throws(() => b.hc.evtchnSend(port), (e: unknown) => e instanceof XenError && e.errno === 'EINVAL', `port ${port}`);
  }
  assert.equal(pending(h.hv.dom0.view, p0), false, "b's sends never reached a's channel");
  assert.equal(Atomics.load(b.domain.view.ctl, CB_IN_HYPERCALL), 0, 'every try left the gate');
});

test('a domain being killed: the pCPU does not send and leaves its gate; the realm\'s own path stops there as before', async (t) => {
  const h = harness(t);
  const d = h.local();
  const [p0, pd] = await bound(h, d);
  const hc = pcpuSide(d);
  hc.adopt({ peer: h.hv.dom0.view.buffers });
  Atomics.store(d.domain.view.ctl, CB_KILL, 1);
  assert.equal(hc.evtchnSend(pd), false);
  assert.equal(Atomics.load(d.domain.view.ctl, CB_IN_HYPERCALL), 0);
  assert.equal(pending(h.hv.dom0.view, p0), false);
  Atomics.store(d.domain.view.ctl, CB_KILL, 0);
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
