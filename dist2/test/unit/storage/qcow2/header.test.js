// Bad input: corrupt and unsupported images are refused at open, or their broken cluster fails
// its I/O, with a typed error naming the file and the field; and a seeded fuzz of headers.
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isXenError } from '../../../../src/errors.js';
import { createQcow2 } from '../../../../src/storage/qcow2/create.js';
import { Qcow2Error } from '../../../../src/storage/qcow2/errors.js';
import { Qcow2Disk } from '../../../../src/storage/qcow2/qcow2.js';
import { rng } from '../../../support/random.js';
// createQcow2 with 64 KiB clusters and 1 MiB: header, refcount table at 64 KiB, refcount
// block at 128 KiB, L1 table at 192 KiB; one written cluster adds an L2 table and a data cluster.
const CS = 0x10000;
const L1 = 0x30000;
async function image(t, written = false) {
    const dir = await mkdtemp(join(tmpdir(), 'xenode-qcow2-bad-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'bad.qcow2');
    await createQcow2(path, { size: 1 << 20 });
    if (written) {
        const d = await Qcow2Disk.open(path, { readOnly: false });
        await d.write(0, [new Uint8Array(4096).fill(5)]);
        await d.close();
    }
    return path;
}
async function patch(path, at, bytes, len = 8) {
    const b = new Uint8Array(len);
    bytes(new DataView(b.buffer));
    const fh = await open(path, 'r+');
    await fh.write(b, 0, len, at);
    await fh.close();
}
const u32 = (x) => (v) => v.setUint32(0, x);
const u64 = (x) => (v) => v.setBigUint64(0, BigInt(x));
function refused(field, errno) {
    return (e) => {
        assert.ok(e instanceof Qcow2Error, `a Qcow2Error, not ${String(e)}`);
        assert.equal(e.field, field, e.message);
        assert.ok(e.message.includes('bad.qcow2'), e.message);
        if (errno)
            assert.equal(e.errno, errno, e.message);
        return true;
    };
}
const cases = [
    ['bad magic', 0, u32(0x12345678), 4, 'magic'],
    ['version 1', 4, u32(1), 4, 'version'],
    ['version 4', 4, u32(4), 4, 'version'],
    ['cluster_bits 8', 20, u32(8), 4, 'cluster_bits'],
    ['cluster_bits 22', 20, u32(22), 4, 'cluster_bits'],
    ['an absurd size', 24, u64(2n ** 62n), 8, 'size'],
    ['a size beyond the L1 table', 24, u64(2 ** 40), 8, 'l1_size'],
    ['encryption', 32, u32(1), 4, 'crypt_method', 'EOPNOTSUPP'],
    ['an L1 table past the end of the file', 40, u64(0x100000), 8, 'l1_table_offset'],
    ['an L1 table on the header', 40, u64(0), 8, 'l1_table_offset'],
    ['an unaligned L1 table', 40, u64(L1 + 512), 8, 'l1_table_offset'],
    ['an L1 table on the refcount table', 40, u64(CS), 8, 'l1_table_offset'],
    ['a refcount table past the end of the file', 48, u64(0x400000), 8, 'refcount_table_offset'],
    ['a refcount table on the header', 48, u64(0), 8, 'refcount_table_offset'],
    ['an absurd refcount table', 56, u32(0xffffff), 4, 'refcount_table_clusters'],
    ['unknown incompatible features', 72, u64(1n << 40n), 8, 'incompatible_features', 'EOPNOTSUPP'],
    ['the dirty bit (lazy refcounts)', 72, u64(1), 8, 'incompatible_features', 'EOPNOTSUPP'],
    ['refcounts wider than 64 bits', 96, u32(7), 4, 'refcount_order'],
    ['a header length past the cluster', 100, u32(CS * 2), 4, 'header_length'],
    ['an extension past the header cluster', 112 + 4, u32(CS), 4, 'header extension'],
    ['a backing name outside the header cluster', 8, u64(CS - 4), 8, 'backing_file_size'],
];
for (const [what, at, bytes, len, field, errno] of cases) {
    test(`refused at open: ${what} (${field})`, async (t) => {
        const path = await image(t);
        await patch(path, at, bytes, len);
        await assert.rejects(Qcow2Disk.open(path, { readOnly: true }), refused(field, errno));
    });
}
test('refused at open: a truncated file', async (t) => {
    const path = await image(t);
    await truncate(path, 3 * CS);
    await assert.rejects(Qcow2Disk.open(path, { readOnly: true }), refused('l1_table_offset'));
    await truncate(path, 50);
    await assert.rejects(Qcow2Disk.open(path, { readOnly: true }), refused('header'));
});
test('a corrupt image opens read-only only; internal snapshots forbid writing', async (t) => {
    const path = await image(t);
    await patch(path, 72, u64(2));
    await assert.rejects(Qcow2Disk.open(path, { readOnly: false }), refused('incompatible_features', 'EROFS'));
    await (await Qcow2Disk.open(path, { readOnly: true })).close();
    await patch(path, 72, u64(0));
    await patch(path, 60, u32(1), 4);
    await assert.rejects(Qcow2Disk.open(path, { readOnly: false }), refused('nb_snapshots', 'EOPNOTSUPP'));
});
test('an L2 table outside the file, unaligned or on a table fails the I/O of its clusters, naming L1[0]', async (t) => {
    for (const where of [0x1000000, CS, L1, CS + 512]) {
        const path = await image(t, true);
        await patch(path, L1, u64(BigInt(where) + 2n ** 63n));
        const d = await Qcow2Disk.open(path, { readOnly: false });
        await assert.rejects(d.read(0, [new Uint8Array(512)]), refused('L1[0]', 'EIO'));
        await assert.rejects(d.write(8, [new Uint8Array(512)]), refused('L1[0]', 'EIO'));
        await d.close();
    }
});
test('a data cluster outside the file or on the tables fails its I/O, naming the L2 entry', async (t) => {
    const path = await image(t, true);
    const img = await readFile(path);
    const l2 = Number(new DataView(img.buffer, img.byteOffset).getBigUint64(L1) & 0xffffffffff00n);
    for (const where of [0x1000000, L1]) {
        await patch(path, l2, u64(BigInt(where) + 2n ** 63n));
        const d = await Qcow2Disk.open(path, { readOnly: false });
        await assert.rejects(d.read(0, [new Uint8Array(512)]), refused('L2 entry of guest cluster 0', 'EIO'));
        await assert.rejects(d.write(0, [new Uint8Array(512)]), refused('L2 entry of guest cluster 0', 'EIO'));
        await d.close();
    }
});
test('a read across clusters whose second entry is corrupt fails as a whole, naming that entry', async (t) => {
    const path = await image(t, true);
    const d0 = await Qcow2Disk.open(path, { readOnly: false });
    await d0.write(128, [new Uint8Array(512)]);
    await d0.close();
    const img = await readFile(path);
    const l2 = Number(new DataView(img.buffer, img.byteOffset).getBigUint64(L1) & 0xffffffffff00n);
    await patch(path, l2 + 8, u64(0x1000000n + 2n ** 63n));
    const d = await Qcow2Disk.open(path, { readOnly: true });
    t.after(() => d.close());
    await assert.rejects(d.read(0, [new Uint8Array(256 * 512)]), refused('L2 entry of guest cluster 1', 'EIO'));
});
test('a refcount block outside the file: a writable open is refused naming it, a read-only one reads', async (t) => {
    const path = await image(t, true);
    await patch(path, CS, u64(0x1000000));
    await assert.rejects(Qcow2Disk.open(path, { readOnly: false }), refused('refcount_table[0]', 'EIO'));
    const d = await Qcow2Disk.open(path, { readOnly: true });
    t.after(() => d.close());
    const b = new Uint8Array(512);
    await d.read(0, [b]);
    assert.equal(b[0], 5);
});
test('a counted cluster past the end of the file (a crash can leave one) is not reused', async (t) => {
    const path = await image(t, true);
    // The refcount block's entry for the cluster at the end of the file (cluster 6) says 1.
    await patch(path, 2 * CS + 6 * 2, (v) => v.setUint16(0, 1), 2);
    const d = await Qcow2Disk.open(path, { readOnly: false });
    await d.write(1024, [new Uint8Array(512).fill(1)]);
    await d.close();
    const img = await readFile(path);
    const v = new DataView(img.buffer, img.byteOffset);
    assert.ok(img.byteLength > 7 * CS, 'the new cluster went after cluster 6');
    assert.equal(v.getUint16(2 * CS + 7 * 2), 1);
});
test('refcount underflow: releasing a replaced cluster whose refcount is already 0 fails the flush, naming the refcount block', async (t) => {
    const path = await image(t, true);
    const img = await readFile(path);
    const l2 = Number(new DataView(img.buffer, img.byteOffset).getBigUint64(L1) & 0xffffffffff00n);
    const data = Number(new DataView(img.buffer, img.byteOffset).getBigUint64(l2) & 0xffffffffff00n);
    // Guest cluster 0 is shared (no COPIED flag), so a write replaces it; its refcount says 0.
    await patch(path, l2, u64(data));
    await patch(path, 2 * CS + (data / CS) * 2, (v) => v.setUint16(0, 0), 2);
    const d = await Qcow2Disk.open(path, { readOnly: false });
    await d.write(0, [new Uint8Array(512).fill(9)]);
    await assert.rejects(d.flush(), refused('refcount block', 'EIO'));
    const b = new Uint8Array(1024);
    await d.read(0, [b]);
    assert.deepEqual([b[0], b[512]], [9, 5]);
    await d.close().catch(() => { });
});
test('fuzz: 400 seeded mutations of a header are refused with a typed error or open and serve I/O', async (t) => {
    const base = await readFile(await image(t, true));
    const dir = await mkdtemp(join(tmpdir(), 'xenode-qcow2-fuzz-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const rand = rng(0x9c02 ^ 14);
    let opened = 0;
    for (let i = 0; i < 400; i++) {
        const img = Buffer.from(base);
        const flips = 1 + Math.floor(rand() * 4);
        for (let f = 0; f < flips; f++) {
            // Mostly the header's fields, sometimes the extensions, the L1 table or the refcount table.
            const r = rand();
            const at = r < 0.7 ? Math.floor(rand() * 112) : r < 0.85 ? 112 + Math.floor(rand() * 512) : r < 0.93 ? L1 + Math.floor(rand() * 16) : CS + Math.floor(rand() * 16);
            img[at] = rand() < 0.5 ? Math.floor(rand() * 256) : img[at] ^ (1 << Math.floor(rand() * 8));
        }
        const path = join(dir, `f${i}.qcow2`);
        await writeFile(path, img);
        try {
            const d = await Qcow2Disk.open(path, { readOnly: rand() < 0.5 });
            opened++;
            const n = Math.min(d.sectors, 16);
            try {
                if (n > 0) {
                    await d.read(0, [new Uint8Array(n * 512)]);
                    if (!d.readOnly)
                        await d.write(d.sectors - n, [new Uint8Array(n * 512).fill(3)]);
                }
                await d.close();
            }
            catch (e) {
                assert.ok(isXenError(e), `mutation ${i}: I/O failed with ${String(e)}`);
                await d.close().catch((e2) => assert.ok(isXenError(e2), `mutation ${i}: close failed with ${String(e2)}`));
            }
        }
        catch (e) {
            assert.ok(isXenError(e), `mutation ${i}: open failed with ${String(e)}`);
        }
        await rm(path);
    }
    assert.ok(opened > 0, 'some mutations leave a usable image');
});
//# sourceMappingURL=header.test.js.map