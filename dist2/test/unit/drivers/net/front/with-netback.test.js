// netfront against the netback it ships with, through the toolstack's vif code and dom0's
// switch, all on the test's thread: plain frames both ways, a GSO super-frame kept whole
// between two guests that negotiated GSO, a burst larger than the tx ring, and the counters
// xentop reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XEN_NETIF_GSO_TYPE_TCPV4 } from '../../../../../src/abi/netif.js';
import { NetbackDaemon } from '../../../../../src/drivers/net/back/devd.js';
import { NetFront } from '../../../../../src/drivers/net/front/netfront.js';
import { Switch } from '../../../../../src/network/switch.js';
import { attachVif, dom0VifTraffic } from '../../../../../src/toolstack/vifs.js';
import { NetRig, within } from '../../../../support/net-rawback.js';
/** A frame from `src` to `dst` (MACs as bytes' last octet), `len` bytes, a pattern after the header. */
function frame(dst, src, len, salt) {
    const f = new Uint8Array(len);
    for (let i = 14; i < len; i++)
        f[i] = (i + salt) & 0xff;
    f.set([0x00, 0x16, 0x3e, 0, 0, dst, 0x00, 0x16, 0x3e, 0, 0, src, 0x88, 0xb5]);
    return f;
}
test('two guests through netback and the switch: frames both ways, a whole GSO super-frame, a burst past the ring', async (t) => {
    const rig = new NetRig();
    const sw = new Switch();
    let daemon;
    t.after(async () => {
        await daemon?.stop();
        sw.close();
        await rig.close();
    });
    const host = {
        hv: rig.h.hv, xs: rig.xs0, loop: rig.h.dom0Events.loop, log: (l) => rig.log.push(l),
        startNetback: async () => (daemon = await NetbackDaemon.start(rig.dom0, 0, { switch: sw })),
    };
    const guests = [rig.guest(4096), rig.guest(4096)];
    const fronts = [];
    for (const [i, g] of guests.entries()) {
        await rig.xs0.mkdir(`/local/domain/${g.domid}/device`);
        await rig.xs0.setPerms(`/local/domain/${g.domid}/device`, [{ domid: g.domid, perm: 'n' }]);
        await within(attachVif(host, g.domid, { devid: 0, mac: `00:16:3e:00:00:0${i + 1}`, bridge: 'xenbr0' }), 'attach');
        fronts.push(await within(NetFront.connect(g.ctx, g.domid, 0), 'netfront to connect'));
    }
    const [a, b] = fronts;
    assert.deepEqual({ ...a.offloads }, { csum: true, gsoTcpv4: true, gsoTcpv6: true });
    const got = [[], []];
    a.listen((f, info) => got[0].push({ frame: f.slice(), info }));
    b.listen((f, info) => got[1].push({ frame: f.slice(), info }));
    const until = async (cond, what) => {
        await within((async () => {
            while (!cond())
                await new Promise((r) => setTimeout(r, 1));
        })(), what);
    };
    // a → b and b → a, one frame each (the switch learns both MACs).
    await within(a.write(frame(2, 1, 60, 1)), 'a writes');
    await until(() => got[1].length === 1, 'b receives');
    await within(b.write(frame(1, 2, 1514, 2)), 'b writes');
    await until(() => got[0].length === 1, 'a receives');
    assert.deepEqual(got[1][0].frame, frame(2, 1, 60, 1));
    assert.deepEqual(got[0][0].frame, frame(1, 2, 1514, 2));
    // A GSO super-frame between two guests that negotiated GSO arrives whole, its flags kept.
    const gsoInfo = { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 } };
    const big = frame(2, 1, 20000, 3);
    big.set([0x08, 0x00], 12); // IPv4, so that GSO applies
    big.set([0x45, 0, 20000 - 14 >> 8, (20000 - 14) & 0xff, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
    big.set([0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0], 34);
    await within(a.write(big, gsoInfo), 'a writes a GSO frame');
    await until(() => got[1].length === 2, 'b receives it');
    assert.equal(got[1][1].frame.length, 20000);
    assert.deepEqual(got[1][1].frame, big);
    assert.deepEqual(got[1][1].info.gso, gsoInfo.gso);
    // More frames than the tx ring has slots, in one write: queued, sent in order as room comes back.
    const burst = Array.from({ length: 400 }, (_, i) => frame(2, 1, 100, i));
    await within(a.write(burst), 'a burst');
    await until(() => got[1].length === 402, 'b receives the burst');
    for (let i = 0; i < 400; i++)
        assert.deepEqual(got[1][i + 2].frame, burst[i]);
    assert.deepEqual([a.stats().txPackets, b.stats().rxPackets, b.stats().rxErrors], [402, 402, 0]);
    // xentop's counters: what each guest sent and received, from netback.
    const traffic = await dom0VifTraffic(rig.h.hv);
    assert.equal(traffic.get(guests[0].domid).txBytes, a.stats().txBytes);
    assert.equal(traffic.get(guests[1].domid).rxBytes, b.stats().rxBytes);
});
//# sourceMappingURL=with-netback.test.js.map