import { Hypervisor } from '../../../src/hypervisor/hypervisor.js';
import { CONTROL_BURST, serveControlPort } from '../../../src/hypervisor/control.js';
import { MessageChannel } from 'node:worker_threads';
// Guests in real worker threads: control operations over their MessagePort, events and grant
// maps across threads, errors carried back with their Xen names, shutdown and crash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVTCHNSTAT_interdomain, VIRQ_DOM_EXC } from '../../../src/abi/event_channel.js';
import { GNTST_bad_domain, GNTST_bad_handle, GNTST_general_error, GNTST_okay, GTF_permit_access, GTF_reading, GTF_writing, } from '../../../src/abi/grant_table.js';
import { PAGE_SIZE } from '../../../src/abi/xen.js';
import { grantFlags, gntst, harness, pingPong, ramPage, xen } from '../../support/hypervisor.js';
test('a worker guest binds to dom0, and events flow both ways across the threads', async (t) => {
    const h = harness(t);
    const g = await h.guest();
    const p0 = await h.dom0.evtchnAllocUnbound(g.domid);
    h.dom0Events.listen(p0);
    const pg = await g.hc('evtchnBindInterdomain', 0, p0);
    await g.call('listen', pg);
    assert.deepEqual(await g.hc('evtchnStatus', pg), {
        status: EVTCHNSTAT_interdomain, vcpu: 0, remoteDomid: 0, remotePort: p0,
    });
    for (let i = 0; i < 20; i++)
        await pingPong(h, g, p0, pg);
    assert.equal(h.dom0Events.count(p0), 20);
});
test('dom0 binds a port a worker guest offered; the guest learns dom0 by a push and sends', async (t) => {
    const h = harness(t);
    const g = await h.guest();
    const pg = await g.hc('evtchnAllocUnbound', 0);
    const p0 = await h.dom0.evtchnBindInterdomain(g.domid, pg);
    h.dom0Events.listen(p0);
    const ev = h.dom0Events.next(p0);
    await g.hc('evtchnSend', pg);
    await ev;
});
test('grant maps across threads: each side sees what the other wrote; flags follow the mappings', async (t) => {
    const h = harness(t);
    const g = await h.guest();
    const p0 = await h.dom0.evtchnAllocUnbound(g.domid);
    await g.hc('evtchnBindInterdomain', 0, p0);
    // dom0 grants a page to the guest, which maps it read-write and writes into it.
    const mine = ramPage(h.dom0, 0);
    const ref = h.dom0.grantAccess(g.domid, mine.pfn, false);
    const handle = await g.call('map', 0, ref, false);
    assert.equal(grantFlags(h.hv.dom0.view, ref), GTF_permit_access | GTF_reading | GTF_writing);
    await g.call('poke', handle, 4000, new Uint8Array([7, 8, 9]));
    assert.deepEqual([...mine.page.subarray(4000, 4003)], [7, 8, 9]);
    assert.equal(h.dom0.endAccess(ref, false), false);
    await g.call('unmap', handle);
    await assert.rejects(g.call('unmap', handle), gntst(GNTST_bad_handle));
    assert.equal(h.dom0.endAccess(ref), true);
    // The guest grants one of its pages to dom0.
    const [pfn] = await g.hc('populatePhysmap', 1);
    await g.call('write', pfn * PAGE_SIZE, new Uint8Array([0xc0, 0xff, 0xee]));
    const gref = await g.hc('grantAccess', 0, pfn, true);
    const m = h.dom0.grantMap(g.domid, gref, true);
    assert.deepEqual([...m.page.subarray(0, 3)], [0xc0, 0xff, 0xee]);
    assert.equal(await g.hc('endAccess', gref), false, 'the guest cannot revoke while dom0 maps');
    h.dom0.grantUnmap(m.handle);
    assert.equal(await g.hc('endAccess', gref), true);
});
test('two worker guests connected by an event channel: ping-pong, grant map and copy between them', async (t) => {
    const h = harness(t);
    const a = await h.guest();
    const b = await h.guest();
    const pa = await a.hc('evtchnAllocUnbound', b.domid);
    const pb = await b.hc('evtchnBindInterdomain', a.domid, pa);
    await a.call('listen', pa);
    await b.call('echo', pb);
    // The event Xen raises on bind may or may not be echoed (b had no handler yet): count from here.
    for (let i = 0; i < 50; i++) {
        const echoed = a.next(pa);
        await a.hc('evtchnSend', pa);
        await echoed;
    }
    const [pfn] = await a.hc('populatePhysmap', 1);
    await a.call('write', pfn * PAGE_SIZE + 10, new Uint8Array([1, 2]));
    const ref = await a.hc('grantAccess', b.domid, pfn, false);
    const handle = await b.call('map', a.domid, ref, false);
    assert.deepEqual([...(await b.call('peek', handle, 10, 2))], [1, 2]);
    await b.call('poke', handle, 12, new Uint8Array([3]));
    assert.deepEqual([...(await a.call('read', pfn * PAGE_SIZE + 10, 3))], [1, 2, 3]);
    await b.call('unmap', handle);
    const [bpfn] = await b.hc('populatePhysmap', 1);
    const statuses = await b.hc('grantCopy', [
        { source: { domid: a.domid, ref, offset: 10 }, dest: { pfn: bpfn, offset: 0 }, len: 3 },
        { source: { domid: 0, ref: 8, offset: 0 }, dest: { pfn: bpfn, offset: 0 }, len: 3 },
    ]);
    assert.deepEqual(statuses, [GNTST_okay, GNTST_bad_domain], 'b is not connected to dom0');
    assert.deepEqual([...(await b.call('read', bpfn * PAGE_SIZE, 3))], [1, 2, 3]);
    assert.equal(await a.hc('endAccess', ref), true);
});
test('control errors come back across the port with their Xen names', async (t) => {
    const h = harness(t);
    const g = await h.guest();
    const other = await h.guest();
    await assert.rejects(g.hc('evtchnBindInterdomain', 77, 1), xen('ESRCH'));
    await assert.rejects(g.hc('evtchnStatus', 1, other.domid), xen('EPERM'));
    await assert.rejects(g.hc('evtchnClose', 3), xen('EINVAL'));
    await assert.rejects(g.hc('connect', other.domid), xen('EPERM'));
    await assert.rejects(g.hc('grantSetupTable', 1e6), gntst(GNTST_general_error));
    await assert.rejects(g.hc('evtchnBindVirq', VIRQ_DOM_EXC), xen('EPERM'));
    await assert.rejects(g.call('map', other.domid, 8, true), gntst(GNTST_bad_domain));
});
test('a worker guest shuts itself down; one that throws is a crash; dom0 hears of both', async (t) => {
    const h = harness(t);
    const port = await h.dom0.evtchnBindVirq(VIRQ_DOM_EXC);
    h.dom0Events.listen(port);
    const g = await h.guest();
    let ev = h.dom0Events.next(port);
    // SCHEDOP_shutdown does not return: the vCPU is stopped, so its reply never comes.
    void g.hc('shutdown', 'reboot').catch(() => { });
    await ev;
    assert.equal(g.domain.stateString.slice(3), 'sr-');
    const c = await h.guest();
    ev = h.dom0Events.next(port);
    await c.call('crash');
    await ev;
    assert.equal(c.domain.shutdownReason, 'crash');
    await c.exited;
    assert.equal(c.domain.stateString, '---sc-');
});
test('a domain that floods its control port is cut off once, and dom0 hears of it', async () => {
    const hv = new Hypervisor();
    const d = hv.createDomain({ name: 'flood', ramFrames: 16 });
    const { port1, port2 } = new MessageChannel();
    let floods = 0;
    // A frozen clock: the bucket never refills, so exactly one burst is served whatever the load.
    serveControlPort(port1, hv.controlPlane(d.domid), () => floods++, () => 0);
    const replies = [];
    port2.on('message', (m) => replies.push(m));
    const sent = CONTROL_BURST * 4;
    for (let i = 0; i < sent; i++)
        port2.postMessage({ id: i, op: 'status', args: [d.domid, 1] });
    // Wait for the cut and the replies before it, bounded: a loaded machine delivers them late.
    for (const end = Date.now() + 20_000; (floods < 1 || replies.length < CONTROL_BURST) && Date.now() < end;) {
        await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 50));
    port2.close();
    assert.equal(floods, 1);
    assert.equal(replies.length, CONTROL_BURST, `${replies.length} of ${sent} served`);
});
//# sourceMappingURL=control.test.js.map