// rate=: the credit scheduler on a clock the test turns, and netback following its backend's
// rate node as Linux's xen_net_rate_changed does: a new rate applies at once, a packet held for
// credit is looked at again, no node or a malformed one is no limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NETIF_RSP_OKAY } from '../../../../../src/abi/netif.js';
import { Credit } from '../../../../../src/drivers/net/back/credit.js';
import { RawNetFront, frameOf, netRig, within } from '../../../../support/net-back.js';
test('credit: a window of bytes per interval, no pile-up, a rate change cuts leftover credit; none is no limit', () => {
    let now = 0;
    const c = new Credit({ bytes: 1000, usecs: 10_000 }, () => now);
    assert.equal(c.take(600), 0);
    assert.equal(c.take(600), 10, 'waits for the next 10 ms window');
    now = 10;
    assert.equal(c.take(600), 0);
    now = 1000;
    assert.equal(c.take(1000), 0, 'an idle minute gives one window, not a hundred');
    assert.equal(c.take(1), 10);
    c.set({ bytes: 100, usecs: 1000 }, false);
    now = 1001;
    assert.equal(c.take(100), 0);
    assert.equal(c.take(1), 1);
    c.set({ bytes: 5000, usecs: 1000 }, false);
    now = 1100;
    assert.equal(c.take(1), 0);
    // 4999 left over from the large window, cut to the new one.
    c.set({ bytes: 10, usecs: 1000 }, false);
    assert.equal(c.take(11), 1);
    assert.equal(c.take(10), 0);
    c.set(null, false);
    assert.equal(c.rate, null);
    assert.equal(c.take(1e9), 0);
    const unlimited = new Credit(null, () => now);
    assert.equal(unlimited.take(65535), 0);
});
test('netback re-reads rate when it changes: a packet held for credit goes at once when the rate is raised', async (t) => {
    const rig = netRig(t);
    const g = rig.guest();
    // 1000 bytes every 71 minutes: the second frame would wait that long.
    const be = await rig.vif(g, 0, { rate: '1000,4294967295' });
    const f = await RawNetFront.connect(rig.xs0, g);
    assert.deepEqual(be.rate, { bytes: 1000, usecs: 4294967295 });
    f.send(frameOf(800, '00:16:3e:00:01:00', 'ff:ff:ff:ff:ff:ff', 1), { id: 1 });
    f.send(frameOf(800, '00:16:3e:00:01:00', 'ff:ff:ff:ff:ff:ff', 2), { id: 2 });
    await rig.hub.until(1);
    await f.until(() => f.txResponses.length === 1, 'the first frame answered');
    assert.equal(rig.hub.frames.length, 1, 'the second is held for credit');
    await rig.xs0.write(`${be.dir}/rate`, '100000000,50000');
    await rig.hub.until(2);
    await f.until(() => f.txResponses.length === 2, 'the second frame answered');
    assert.deepEqual(f.txResponses.map((r) => [r.id, r.status]), [[1, NETIF_RSP_OKAY], [2, NETIF_RSP_OKAY]]);
    assert.deepEqual(be.rate, { bytes: 100000000, usecs: 50000 });
    // Malformed, then gone: no limit (xen_net_read_rate's "Traffic unlimited").
    await rig.xs0.write(`${be.dir}/rate`, '12 bytes please');
    await within((async () => {
        while (be.rate !== null)
            await new Promise((r) => setTimeout(r, 5));
    })(), 'the malformed rate read as no limit');
    await rig.xs0.write(`${be.dir}/rate`, '5000,1000');
    await within((async () => {
        while (be.rate?.bytes !== 5000)
            await new Promise((r) => setTimeout(r, 5));
    })(), 'the new rate');
    await rig.xs0.rm(`${be.dir}/rate`);
    await within((async () => {
        while (be.rate !== null)
            await new Promise((r) => setTimeout(r, 5));
    })(), 'no rate node: no limit');
});
//# sourceMappingURL=credit.test.js.map