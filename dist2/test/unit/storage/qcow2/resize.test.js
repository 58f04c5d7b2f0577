// The qcow2 row of the image formats: create, info and growing an image, as an SR uses them.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isXenError } from '../../../../src/errors.js';
import { imageFormat } from '../../../../src/storage/open.js';
import { Qcow2Disk } from '../../../../src/storage/qcow2/qcow2.js';
test('qcow2 images: created, measured and grown through the format table; data stays; shrinking and outgrowing the L1 table are refused', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'xenode-qcow2-resize-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const f = imageFormat('qcow2');
    const path = join(dir, `v.${f.extension}`);
    await f.create(path, 1 << 20);
    const d = await f.open(path, { readOnly: false });
    await d.write(8, [new Uint8Array(4096).fill(7)]);
    await d.close();
    assert.equal((await f.info(path)).virtualSize, 1 << 20);
    await f.resize(path, 3 * 2 ** 30); // 6 L1 entries, in the same L1 cluster
    assert.equal((await f.info(path)).virtualSize, 3 * 2 ** 30);
    const r = await Qcow2Disk.open(path, { readOnly: false });
    assert.equal(r.sectors, (3 * 2 ** 30) / 512);
    const b = new Uint8Array(4096);
    await r.read(8, [b]);
    assert.equal(b[4095], 7);
    await r.write(r.sectors - 8, [new Uint8Array(4096).fill(9)]); // the new end is writable
    await r.close();
    await assert.rejects(f.resize(path, 1 << 20), (e) => isXenError(e, 'EINVAL'));
    await assert.rejects(f.resize(path, 2 ** 43), (e) => isXenError(e, 'EOPNOTSUPP'));
});
//# sourceMappingURL=resize.test.js.map