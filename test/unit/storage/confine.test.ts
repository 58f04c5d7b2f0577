// An SR's images keep their chains inside the SR (hunt25 L2): an image that sr-scan found
// (or anyone put in the SR's directory) may name any file as its VHD parent or qcow2 backing
// file, and a raw backing file is any host file read as a disk. Where xenode opens an SR's
// image (a guest's vdi: disk through blkback, vdi-export and vdi-copy, the collector), a
// parent outside the SR's directory is refused before it is read, and the parent opened is the
// one checked.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import { imageFormat, openDisk } from '../../../src/storage/open.js';
import { createQcow2 } from '../../../src/storage/qcow2/create.js';
import { Storage } from '../../../src/storage/sr.js';
import { Vdis } from '../../../src/storage/vdi.js';
import { createDifferencing, createVhd } from '../../../src/storage/vhd/create.js';
import { SqliteHostDb } from '../../../src/toolstack/db/sqlite.js';
import { attachDisk } from '../../../src/toolstack/devices.js';
import { parseDiskSpec } from '../../../src/toolstack/diskspec.js';
import { Rig } from '../../support/blk.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-confine-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 2 ** 20;
const SECRET = Buffer.concat([Buffer.from('root:$6$hash-of-the-host:19000:0:99999:7:::\n'), Buffer.alloc(MiB)]).subarray(0, MiB);
const QCOW2 = '5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const VHD = '6b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e';

/** A host whose default SR holds a qcow2 image backed by a host file and a VHD whose parent is outside; both introduced by sr-scan. */
async function rig() {
  const state = mkdtempSync(join(dir, 's'));
  const images = join(state, 'images');
  mkdirSync(images);
  writeFileSync(join(state, 'shadow'), SECRET);
  await createQcow2(join(images, `${QCOW2}.qcow2`), { size: MiB, backing: { file: join(state, 'shadow'), format: 'raw' } });
  await createVhd(join(state, 'outside.vhd'), { type: 'dynamic', size: MiB });
  await createDifferencing(join(images, `${VHD}.vhd`), join(state, 'outside.vhd'));
  const db = SqliteHostDb.open(join(state, 'host.db'));
  const vdis = new Vdis(new Storage(db, images), async () => []);
  assert.deepEqual((await vdis.scan('default')).introduced.sort(), [QCOW2, VHD]);
  return { state, images, db, vdis };
}

const outside = (e: unknown) => isXenError(e, 'EACCES') && /(backing_file|parent locator)\b.*outside /.test((e as Error).message);

test('what is at stake: opened unconfined, the qcow2 image reads the host file it names', async () => {
  const r = await rig();
  const d = await imageFormat('qcow2').open(join(r.images, `${QCOW2}.qcow2`), { readOnly: true });
  const got = new Uint8Array(512);
  await d.read(0, [got]);
  await d.close();
  assert.deepEqual(Buffer.from(got), SECRET.subarray(0, 512));
  await r.db.close();
});

test('vdi-export and vdi-copy refuse an SR image whose parent or backing file is outside the SR', async () => {
  const r = await rig();
  for (const uuid of [QCOW2, VHD]) {
    await assert.rejects(r.vdis.export(uuid, { file: join(r.state, `${uuid}.out`), format: 'raw' }), outside, uuid);
    await assert.rejects(r.vdis.copy(uuid, {}), outside, uuid);
  }
  await r.db.close();
});

test('a guest cannot attach such a VDI: blkback confines a vdi: disk\'s chain to its SR', async (t) => {
  const r = await rig();
  const blk = new Rig();
  t.after(async () => {
    await blk.close();
    await r.db.close();
  });
  const g = blk.guest();
  await blk.daemon();
  const host = { ...blk.host, vdis: r.vdis };
  for (const uuid of [QCOW2, VHD]) {
    const { params } = await r.vdis.diskParams(uuid, 'ro');
    await assert.rejects(openDisk(params, { readOnly: true, vdi: true }), outside, uuid);
  }
  await assert.rejects(attachDisk(host, g.domid, parseDiskSpec(`vdev=xvda, access=ro, target=vdi:${QCOW2}`)), /outside /);
  // A chain inside the SR opens, confined.
  const base = await r.vdis.create({ sr: 'default', name: 'base', size: '1M', format: 'qcow2' });
  const leaf = join(r.images, '7c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e6f.qcow2');
  await createQcow2(leaf, { size: MiB, backing: { file: base.record.location, format: 'qcow2' } });
  await (await openDisk(`qcow2:${leaf}`, { readOnly: true, vdi: true })).close();
});

test('a parent is opened at the path that was checked: a symbolic link swapped after the check does not lead out', async () => {
  const images = mkdtempSync(join(dir, 'swap'));
  const outsideDir = mkdtempSync(join(dir, 'host'));
  const A = Buffer.alloc(512, 0xa1);
  const B = Buffer.alloc(512, 0xb2);
  // VHD: the parent and a copy of it (same uuid) outside the SR, holding other data.
  await createVhd(join(images, 'inside.vhd'), { type: 'dynamic', size: MiB });
  copyFileSync(join(images, 'inside.vhd'), join(outsideDir, 'outside.vhd'));
  for (const [file, data] of [[join(images, 'inside.vhd'), A], [join(outsideDir, 'outside.vhd'), B]] as const) {
    const d = await imageFormat('vhd').open(file, { readOnly: false });
    await d.write(0, [data]);
    await d.close();
  }
  writeFileSync(join(images, 'inside.raw'), Buffer.concat([A, Buffer.alloc(MiB - 512)]));
  writeFileSync(join(outsideDir, 'outside.raw'), Buffer.concat([B, Buffer.alloc(MiB - 512)]));
  const links = { vhd: ['inside.vhd', join(outsideDir, 'outside.vhd')], raw: ['inside.raw', join(outsideDir, 'outside.raw')] } as const;
  for (const [ext, [inside]] of Object.entries(links)) symlinkSync(inside, join(images, `link.${ext}`));
  await createDifferencing(join(images, 'child.vhd'), join(images, 'link.vhd'));
  await createQcow2(join(images, 'child.qcow2'), { size: MiB, backing: { file: join(images, 'link.raw'), format: 'raw' } });
  // Whoever can write in the SR swaps the link the moment its target has been checked.
  const realpath = fsp.realpath;
  fsp.realpath = (async (p: string, o?: unknown) => {
    const real = await realpath(p, o as never);
    const ext = /\/link\.(vhd|raw)$/.exec(String(p))?.[1] as keyof typeof links | undefined;
    if (ext) {
      rmSync(join(images, `link.${ext}`));
      symlinkSync(links[ext][1], join(images, `link.${ext}`));
    }
    return real;
  }) as typeof fsp.realpath;
  syncBuiltinESMExports();
  try {
    for (const format of ['vhd', 'qcow2']) {
      for (const [ext, [inside]] of Object.entries(links)) {
        rmSync(join(images, `link.${ext}`));
        symlinkSync(inside, join(images, `link.${ext}`));
      }
      const d = await imageFormat(format).open(join(images, `child.${format}`), { readOnly: true, confine: images });
      const got = new Uint8Array(512);
      await d.read(0, [got]);
      await d.close();
      assert.deepEqual(Buffer.from(got), A, `${format}: the data of the parent inside the SR`);
    }
  } finally {
    fsp.realpath = realpath;
    syncBuiltinESMExports();
  }
});

test('a parent or backing file that is a FIFO or a directory is refused with a typed error, never opened (a FIFO hung the probe)', { timeout: 60_000 }, async () => {
  const images = mkdtempSync(join(dir, 'kinds'));
  writeFileSync(join(images, 'pipe'), Buffer.alloc(MiB));
  writeFileSync(join(images, 'adir'), Buffer.alloc(MiB));
  await createQcow2(join(images, 'fifo.qcow2'), { size: MiB, backing: { file: join(images, 'pipe') } });
  await createQcow2(join(images, 'dir.qcow2'), { size: MiB, backing: { file: join(images, 'adir') } });
  await createQcow2(join(images, 'dirraw.qcow2'), { size: MiB, backing: { file: join(images, 'adir'), format: 'raw' } });
  for (const f of ['pipe', 'adir']) rmSync(join(images, f));
  execFileSync('mkfifo', [join(images, 'pipe')]);
  mkdirSync(join(images, 'adir'));
  const cases = [['fifo.qcow2', 'EINVAL', /pipe, a FIFO \(named pipe\): a parent must be a regular file or a block device/],
    ['dir.qcow2', 'EISDIR', /adir, a directory: a parent must be/], ['dirraw.qcow2', 'EISDIR', /adir, a directory/]] as const;
  for (const [file, errno, why] of cases) {
    await assert.rejects(imageFormat('qcow2').open(join(images, file), { readOnly: true, confine: images }), (e: Error) => {
      assert.ok(isXenError(e, errno) && e.name === 'Qcow2Error', `${file}: ${e.name} ${e.message}`);
      assert.match(e.message, why);
      return true;
    });
  }
});

test('a backing file swapped for a FIFO or a symbolic link after its check is refused by the probe, which never blocks nor follows', { timeout: 60_000 }, async () => {
  const images = mkdtempSync(join(dir, 'probe'));
  writeFileSync(join(images, 'base'), Buffer.alloc(MiB));
  writeFileSync(join(images, 'other'), Buffer.alloc(MiB));
  await createQcow2(join(images, 'top.qcow2'), { size: MiB, backing: { file: join(images, 'base') } });
  // Without its backing format (as `qemu-img create -b` without -F made them): opening it probes the file.
  const top = readFileSync(join(images, 'top.qcow2'));
  const ext = top.indexOf(Buffer.from([0xe2, 0x79, 0x2a, 0xca]));
  assert.ok(ext > 0);
  top.fill(0, ext, ext + 4);
  writeFileSync(join(images, 'top.qcow2'), top);
  const d = await imageFormat('qcow2').open(join(images, 'top.qcow2'), { readOnly: true, confine: images });
  await d.close();
  // Whoever can write in the SR swaps the backing file the moment its kind has been checked.
  const swaps = [() => execFileSync('mkfifo', [join(images, 'base')]), () => symlinkSync(join(images, 'other'), join(images, 'base'))];
  const stat = fsp.stat;
  let swap: (() => void) | undefined;
  fsp.stat = (async (p: string, o?: unknown) => {
    const st = await stat(p, o as never);
    if (swap && String(p) === join(images, 'base')) {
      rmSync(join(images, 'base'));
      swap();
      swap = undefined;
    }
    return st;
  }) as typeof fsp.stat;
  syncBuiltinESMExports();
  try {
    for (const [i, why] of [/backing file \S*base is a FIFO \(named pipe\); it must be a regular file or a block device/, /backing file \S*base is a symbolic link; it must be/].entries()) {
      rmSync(join(images, 'base'), { force: true });
      writeFileSync(join(images, 'base'), Buffer.alloc(MiB));
      swap = swaps[i];
      await assert.rejects(imageFormat('qcow2').open(join(images, 'top.qcow2'), { readOnly: true, confine: images }), (e: Error) => {
        assert.ok(isXenError(e, 'EINVAL') && e.name === 'Qcow2Error', `${e.name} ${e.message}`);
        assert.match(e.message, why);
        return true;
      });
    }
  } finally {
    fsp.stat = stat;
    syncBuiltinESMExports();
  }
});

test('a parent swapped for a symbolic link after its check is refused when opened (O_NOFOLLOW), in VHD and qcow2 chains', async () => {
  const images = mkdtempSync(join(dir, 'nofollow'));
  const outside = mkdtempSync(join(dir, 'host'));
  await createVhd(join(images, 'parent.vhd'), { type: 'dynamic', size: MiB });
  copyFileSync(join(images, 'parent.vhd'), join(outside, 'parent.vhd'));
  await createDifferencing(join(images, 'child.vhd'), join(images, 'parent.vhd'));
  writeFileSync(join(images, 'base.raw'), Buffer.alloc(MiB));
  writeFileSync(join(outside, 'base.raw'), SECRET);
  await createQcow2(join(images, 'child.qcow2'), { size: MiB, backing: { file: join(images, 'base.raw'), format: 'raw' } });
  const parents = { vhd: 'parent.vhd', qcow2: 'base.raw' } as const;
  // Whoever can write in the SR swaps the parent for a link out the moment it has been checked.
  const stat = fsp.stat;
  fsp.stat = (async (p: string, o?: unknown) => {
    const st = await stat(p, o as never);
    const name = Object.values(parents).find((f) => String(p) === join(images, f));
    // The walk's own check (a VHD's parent locator is looked up by a stat of its own before).
    if (name && new Error().stack?.includes('ChainWalk.link')) {
      rmSync(join(images, name));
      symlinkSync(join(outside, name), join(images, name));
    }
    return st;
  }) as typeof fsp.stat;
  syncBuiltinESMExports();
  try {
    for (const [format, parent] of Object.entries(parents)) {
      await assert.rejects(imageFormat(format).open(join(images, `child.${format}`), { readOnly: true, confine: images }), (e: Error) => {
        assert.match(e.message, new RegExp(`${parent.replace('.', '\\.')} is a symbolic link; it must be`), `${format}: ${e.name} ${e.message}`);
        return true;
      });
      rmSync(join(images, parent));
      copyFileSync(join(outside, parent), join(images, parent));
    }
  } finally {
    fsp.stat = stat;
    syncBuiltinESMExports();
  }
});
