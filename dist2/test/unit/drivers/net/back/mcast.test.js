// Multicast filtering (feature-multicast-control) as xen-netback does it: the filter on its
// own, then through netback with a frontend that subscribes on its tx ring and turns the
// filter on and off in xenstore (feature-dynamic-multicast-control).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NETIF_RSP_ERROR, NETIF_RSP_NULL, NETIF_RSP_OKAY, NETTXF_extra_info, NET_FRAME_PLAIN, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_EXTRA_TYPE_MCAST_DEL, } from '../../../../../src/abi/netif.js';
import { MCAST_MAX, McastFilter } from '../../../../../src/drivers/net/back/mcast.js';
import { RawNetFront, frameOf, netRig, within } from '../../../../support/net-back.js';
const addr = (s) => new Uint8Array(s.split(':').map((b) => Number.parseInt(b, 16)));
const GROUP = '01:00:5e:00:00:fb';
test('the filter: off passes everything; on, only broadcast, unicast and subscribed groups; at most 64 addresses', () => {
    const f = new McastFilter();
    const to = (dst) => frameOf(60, '00:16:3e:00:00:01', dst);
    assert.equal(f.passes(to(GROUP)), true, 'off: flood');
    f.enabled = true;
    assert.equal(f.passes(to(GROUP)), false);
    assert.equal(f.passes(to('ff:ff:ff:ff:ff:ff')), true);
    assert.equal(f.passes(to('00:16:3e:00:00:02')), true);
    assert.equal(f.add(addr(GROUP)), true);
    assert.equal(f.add(addr(GROUP)), true, 'held once');
    assert.equal(f.size, 1);
    assert.equal(f.passes(to(GROUP)), true);
    for (let i = 1; i < MCAST_MAX; i++)
        assert.equal(f.add(addr(`01:00:5e:00:01:${i.toString(16).padStart(2, '0')}`)), true);
    assert.equal(f.add(addr('01:00:5e:00:02:00')), false, 'one past XEN_NETBK_MCAST_MAX');
    assert.equal(f.size, MCAST_MAX);
    f.delete(addr(GROUP));
    assert.equal(f.passes(to(GROUP)), false);
    f.clear();
    assert.equal(f.size, 0);
});
test('through netback: request-multicast-control filters, MCAST_ADD/DEL on the tx ring subscribe, the bound answers NETIF_RSP_ERROR, turning it off floods', async (t) => {
    const rig = netRig(t);
    const g = rig.guest();
    const be = await rig.vif(g);
    const f = await RawNetFront.connect(rig.xs0, g, {
        keys: { 'request-rx-copy': '1', 'feature-rx-notify': '1', 'request-multicast-control': '1' },
    });
    f.postRx(8);
    const group = frameOf(60, '00:16:3e:00:00:aa', GROUP, 1, 0x0800);
    assert.deepEqual(rig.hub.inject(group, NET_FRAME_PLAIN), [false], 'not subscribed');
    assert.deepEqual(rig.hub.inject(frameOf(60, '00:16:3e:00:00:aa', 'ff:ff:ff:ff:ff:ff'), NET_FRAME_PLAIN), [true], 'broadcast passes');
    let id = 100;
    const sub = (type, a) => [
        { gref: 0, offset: 0, flags: NETTXF_extra_info, id: id++, size: 0 },
        { extra: { kind: 'mcast', type: type, flags: 0, addr: addr(a) } },
    ];
    f.sendSlots(sub(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, GROUP));
    await f.until(() => f.txResponses.length === 2, 'the subscription answered');
    assert.deepEqual(f.txResponses.map((r) => r.status), [NETIF_RSP_OKAY, NETIF_RSP_NULL]);
    assert.deepEqual(rig.hub.inject(group, NET_FRAME_PLAIN), [true], 'subscribed');
    // Fill the list; one more is refused, and the vif goes on.
    for (let i = 1; i < MCAST_MAX; i++)
        f.putSlots(sub(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, `01:00:5e:00:01:${i.toString(16).padStart(2, '0')}`));
    f.sendSlots(sub(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, '01:00:5e:00:02:00'));
    await f.until(() => f.txResponses.length === 2 * (MCAST_MAX + 1), 'all subscriptions answered');
    assert.equal(f.txResponses.at(-2).status, NETIF_RSP_ERROR);
    assert.equal(f.txResponses.filter((r) => r.status === NETIF_RSP_ERROR).length, 1);
    assert.equal(be.disabled, null);
    f.sendSlots(sub(XEN_NETIF_EXTRA_TYPE_MCAST_DEL, GROUP));
    await f.until(() => f.txResponses.length === 2 * (MCAST_MAX + 2), 'the unsubscription answered');
    assert.deepEqual(rig.hub.inject(group, NET_FRAME_PLAIN), [false], 'unsubscribed');
    // Filtering off: multicast is flooded to the guest again.
    await g.ctx.xs.write(`${f.fe}/request-multicast-control`, '0');
    await within((async () => {
        while (!rig.hub.inject(group, NET_FRAME_PLAIN)[0])
            await new Promise((r) => setTimeout(r, 5));
    })(), 'filtering off');
    assert.ok(be.stats.txDropped >= 2);
});
//# sourceMappingURL=mcast.test.js.map