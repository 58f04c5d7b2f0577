// netfront and netback together, through the real hypervisor and dom0's real switch: two
// guests on one bridge exchange frames both ways (one slot, many slots), counted on both ends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetFront } from '../../../../src/drivers/net/front/netfront.js';
import { Switch } from '../../../../src/network/switch.js';
import { frameOf, netRig, within } from '../../../support/net-back.js';
test('two netfronts exchange frames through their netbacks and a bridge', async (t) => {
    const sw = new Switch();
    t.after(() => sw.close());
    const rig = netRig(t, {}, sw);
    const ga = rig.guest();
    const gb = rig.guest();
    const ba = await rig.vif(ga);
    const bb = await rig.vif(gb);
    const a = await within(NetFront.connect(ga.ctx, ga.domid, 0), 'a connects');
    const b = await within(NetFront.connect(gb.ctx, gb.domid, 0), 'b connects');
    t.after(() => Promise.all([a.disconnect(), b.disconnect()]).then(() => { }));
    const got = [];
    let arrived = () => { };
    b.listen((frame) => {
        got.push(frame.slice());
        arrived();
    });
    const frames = [frameOf(60, a.mac, b.mac, 1), frameOf(1514, a.mac, b.mac, 2)];
    const all = new Promise((r) => (arrived = () => got.length === frames.length && r()));
    await within(a.write(frames), 'a writes');
    await within(all, 'b receives');
    assert.deepEqual(got, frames);
    assert.deepEqual([ba.stats.rxPackets, bb.stats.txPackets], [2, 2]);
    assert.equal(b.stats().rxPackets, 2);
});
//# sourceMappingURL=front-back.test.js.map