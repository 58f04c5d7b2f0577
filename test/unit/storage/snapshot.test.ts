// Snapshots, clones and the garbage collector as XCP's FileSR and sm's cleanup do them: the
// VDI keeps its uuid and file over a hidden base, snapshots read what was there, clones are
// writable and independent, O(1) files; destroying a snapshot coalesces the leaf back into its
// base, two snapshots in a row coalesce a hidden base into another (relinking its children);
// a snapshot under a guest writing through blkfront loses no acknowledged write; kill -9 at
// every step of a coalesce leaves a chain that reads the same and the next run finishes it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { link, mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { XenError, isXenError } from '../../../src/errors.js';
import { collectGarbage, recover } from '../../../src/storage/gc.js';
import { JOURNAL_DIR, readJournals } from '../../../src/storage/journal.js';
import { imageFormat } from '../../../src/storage/open.js';
import { BASE_NAME, PARENT_KEY, snapshotVdi, type LiveDisk, type LiveDisks, type SnapshotHooks } from '../../../src/storage/snapshot.js';
import { CREATED_KEY, srPath } from '../../../src/storage/sr.js';
import { createVhd } from '../../../src/storage/vhd/create.js';
import { Vdis, type VdiView } from '../../../src/storage/vdi.js';
import { vdiLiveDisks } from '../../../src/toolstack/devices.js';
import { connected } from '../../support/blk.js';
import { killAfterFlushed } from '../../support/kill-child.js';
import { guestWriter, storageRig, tagged, type StorageRig } from '../../support/storage.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-snap-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const rig = (state = join(dir, `s${n++}`)) => storageRig(state);
const fill = tagged;

async function io(r: StorageRig, v: VdiView, fn: (d: Awaited<ReturnType<ReturnType<typeof imageFormat>['open']>>) => Promise<void>, readOnly = false) {
  const d = await imageFormat(v.record.sm_config['format']!).open(join(r.images, v.record.location), { readOnly });
  try {
    await fn(d);
  } finally {
    await d.close();
  }
}

async function reads(r: StorageRig, v: VdiView, sector: number, expect: Uint8Array, what: string) {
  await io(r, v, async (d) => {
    const b = new Uint8Array(expect.byteLength);
    await d.read(sector, [b]);
    assert.ok(Buffer.from(b).equals(expect), `${what}: sector ${sector} differs`);
  }, true);
}

const view = async (r: StorageRig, name: string) => (await r.vdis.list()).find((v) => v.record.name_label === name || v.record.uuid === name)!;

for (const format of ['vhd', 'qcow2']) {
  test(`${format}: snapshot and clone as FileSR: hidden base, the leaf keeps uuid and file, snapshot reads the past, clone is independent`, async () => {
    const r = rig();
    const root = await r.vdis.create({ sr: 'default', name: 'root', size: '64M', format });
    await io(r, root, (d) => Promise.resolve(d.write(0, [fill(0, 64, 1)])).then(() => d.write(8192, [fill(8192, 8, 1)])));
    const snap = await r.vdis.snapshot('root', { name: 'before', clone: false });
    assert.equal(snap.pausedMs, 0);
    const leaf = await view(r, root.record.uuid);
    assert.equal(leaf.record.location, root.record.location);
    const base = (await r.vdis.list()).find((v) => v.record.name_label === BASE_NAME)!;
    assert.ok(base, 'a hidden base');
    assert.equal(base.record.managed, false);
    assert.equal(base.record.read_only, true);
    assert.equal(leaf.record.sm_config[PARENT_KEY], base.record.uuid);
    assert.equal(snap.record.sm_config[PARENT_KEY], base.record.uuid);
    assert.equal(snap.record.is_a_snapshot, true);
    assert.equal(snap.record.read_only, true);
    assert.equal(snap.record.virtual_size, root.record.virtual_size);
    const snapOf = await r.db.read((tx) => tx.VDI.get(snap.record.snapshot_of).uuid);
    assert.equal(snapOf, root.record.uuid);
    assert.ok(Date.parse(snap.record.snapshot_time) > Date.now() - 60_000);
    // Writes after the snapshot go to the leaf only.
    await io(r, leaf, (d) => Promise.resolve(d.write(0, [fill(0, 8, 2)])));
    await reads(r, leaf, 0, Buffer.concat([fill(0, 8, 2), fill(8, 56, 1)]), 'leaf');
    await reads(r, snap, 0, fill(0, 64, 1), 'snapshot');
    await reads(r, snap, 8192, fill(8192, 8, 1), 'snapshot');
    await assert.rejects(r.vdis.diskParams(base.record.uuid, 'ro'), /hidden base/);
    // A clone of the read-only snapshot is a child of it; writable and independent.
    const clone = await r.vdis.snapshot('before', { name: 'copy', clone: true });
    assert.equal(clone.record.read_only, false);
    assert.equal(clone.record.is_a_snapshot, false);
    assert.equal(clone.record.sm_config[PARENT_KEY], snap.record.uuid);
    await io(r, clone, (d) => Promise.resolve(d.write(8, [fill(8, 8, 3)])));
    await reads(r, clone, 0, Buffer.concat([fill(0, 8, 1), fill(8, 8, 3), fill(16, 48, 1)]), 'clone');
    await reads(r, snap, 0, fill(0, 64, 1), 'snapshot after the clone wrote');
    await reads(r, leaf, 0, Buffer.concat([fill(0, 8, 2), fill(8, 56, 1)]), 'leaf after the clone wrote');
    // A clone of the writable leaf splits it again: the VDI keeps its uuid.
    const clone2 = await r.vdis.snapshot('root', { name: 'copy2', clone: true });
    await reads(r, clone2, 0, Buffer.concat([fill(0, 8, 2), fill(8, 56, 1)]), 'clone of the leaf');
    assert.equal((await view(r, root.record.uuid)).record.location, root.record.location);
    await r.db.close();
  });

  test(`${format}: destroying the snapshot coalesces the leaf into its base (leaf coalesce); the VDI keeps uuid, file and data`, async () => {
    const r = rig();
    const root = await r.vdis.create({ sr: 'default', name: 'root', size: '16M', format });
    await io(r, root, (d) => Promise.resolve(d.write(0, [fill(0, 32, 1)])));
    const snap = await r.vdis.snapshot('root', { name: 's', clone: false });
    await io(r, root, (d) => Promise.resolve(d.write(16, [fill(16, 32, 2)])));
    await r.vdis.destroy(snap.record.uuid);
    const sr = await r.storage.resolve('default');
    await r.vdis.collectGarbage(sr, { duty: 1 });
    const all = await r.vdis.list();
    assert.deepEqual(all.map((v) => v.record.uuid), [root.record.uuid]);
    assert.equal(all[0]!.record.sm_config[PARENT_KEY], undefined);
    assert.deepEqual(readdirSync(r.images).filter((f) => !f.startsWith('.')), [root.record.location]);
    await reads(r, all[0]!, 0, Buffer.concat([fill(0, 16, 1), fill(16, 32, 2)]), 'coalesced leaf');
    await r.db.close();
  });

  test(`${format}: two snapshots, the first destroyed: the hidden base under it is coalesced with the next base, whose children are relinked`, async () => {
    const r = rig();
    const root = await r.vdis.create({ sr: 'default', name: 'root', size: '16M', format });
    await io(r, root, (d) => Promise.resolve(d.write(0, [fill(0, 16, 1)])));
    const s1 = await r.vdis.snapshot('root', { name: 's1', clone: false });
    await io(r, root, (d) => Promise.resolve(d.write(8, [fill(8, 16, 2)])));
    const s2 = await r.vdis.snapshot('root', { name: 's2', clone: false });
    await io(r, root, (d) => Promise.resolve(d.write(16, [fill(16, 16, 3)])));
    await r.vdis.destroy(s1.record.uuid);
    // The destroy started a run in the background; this one waits for it.
    await r.vdis.collectGarbage(await r.storage.resolve('default'), { duty: 1 });
    const all = await r.vdis.list();
    assert.equal(all.length, 3, 'root, s2 and one base');
    const base = all.find((v) => !v.record.managed)!;
    assert.equal((await view(r, 's2')).record.sm_config[PARENT_KEY], base.record.uuid);
    assert.equal((await view(r, root.record.uuid)).record.sm_config[PARENT_KEY], base.record.uuid);
    assert.equal(readdirSync(r.images).filter((f) => !f.startsWith('.')).length, 3);
    await reads(r, s2, 0, Buffer.concat([fill(0, 8, 1), fill(8, 16, 2)]), 's2');
    await reads(r, root, 0, Buffer.concat([fill(0, 8, 1), fill(8, 8, 2), fill(16, 16, 3)]), 'root');
    await r.db.close();
  });
}

test('snapshots are refused for raw VDIs, in RAM SRs, past the chain limit, and with a bad name', async () => {
  const r = rig();
  await r.vdis.create({ sr: 'default', name: 'plain', size: '1M' });
  await assert.rejects(r.vdis.snapshot('plain', { name: 's', clone: false }), (e: Error) => isXenError(e, 'EOPNOTSUPP') && /vhd or qcow2/.test(e.message));
  await r.vdis.create({ sr: 'default', name: 'v', size: '1M', format: 'vhd' });
  await assert.rejects(r.vdis.snapshot('v', { name: 'a/b', clone: false }), /'\/'/);
  for (let i = 0; i < 29; i++) await r.vdis.snapshot('v', { name: `s${i}`, clone: false });
  await assert.rejects(r.vdis.snapshot('v', { name: 'one-too-many', clone: false }), (e: Error) => isXenError(e, 'EMLINK'));
  await r.db.close();
});

test('a snapshot under a guest writing through blkfront: no acknowledged write lost, both sides consistent, I/O paused briefly', async (t) => {
  const r = rig();
  const root = await r.vdis.create({ sr: 'default', name: 'root', size: '32M', format: 'vhd' });
  const path = join(r.images, root.record.location);
  const { rig: blk, f } = await connected(t, undefined as never, `vdev=xvda, format=vhd, target=${path}`);
  const live = (vdi: { uuid: string; path: string | null }) => vdiLiveDisks(blk.host, vdi);
  const vdis = new Vdis(r.storage, async () => [], live);
  // The guest writes sector runs, each tagged with its generation; a snapshot lands mid-stream.
  const w = guestWriter(f, 8192);
  const { acked } = w;
  await w.more(200);
  const snap = await vdis.snapshot('root', { name: 'live', clone: false });
  const genAtSnap = w.gen;
  await w.more(200);
  await w.stop();
  await f.flush();
  assert.ok(snap.pausedMs < 1000, `paused ${snap.pausedMs} ms`);
  // What the guest reads now is exactly what it last wrote.
  for (const [sector, g] of acked) {
    const b = new Uint8Array(8 * 512);
    await f.read(sector, [b]);
    assert.ok(Buffer.from(b).equals(fill(sector, 8, g)), `guest: sector ${sector} is not generation ${g}`);
  }
  // The snapshot holds, for each run, a generation written before it was taken.
  await io(r, snap, async (d) => {
    for (const sector of acked.keys()) {
      const b = new Uint8Array(8 * 512);
      await d.read(sector, [b]);
      const g = new DataView(b.buffer).getUint32(4, true);
      if (g === 0) continue;
      assert.ok(Buffer.from(b).equals(fill(sector, 8, g)), `snapshot: sector ${sector} is torn`);
      assert.ok(g <= genAtSnap, `snapshot: sector ${sector} has generation ${g}, written after the snapshot (${genAtSnap})`);
    }
  }, true);
  await r.db.close();
});

test('a VDI sr-scan found, snapshotted: its new leaf is xenode\'s, so the collector coalesces the chain; the found image keeps being the user\'s', async () => {
  const r = rig();
  const hand = '3e7a9c41-2b5d-4f68-9a1c-0d2e4f6a8b10.vhd'; // sr-scan introduces images named <uuid>.<ext>
  await mkdir(r.images, { recursive: true });
  await createVhd(join(r.images, hand), { type: 'dynamic', size: 16 * 2 ** 20 });
  const sr = await r.storage.resolve('default');
  await r.vdis.scan('default');
  await r.vdis.collectGarbage(sr, { duty: 1 });
  const found = await view(r, hand);
  assert.notEqual(found.record.other_config[CREATED_KEY], 'true');
  await io(r, found, (d) => Promise.resolve(d.write(0, [fill(0, 16, 1)])));
  const snap = await r.vdis.snapshot(found.record.uuid, { name: 's', clone: false });
  const base = (await r.vdis.list()).find((v) => v.record.name_label === BASE_NAME)!;
  assert.equal((await view(r, found.record.uuid)).record.other_config[CREATED_KEY], 'true', 'the leaf is an image xenode made');
  assert.notEqual(base.record.other_config[CREATED_KEY], 'true', 'the base is the image sr-scan found');
  await io(r, found, (d) => Promise.resolve(d.write(8, [fill(8, 16, 2)])));
  await r.vdis.destroy(snap.record.uuid);
  const report = await r.vdis.collectGarbage(sr, { duty: 1 });
  const all = await r.vdis.list();
  assert.deepEqual(all.map((v) => v.record.uuid), [found.record.uuid], `coalesced: ${JSON.stringify(report)}`);
  assert.equal(all[0]!.record.sm_config[PARENT_KEY], undefined);
  assert.notEqual(all[0]!.record.other_config[CREATED_KEY], 'true', 'coalesced into the found image: the user\'s again');
  assert.deepEqual(readdirSync(r.images).filter((f) => !f.startsWith('.')), [hand]);
  await reads(r, all[0]!, 0, Buffer.concat([fill(0, 8, 1), fill(8, 16, 2)]), 'the VDI after the coalesce');
  assert.equal((await r.vdis.destroy(found.record.uuid)).kept, join(r.images, hand), 'vdi-destroy keeps the found image');
  await r.db.close();
});

test('a power cut that kept a snapshot\'s records but not its rename: recovery puts the VDI back on its image and drops both records', async () => {
  const r = rig();
  const root = await r.vdis.create({ sr: 'default', name: 'root', size: '16M', format: 'vhd' });
  await io(r, root, (d) => Promise.resolve(d.write(0, [fill(0, 16, 1)])));
  const snap = await r.vdis.snapshot('root', { name: 's', clone: false });
  const base = (await r.vdis.list()).find((v) => v.record.name_label === BASE_NAME)!;
  // What the disk may hold after the cut: the records committed, the directory as it was
  // before the rename (the VDI's name still the old image's, the new leaf under its
  // temporary name), and the journal, whose removal came last.
  const tmp = `.snapshot-${snap.record.uuid}.vhd`;
  await rename(join(r.images, root.record.location), join(r.images, tmp));
  await link(join(r.images, base.record.location), join(r.images, root.record.location));
  await mkdir(join(r.images, JOURNAL_DIR), { recursive: true });
  await writeFile(join(r.images, JOURNAL_DIR, `${randomUUID()}.json`), JSON.stringify({
    op: 'snapshot', vdi: root.record.uuid, format: 'vhd', leaf: root.record.location, tmp,
    base: { uuid: base.record.uuid, location: base.record.location },
    child: { uuid: snap.record.uuid, location: snap.record.location, name: 's', description: '', clone: false, time: snap.record.snapshot_time },
  }));
  const sr = await r.storage.resolve('default');
  await recover(r.db, sr, r.images, await readJournals(r.images));
  const all = await r.vdis.list();
  assert.deepEqual(all.map((v) => v.record.uuid), [root.record.uuid], 'the base and snapshot records are gone');
  assert.equal(all[0]!.record.sm_config[PARENT_KEY], undefined, 'the VDI has no parent again');
  assert.deepEqual(readdirSync(r.images).filter((f) => !f.startsWith('.')), [root.record.location]);
  await reads(r, all[0]!, 0, fill(0, 16, 1), 'the VDI after recovery');
  await r.db.close();
});

const child = fileURLToPath(new URL('../../support/gc-crash-child.js', import.meta.url));

for (const format of ['vhd', 'qcow2']) {
  test(`${format}: kill -9 after each step of a coalesce leaves a chain that reads the same, and the next run finishes it`, async () => {
    // Every step of one case, and the middle step of the other (each kill costs a process).
    const cases = format === 'vhd' ? [[0, false], [1, false], [2, false], [1, true]] as const : [[0, true], [1, true], [2, true], [1, false]] as const;
    for (const [k, leafCase] of cases) {
      const state = join(dir, `kill-${format}-${k}-${leafCase}`);
      const acked = await killAfterFlushed(child, [state, format, String(leafCase), String(k)], 0).catch((e: Error) => {
        throw new Error(`step ${k}: ${e.message}`);
      });
      assert.equal(acked, 0);
      const r = rig(state);
      const sr = await r.storage.resolve('default');
      await collectGarbage(r.db, sr, (await r.db.read((tx) => srPath(tx, sr)))!, { duty: 1 });
      const all = await r.vdis.list();
      const root = all.find((v) => v.record.name_label === 'root')!;
      await reads(r, root, 0, Buffer.concat([fill(0, 8, 1), fill(8, 8, 2), fill(16, 16, 3)]), `root after a kill at step ${k}`);
      if (!leafCase) await reads(r, all.find((v) => v.record.name_label === 's2')!, 0, Buffer.concat([fill(0, 8, 1), fill(8, 16, 2)]), `s2 after a kill at step ${k}`);
      assert.equal(all.filter((v) => !v.record.managed).length, leafCase ? 0 : 1, `hidden bases left after a kill at step ${k}`);
      await r.db.close();
    }
  });
}

/** What is in the SR's directory besides dot files, and the journals left. */
function leftIn(images: string): { files: string[]; journals: string[] } {
  const journals = join(images, JOURNAL_DIR);
  return { files: readdirSync(images).filter((f) => !f.startsWith('.')).sort(), journals: existsSync(journals) ? readdirSync(journals) : [] };
}

for (const format of ['vhd', 'qcow2'] as const) {
  test(`${format}: a snapshot or clone that fails at its switch (the swap, the mirror's wrap, the step before) leaves no file, record or journal, and the guest on its disk`, async (t) => {
    const r = rig();
    const root = await r.vdis.create({ sr: 'default', name: 'root', size: '32M', format });
    const path = join(r.images, root.record.location);
    const { rig: blk, f } = await connected(t, undefined as never, `vdev=xvda, format=${format}, target=${path}`);
    const w = guestWriter(f, 4096);
    const injected = () => new XenError('EIO', 'injected failure');
    for (const at of ['swap', 'wrap', 'before'] as const) {
      for (const clone of [false, true]) {
        // The real backend, whose swap fails when asked to: a fault injected where a backend can fail.
        const live: LiveDisks = async (v) => {
          const found = await vdiLiveDisks(blk.host, v);
          const be = found.live[0]!;
          const failing: LiveDisk = {
            get disk() {
              return be.disk;
            },
            switchDisk: (open) => be.switchDisk(open),
            swapDisk: (next, old) => (at === 'swap' ? Promise.reject(injected()) : be.swapDisk(next, old)),
          };
          return { ...found, live: [failing] };
        };
        const hooks: SnapshotHooks = at === 'wrap' ? { wrap: () => Promise.reject(injected()) } : at === 'before' ? { before: () => Promise.reject(injected()) } : {};
        const served = (await vdiLiveDisks(blk.host, { uuid: root.record.uuid, path })).live[0]!.disk;
        await w.more(50);
        await assert.rejects(snapshotVdi(r.db, root.ref, { name: `s-${at}-${clone}`, clone }, live, hooks), /injected failure/, `${at}, clone ${clone}`);
        await w.more(50);
        assert.deepEqual(leftIn(r.images), { files: [root.record.location], journals: [] }, `files after a failure at ${at}, clone ${clone}`);
        const all = await r.vdis.list();
        assert.deepEqual(all.map((v) => [v.record.uuid, v.record.sm_config[PARENT_KEY]]), [[root.record.uuid, undefined]], `records after a failure at ${at}`);
        assert.equal((await vdiLiveDisks(blk.host, { uuid: root.record.uuid, path })).live[0]!.disk, served, `the guest is on its own disk after a failure at ${at}`);
      }
    }
    // The VDI is whole: the guest reads what it wrote, and a snapshot works.
    await w.stop();
    await f.flush();
    for (const [s, g] of w.acked) {
      const b = new Uint8Array(8 * 512);
      await f.read(s, [b]);
      assert.ok(Buffer.from(b).equals(fill(s, 8, g)), `guest: sector ${s} is not generation ${g}`);
    }
    const vdis = new Vdis(r.storage, async () => [], (v) => vdiLiveDisks(blk.host, v));
    await vdis.snapshot('root', { name: 'after', clone: false });
    assert.equal(leftIn(r.images).files.length, 3);
    await r.db.close();
  });
}

test('sr-scan during a snapshot or clone introduces nothing it is making: the base (a second name of the leaf) and the new image are skipped', async () => {
  for (const clone of [false, true]) {
    const r = rig();
    const v = await r.vdis.create({ sr: 'default', name: 'root', size: '16M', format: 'vhd' });
    let scan: Awaited<ReturnType<Vdis['scan']>> | undefined;
    await snapshotVdi(r.db, v.ref, { name: 's', clone }, async () => ({ live: [], foreign: [] }), {
      before: async () => { scan = await r.vdis.scan('default'); },
    });
    assert.deepEqual(scan!.introduced, [], `clone ${clone}`);
    assert.deepEqual(scan!.skipped.map((s) => s.why.replace(/^has 2 hard links.*/, 'linked').replace(/^an operation in progress.*/, 'owned')).sort(), ['linked', 'owned'], `clone ${clone}`);
    assert.deepEqual((await r.vdis.list()).map((x) => `${x.record.name_label}${x.record.missing ? ' (missing)' : ''}`).sort(), ['base copy', 'root', 's'], `clone ${clone}`);
    await r.db.close();
  }
});
