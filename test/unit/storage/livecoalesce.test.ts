// Leaf-coalesce under a running guest (livecoalesce.ts): the guest writes through blkfront all
// along, the leaf ends coalesced into its parent, which the guest then uses under the leaf's
// name; no acknowledged write is lost. kill -9 before the pause, after the switch and after
// the records: recovery leaves every flushed write in the VDI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { collectGarbage } from '../../../src/storage/gc.js';
import { imageFormat } from '../../../src/storage/open.js';
import { Qcow2Disk } from '../../../src/storage/qcow2/qcow2.js';
import { PARENT_KEY } from '../../../src/storage/snapshot.js';
import { srPath } from '../../../src/storage/sr.js';
import { Vdis } from '../../../src/storage/vdi.js';
import { vdiLiveDisks } from '../../../src/toolstack/devices.js';
import { connected } from '../../support/blk.js';
import { killWhenAsked } from '../../support/kill-child.js';
import { guestWriter, storageRig, tagged } from '../../support/storage.js';

const QEMU_IMG = '/usr/bin/qemu-img';
const dir = mkdtempSync(join(tmpdir(), 'xenode-livecoalesce-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every 8-sector run of the first `span` sectors holds a whole tagged run of at least the generation `acked` says (`least` if none). */
async function holds(path: string, span: number, acked: ReadonlyMap<number, number>, what: string, least = 1, format = 'vhd'): Promise<void> {
  const d = await imageFormat(format).open(path, { readOnly: true });
  try {
    for (let s = 0; s < span; s += 8) {
      const b = new Uint8Array(8 * 512);
      await d.read(s, [b]);
      const g = new DataView(b.buffer).getUint32(4, true);
      if (g === 0 && least === 0 && !acked.has(s)) continue; // never written
      assert.ok(Buffer.from(b).equals(tagged(s, 8, g)), `${what}: sector ${s} is torn or misplaced`);
      assert.ok(g >= (acked.get(s) ?? least), `${what}: sector ${s} has generation ${g}, older than the acknowledged ${acked.get(s)}`);
    }
  } finally {
    await d.close();
  }
}

for (const format of ['vhd', 'qcow2'] as const) {
  test(`a ${format} leaf a guest writes to is coalesced under it: no acknowledged write lost; the guest goes on on the parent, under the leaf's name`, async (t) => {
    const r = storageRig(join(dir, `live-${format}`));
    const root = await r.vdis.create({ sr: 'default', name: 'root', size: '32M', format });
    const path = join(r.images, root.record.location);
    const span = 8192;
    const d = await imageFormat(format).open(path, { readOnly: false });
    for (let s = 0; s < span; s += 8) await d.write(s, [tagged(s, 8, 1)]);
    await d.close();
    const { rig: blk, f } = await connected(t, undefined as never, `vdev=xvda, format=${format}, target=${path}`);
    const live = (v: { uuid: string; path: string | null }) => vdiLiveDisks(blk.host, v);
    const vdis = new Vdis(r.storage, async (v) => ((await live(v)).live.length ? ['the guest'] : []), live);
    const w = guestWriter(f, span, 1);
    await w.more(100);
    const snap = await vdis.snapshot('root', { name: 's', clone: false });
    await w.more(300);
    // The snapshot goes (its file too): the base has one child left, the leaf the guest writes to.
    await r.db.transaction((tx) => tx.VDI.destroy(tx.VDI.getByUuid(snap.record.uuid)));
    await rm(join(r.images, snap.record.location));
    const sr = await r.storage.resolve('default');
    const report = await vdis.collectGarbage(sr, { duty: 0.5 });
    await w.more(200);
    await w.stop();
    await f.flush();
    assert.deepEqual(report.coalesced.map((c) => [c.leaf, c.live]), [[true, true]], JSON.stringify(report));
    const all = await r.vdis.list();
    assert.deepEqual(all.map((v) => v.record.uuid), [root.record.uuid]);
    assert.equal(all[0]!.record.sm_config[PARENT_KEY], undefined);
    assert.deepEqual(readdirSync(r.images).filter((n) => !n.startsWith('.')), [root.record.location]);
    const be = (await live({ uuid: root.record.uuid, path })).live[0]!;
    const images = be.disk instanceof Qcow2Disk ? (be.disk.backing ? 2 : 1) : (be.disk as unknown as { images: unknown[] }).images.length;
    assert.equal(images, 1, 'the guest is on the one image left');
    // What the guest reads is what it last wrote, and so is the file.
    for (const [s, g] of w.acked) {
      const b = new Uint8Array(8 * 512);
      await f.read(s, [b]);
      assert.ok(Buffer.from(b).equals(tagged(s, 8, g)), `guest: sector ${s} is not generation ${g}`);
    }
    await holds(path, span, w.acked, 'the image', 1, format);
    await blk.close();
    if (format === 'qcow2') {
      // The parent written through a second handle while the guest read it through its own: no corruption.
      if (existsSync(QEMU_IMG)) await promisify(execFile)(QEMU_IMG, ['check', '-f', 'qcow2', path]);
      else t.diagnostic('qemu-img not installed (apt-get install qemu-utils): the image is checked by reading it only');
    }
    await r.db.close();
  });
}

const child = fileURLToPath(new URL('../../support/livecoalesce-crash-child.js', import.meta.url));

for (const format of ['vhd', 'qcow2']) {
  test(`${format}: kill -9 of a live leaf-coalesce before the pause, after the switch, after the records: every flushed write is in the VDI after recovery`, async (t) => {
    for (const k of [0, 1, 2]) {
      const state = join(dir, `kill-${format}-${k}`);
      const acked = await killWhenAsked(child, [state, String(k), format]).catch((e: Error) => {
        throw new Error(`${format} ${k}: ${e.message}`);
      });
      assert.ok(acked.size > 0, `step ${k}: the guest wrote`);
      const r = storageRig(state);
      const sr = await r.storage.resolve('default');
      await collectGarbage(r.db, sr, (await r.db.read((tx) => srPath(tx, sr)))!, { duty: 1 });
      const all = await r.vdis.list();
      const root = all.find((v) => v.record.name_label === 'root')!;
      assert.equal(root.record.sm_config[PARENT_KEY], undefined, `${format} step ${k}: coalesced after recovery`);
      const path = join(r.images, root.record.location);
      await holds(path, 4096, acked, `${format}: after a kill at step ${k}`, 1, format);
      if (format === 'qcow2') {
        if (existsSync(QEMU_IMG)) await promisify(execFile)(QEMU_IMG, ['check', '-f', 'qcow2', path]);
        else t.diagnostic('qemu-img not installed (apt-get install qemu-utils): the image is checked by reading it only');
      }
      await r.db.close();
    }
  });
}

test('the guest goes away during a live leaf-coalesce: the copy stops and the same run coalesces the leaf offline', async (t) => {
  const r = storageRig(join(dir, 'gone'));
  const root = await r.vdis.create({ sr: 'default', name: 'root', size: '32M', format: 'vhd' });
  const path = join(r.images, root.record.location);
  const span = 8192;
  const { rig: blk, f } = await connected(t, undefined as never, `vdev=xvda, format=vhd, target=${path}`);
  let gone = false;
  const live = async (v: { uuid: string; path: string | null }) => (gone ? { live: [], foreign: [] } : vdiLiveDisks(blk.host, v));
  const vdis = new Vdis(r.storage, async (v) => ((await live(v)).live.length ? ['the guest'] : []), live);
  const w = guestWriter(f, span, 0);
  await w.more(50);
  const snap = await vdis.snapshot('root', { name: 's', clone: false });
  await w.more(1000);
  await w.stop();
  await f.flush();
  await r.db.transaction((tx) => tx.VDI.destroy(tx.VDI.getByUuid(snap.record.uuid)));
  await rm(join(r.images, snap.record.location));
  let copying!: () => void;
  const started = new Promise<void>((resolve) => (copying = resolve));
  const sr = await r.storage.resolve('default');
  const gc = vdis.collectGarbage(sr, { duty: 0.02, progress: () => copying() });
  await started;
  gone = true;
  await blk.close();
  const report = await gc;
  assert.deepEqual(report.coalesced.map((c) => [c.leaf, c.live ?? false]), [[true, false]], JSON.stringify(report));
  assert.deepEqual(readdirSync(r.images).filter((n) => !n.startsWith('.')), [root.record.location]);
  await holds(path, span, w.acked, 'the image', 0);
  await r.db.close();
});
