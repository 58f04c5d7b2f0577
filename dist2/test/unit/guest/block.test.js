// os.block: finding the guest's disks under device/vbd by name or number, and connecting each
// once. blkfront itself is tested in test/unit/drivers/blk; here its connect is stood in for.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { BlkFront } from '../../../src/drivers/blk/front/blkfront.js';
import { XenError } from '../../../src/errors.js';
import { blockDevices } from '../../../src/guest/block.js';
import { xen } from '../../support/hypervisor.js';
const DOMID = 7;
const VBD = `/local/domain/${DOMID}/device/vbd`;
/** A xenstore holding `disks` (devid → the backend's dev name) for domain 7, listed after `extra` entries. */
function context(disks, extra = []) {
    const nodes = new Map();
    for (const [devid, dev] of Object.entries(disks)) {
        const be = `/local/domain/0/backend/vbd/${DOMID}/${devid}`;
        nodes.set(`${VBD}/${devid}/backend`, be);
        nodes.set(`${be}/dev`, dev);
    }
    const ids = [...extra, ...Object.keys(disks)];
    const xs = {
        directory: async (path) => {
            assert.equal(path, VBD);
            if (ids.length === 0)
                throw new XenError('ENOENT', path);
            return ids;
        },
        readOptional: async (path) => nodes.get(path),
    };
    return { xs };
}
/** Stand in for blkfront's handshake: each connect makes a new fake device, recorded. */
function fakeConnect(t, fail = () => false) {
    const calls = [];
    mock.method(BlkFront, 'connect', async (_ctx, domid, devid, vdev) => {
        assert.equal(domid, DOMID);
        calls.push({ devid, vdev });
        if (fail())
            throw new Error('backend went away');
        return { devid, vdev, status: 'connected' };
    });
    t.after(() => mock.restoreAll());
    return calls;
}
test('no vbd directory, or no such disk: ENOENT that says which', async (t) => {
    fakeConnect(t);
    await assert.rejects(blockDevices(context({}), DOMID)(), { ...xen('ENOENT'), message: /has no block device$/ });
    await assert.rejects(blockDevices(context({ 51712: 'xvda' }), DOMID)('xvdz'), { ...xen('ENOENT'), message: /no block device xvdz/ });
});
test('a disk is found by the name its backend gives it or by device number; the first is the lowest number', async (t) => {
    const calls = fakeConnect(t);
    // 768 (hda) sorts before 51712 (xvda) as a number, not as text; stray entries are ignored.
    const open = blockDevices(context({ 51712: 'xvda', 51728: 'xvdb', 768: 'hda' }, ['state', 'x1']), DOMID);
    await open();
    await open('xvdb');
    await open('51712');
    assert.deepEqual(calls, [{ devid: 768, vdev: 'hda' }, { devid: 51728, vdev: 'xvdb' }, { devid: 51712, vdev: 'xvda' }]);
});
test('a disk is connected once, again after it closed, and again after a failed connect', async (t) => {
    let failing = false;
    const calls = fakeConnect(t, () => failing);
    const open = blockDevices(context({ 51712: 'xvda' }), DOMID);
    const [a, b] = await Promise.all([open(), open('xvda')]);
    assert.equal(a, b, 'two opens at once share one connection');
    assert.equal(await open(), a);
    assert.equal(calls.length, 1);
    a.status = 'closed';
    const c = await open();
    assert.notEqual(c, a, 'a closed device is connected afresh');
    assert.equal(calls.length, 2);
    c.status = 'closed';
    failing = true;
    await assert.rejects(open(), /backend went away/);
    failing = false;
    const d = await open();
    assert.notEqual(d, c);
    assert.equal(calls.length, 4, 'a failed connect is tried again on the next open');
});
test('a xenstore error other than ENOENT is not taken for "no disks"', async (t) => {
    fakeConnect(t);
    const xs = { directory: async () => { throw new XenError('EACCES', VBD); } };
    await assert.rejects(blockDevices({ xs }, DOMID)(), xen('EACCES'));
});
//# sourceMappingURL=block.test.js.map