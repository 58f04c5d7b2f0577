// Live VDI migration between SRs of one host: the VDI keeps its uuid and data and moves its
// records and files; under a guest writing through blkfront no acknowledged write is lost and
// the guest reads what it wrote on the destination; a failure mid-way leaves the guest on a
// consistent source and nothing in the destination.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MirrorDisk } from '../../../src/storage/mirror.js';
import { imageFormat } from '../../../src/storage/open.js';
import { RamDisk } from '../../../src/storage/ram.js';
import { Vdis } from '../../../src/storage/vdi.js';
import { vdiLiveDisks } from '../../../src/toolstack/devices.js';
import { connected } from '../../support/blk.js';
import { guestWriter, storageRig, tagged } from '../../support/storage.js';
const dir = mkdtempSync(join(tmpdir(), 'xenode-migrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fill = tagged;
const files = (d) => readdirSync(d).filter((f) => !f.startsWith('.')).sort();
async function setup(format) {
    const r = storageRig(join(dir, `${format}-${Math.random().toString(36).slice(2)}`));
    const fast = await r.storage.create({ name: 'fast', type: 'file', path: join(r.state, 'fast') });
    const root = await r.vdis.create({ sr: 'default', name: 'root', size: '16M', format });
    const d = await imageFormat(format).open(join(r.images, root.record.location), { readOnly: false });
    await d.write(0, [fill(0, 64, 1)]);
    await d.close();
    return { r, fast: fast.path, root };
}
async function readVdi(images, v, sectors) {
    const d = await imageFormat(v.record.sm_config['format']).open(join(images, v.record.location), { readOnly: true });
    try {
        const b = new Uint8Array(sectors * 512);
        await d.read(0, [b]);
        return b;
    }
    finally {
        await d.close();
    }
}
for (const format of ['vhd', 'qcow2']) {
    test(`${format}: vdi-migrate without a guest moves the VDI (same uuid, same data) and leaves nothing in the source`, async () => {
        const { r, fast, root } = await setup(format);
        const done = [];
        const v = await r.vdis.migrate('root', 'fast', { progress: (n) => void done.push(n) });
        assert.equal(v.record.uuid, root.record.uuid);
        assert.equal(v.srName, 'fast');
        assert.equal(v.maxPausedMs, 0);
        assert.ok(done.length > 0, 'progress was reported');
        assert.ok(Buffer.from(await readVdi(fast, v, 64)).equals(fill(0, 64, 1)));
        await r.vdis.collectGarbage(await r.storage.resolve('default'), { duty: 1 });
        assert.deepEqual(files(r.images), []);
        assert.equal(files(fast).length, 2, 'the leaf and its base');
        assert.deepEqual((await r.vdis.list()).filter((x) => x.record.managed).map((x) => x.record.name_label), ['root']);
        await r.db.close();
    });
}
for (const [format, fail] of [['vhd', false], ['vhd', true], ['qcow2', false]]) {
    test(`${format}: vdi-migrate under a guest writing through blkfront${fail ? ', failing after the copy: the guest stays on a consistent source' : ': no acknowledged write lost'}`, async (t) => {
        const { r, fast, root } = await setup(format);
        const path = join(r.images, root.record.location);
        const { rig: blk, f } = await connected(t, undefined, `vdev=xvda, format=${format}, target=${path}`);
        const vdis = new Vdis(r.storage, async () => [], (vdi) => vdiLiveDisks(blk.host, vdi));
        // Sectors 0..63 hold generation 1 (setup wrote them); the guest goes on from there.
        const w = guestWriter(f, 4096, 1);
        const { acked } = w;
        await w.more(100);
        const migrating = vdis.migrate('root', 'fast', fail ? { onStep: (s) => { if (s === 'copied')
                throw new Error('injected failure'); } } : {});
        if (fail)
            await assert.rejects(migrating, /injected failure/);
        const moved = fail ? undefined : await migrating;
        await w.more(100);
        await w.stop();
        await f.flush();
        for (const [sector, g] of acked) {
            const b = new Uint8Array(8 * 512);
            await f.read(sector, [b]);
            assert.ok(Buffer.from(b).equals(fill(sector, 8, g)), `guest: sector ${sector} is not generation ${g}`);
        }
        const v = (await vdis.list()).find((x) => x.record.uuid === root.record.uuid);
        if (fail) {
            assert.equal(v.srName, 'default');
            assert.deepEqual(files(fast), []);
        }
        else {
            assert.equal(v.srName, 'fast');
            assert.ok(moved.mirroredBytes > 0, 'writes were mirrored');
            assert.ok(moved.maxPausedMs < 2000, `paused ${moved.maxPausedMs} ms`);
            // The destination's image holds every acknowledged write (the guest flushed).
            const image = await readVdi(fast, v, 4096);
            for (const [sector, g] of acked) {
                assert.ok(Buffer.from(image.subarray(sector * 512, (sector + 8) * 512)).equals(fill(sector, 8, g)), `destination: sector ${sector} is not generation ${g}`);
            }
        }
        await r.db.close();
    });
}
test('a mirror acknowledges a write once both sides have it, and drops a failing target without failing the guest', async () => {
    const src = new RamDisk(1 << 20);
    const dst = new RamDisk(1 << 20);
    const m = new MirrorDisk(src, dst);
    await m.write(8, [fill(8, 8, 7)]);
    for (const d of [src, dst]) {
        const b = new Uint8Array(4096);
        await d.read(8, [b]);
        assert.ok(Buffer.from(b).equals(fill(8, 8, 7)));
    }
    const broken = new MirrorDisk(src, { write: () => Promise.reject(new Error('disk full')), flush: () => { } });
    await broken.write(16, [fill(16, 8, 8)]);
    await broken.flush();
    assert.match(broken.broken.message, /disk full/);
    assert.equal(broken.mirrored, 0);
});
//# sourceMappingURL=migrate.test.js.map