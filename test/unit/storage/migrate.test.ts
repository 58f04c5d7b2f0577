// Live VDI migration between SRs of one host: the VDI keeps its uuid and data and moves its
// records and files; under a guest writing through blkfront no acknowledged write is lost and
// the guest reads what it wrote on the destination; a failure mid-way leaves the guest on a
// consistent source and nothing in the destination.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isXenError } from '../../../src/errors.js';
import { MirrorDisk } from '../../../src/storage/mirror.js';
import { imageFormat } from '../../../src/storage/open.js';
import { RamDisk } from '../../../src/storage/ram.js';
import { Vdis, type VdiView } from '../../../src/storage/vdi.js';
import { vdiLiveDisks } from '../../../src/toolstack/devices.js';
import { connected } from '../../support/blk.js';
import { killWhenAsked } from '../../support/kill-child.js';
import { guestWriter, storageRig, tagged } from '../../support/storage.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-migrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fill = tagged;

const files = (d: string) => readdirSync(d).filter((f) => !f.startsWith('.')).sort();

async function setup(format: string) {
  const r = storageRig(join(dir, `${format}-${Math.random().toString(36).slice(2)}`));
  const fast = await r.storage.create({ name: 'fast', type: 'file', path: join(r.state, 'fast') });
  const root = await r.vdis.create({ sr: 'default', name: 'root', size: '16M', format });
  const d = await imageFormat(format).open(join(r.images, root.record.location), { readOnly: false });
  await d.write(0, [fill(0, 64, 1)]);
  await d.close();
  return { r, fast: fast.path!, root };
}

async function readVdi(images: string, v: VdiView, sectors: number): Promise<Uint8Array> {
  const d = await imageFormat(v.record.sm_config['format']!).open(join(images, v.record.location), { readOnly: true });
  try {
    const b = new Uint8Array(sectors * 512);
    await d.read(0, [b]);
    return b;
  } finally {
    await d.close();
  }
}

for (const format of ['vhd', 'qcow2']) {
  test(`${format}: vdi-migrate without a guest moves the VDI (same uuid, same data) and leaves nothing in the source`, async () => {
    const { r, fast, root } = await setup(format);
    const done: number[] = [];
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

for (const format of ['vhd', 'qcow2']) {
  test(`${format}: sr-scan of the destination during a vdi-migrate introduces none of its files; the migration completes, one record each`, async () => {
    const { r, fast, root } = await setup(format);
    const scans: { step: string; introduced: string[]; owned: string[] }[] = [];
    const v = await r.vdis.migrate('root', 'fast', {
      onStep: async (step) => {
        if (step === 'moved' || step === 'switched') return;
        const s = await r.vdis.scan('fast');
        scans.push({ step, introduced: s.introduced, owned: s.skipped.filter((k) => /operation in progress/.test(k.why)).map((k) => k.file) });
      },
    });
    assert.deepEqual(scans.map((s) => s.step), ['mirroring', 'copied', 'composed']);
    for (const s of scans) {
      assert.deepEqual(s.introduced, [], `scan at ${s.step}`);
      assert.ok(s.owned.includes(`${root.record.uuid}.${imageFormat(format).extension}`), `scan at ${s.step} skips the destination's leaf: ${s.owned}`);
    }
    assert.equal(v.srName, 'fast');
    assert.ok(Buffer.from(await readVdi(fast, v, 64)).equals(fill(0, 64, 1)));
    // After it, the files are the VDI's and its new base's, each recorded once.
    const after = await r.vdis.scan('fast');
    assert.deepEqual(after.introduced, []);
    const inFast = (await r.vdis.list('fast')).map((x) => x.record);
    assert.deepEqual(inFast.map((x) => x.location).sort(), files(fast));
    assert.equal(new Set(inFast.map((x) => x.uuid)).size, inFast.length);
    assert.deepEqual(inFast.filter((x) => x.managed).map((x) => x.uuid), [root.record.uuid]);
    await r.db.close();
  });
}

for (const format of ['vhd', 'qcow2']) {
  test(`${format}: vdi-migrate of an image sr-scan found whose parent is outside its SR is refused; nothing of that file is copied`, async () => {
    const r = storageRig(join(dir, `${format}-out-${Math.random().toString(36).slice(2)}`));
    const f = imageFormat(format);
    const fast = (await r.storage.create({ name: 'fast', type: 'file', path: join(r.state, 'fast') })).path!;
    await r.storage.defaultSr();
    // A host file (here an image of the format, outside any SR) as the parent of an image put in the SR.
    const outside = join(r.state, `secret.${f.extension}`);
    await f.create(outside, 2 ** 20);
    const secret = await f.open(outside, { readOnly: false });
    await secret.write(0, [fill(0, 8, 7)]);
    await secret.close();
    const uuid = '5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    await f.layers!.createChild(join(r.images, `${uuid}.${f.extension}`), outside);
    assert.deepEqual((await r.vdis.scan('default')).introduced, [uuid]);
    await assert.rejects(r.vdis.migrate(uuid, 'fast'), (e: Error) => isXenError(e, 'EACCES') && /outside/.test(e.message));
    assert.deepEqual(files(fast), []);
    const v = (await r.vdis.list()).find((x) => x.record.uuid === uuid)!;
    assert.equal(v.srName, 'default');
    await r.db.close();
  });
}

for (const [format, fail] of [['vhd', false], ['vhd', true], ['qcow2', false]] as const) {
  test(`${format}: vdi-migrate under a guest writing through blkfront${fail ? ', failing after the copy: the guest stays on a consistent source' : ': no acknowledged write lost'}`, async (t) => {
    const { r, fast, root } = await setup(format);
    const path = join(r.images, root.record.location);
    const { rig: blk, f } = await connected(t, undefined as never, `vdev=xvda, format=${format}, target=${path}`);
    const vdis = new Vdis(r.storage, async () => [], (vdi) => vdiLiveDisks(blk.host, vdi));
    // Sectors 0..63 hold generation 1 (setup wrote them); the guest goes on from there.
    const w = guestWriter(f, 4096, 1);
    const { acked } = w;
    await w.more(100);
    const migrating = vdis.migrate('root', 'fast', fail ? { onStep: (s) => { if (s === 'copied') throw new Error('injected failure'); } } : {});
    if (fail) await assert.rejects(migrating, /injected failure/);
    const moved = fail ? undefined : await migrating;
    await w.more(100);
    await w.stop();
    await f.flush();
    for (const [sector, g] of acked) {
      const b = new Uint8Array(8 * 512);
      await f.read(sector, [b]);
      assert.ok(Buffer.from(b).equals(fill(sector, 8, g)), `guest: sector ${sector} is not generation ${g}`);
    }
    const v = (await vdis.list()).find((x) => x.record.uuid === root.record.uuid)!;
    if (fail) {
      assert.equal(v.srName, 'default');
      assert.deepEqual(files(fast), []);
    } else {
      assert.equal(v.srName, 'fast');
      assert.ok(moved!.mirroredBytes > 0, 'writes were mirrored');
      assert.ok(moved!.maxPausedMs < 2000, `paused ${moved!.maxPausedMs} ms`);
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
  const broken = new MirrorDisk(src, { write: () => Promise.reject(new Error('disk full')), flush: () => {} });
  await broken.write(16, [fill(16, 8, 8)]);
  await broken.flush();
  assert.match(broken.broken!.message, /disk full/);
  assert.equal(broken.mirrored, 0);
});

const crashChild = fileURLToPath(new URL('../../support/migrate-crash-child.js', import.meta.url));

test('kill -9 of the host at each step of a live vdi-migrate: after sr-scan the VDI is whole on one side, and nothing of the other is left', async () => {
  const steps = ['mirroring', 'copied', 'composed', 'moved', 'switched'];
  for (const [k, step] of steps.entries()) {
    const state = join(dir, `kill-migrate-${k}`);
    const acked = await killWhenAsked(crashChild, [state, String(k)]).catch((e: Error) => {
      throw new Error(`${step}: ${e.message}`);
    });
    const r = storageRig(state);
    for (const sr of ['default', 'fast']) await r.vdis.scan(sr);
    for (const sr of ['default', 'fast']) await r.vdis.collectGarbage(await r.storage.resolve(sr), { duty: 1 });
    const all = await r.vdis.list();
    const root = all.find((v) => v.record.name_label === 'root')!;
    assert.deepEqual(all.filter((v) => v.record.managed).map((v) => v.record.name_label), ['root'], `${step}: no VDI but root (no snapshot, nothing introduced)`);
    const onFast = root.record.SR === await r.storage.resolve('fast');
    assert.equal(onFast, k >= 3, `${step}: the VDI is on ${onFast ? 'the destination' : 'the source'}`);
    const other = onFast ? r.images : join(state, 'fast');
    assert.deepEqual(readdirSync(other).filter((n) => !n.startsWith('.')), [], `${step}: files left on the other side`);
    const d = await imageFormat('vhd').open(join(onFast ? join(state, 'fast') : r.images, root.record.location), { readOnly: true });
    try {
      for (let s = 0; s < 4096; s += 8) {
        const b = new Uint8Array(8 * 512);
        await d.read(s, [b]);
        const g = new DataView(b.buffer).getUint32(4, true);
        assert.ok(Buffer.from(b).equals(tagged(s, 8, g)), `${step}: sector ${s} is torn`);
        assert.ok(g >= (acked.get(s) ?? 1), `${step}: sector ${s} has generation ${g}, older than the acknowledged ${acked.get(s)}`);
      }
    } finally {
      await d.close();
    }
    await r.db.close();
  }
});

test("a leftover migration journal whose source SR is unplugged is deferred: other SRs' scans and the destination's collector go on", async () => {
  const r = storageRig(join(dir, `unplugged-${Math.random().toString(36).slice(2)}`));
  const old = await r.storage.create({ name: 'old', type: 'file', path: join(r.state, 'old') });
  const fast = await r.storage.create({ name: 'fast', type: 'file', path: join(r.state, 'fast') });
  const v = await r.vdis.create({ sr: 'old', name: 'disk', size: '1M' });
  // A crash mid vdi-migrate old → fast left its journal (and a half-made base) in fast.
  const base = `${randomUUID()}.raw`;
  writeFileSync(join(fast.path!, base), Buffer.alloc(512));
  mkdirSync(join(fast.path!, '.journal'), { mode: 0o700 });
  const journal = join(fast.path!, '.journal', `${randomUUID()}.json`);
  writeFileSync(journal, JSON.stringify({ op: 'migrate', vdi: v.record.uuid, files: [v.record.location, base], src: { sr: old.record.uuid, location: v.record.location } }));
  chmodSync(old.path!, 0o777);
  await assert.rejects(r.storage.plug(old.ref), { name: 'SrDirUnsafe' });
  const why = `VDI ${v.record.uuid}'s migration: SR 'old' it names is unplugged: recovered once that SR is plugged again`;
  assert.deepEqual((await r.vdis.scan('default')).deferred, [{ journal, why }]);
  const scan = await r.vdis.scan('fast');
  assert.deepEqual(scan.deferred, [{ journal, why }]);
  assert.deepEqual(scan.introduced, [], 'the half-made base it names is not introduced');
  assert.deepEqual((await r.vdis.collectGarbage(fast.ref)).deferred.map((d) => d.uuid), [v.record.uuid]);
  // Nothing of it was touched meanwhile; once the source is plugged again, it is recovered.
  assert.ok(existsSync(journal) && existsSync(join(fast.path!, base)));
  chmodSync(old.path!, 0o700);
  assert.deepEqual((await r.vdis.scan('old')).deferred, []);
  assert.ok(!existsSync(journal) && !existsSync(join(fast.path!, base)));
  assert.ok(existsSync(join(old.path!, v.record.location)));
  await r.db.close();
});
