// Copies into fresh images (vdi-import, vdi-export, a migration's base): only what the source's
// block map holds is read, runs of zeros are not written, and every byte arrives.
import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { COPY_CHUNK_BYTES, copyDisk, writeImage } from '../../../src/storage/copy.js';
import type { Disk } from '../../../src/storage/disk.js';
import { createQcow2 } from '../../../src/storage/qcow2/create.js';
import { Qcow2Disk } from '../../../src/storage/qcow2/qcow2.js';
import { RamDisk } from '../../../src/storage/ram.js';
import { RawFile } from '../../../src/storage/raw.js';
import { VhdDisk } from '../../../src/storage/vhd/chain.js';
import { createVhd } from '../../../src/storage/vhd/create.js';
import { VhdImage } from '../../../src/storage/vhd/image.js';

const MiB = 2 ** 20;

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-copy-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `disk` with its reads counted (in sectors); its block map passed through. */
function counted(disk: Disk): { disk: Disk; read: () => number } {
  let sectors = 0;
  const view: Disk = Object.create(disk) as Disk;
  view.read = (sector, bufs) => {
    for (const b of bufs) sectors += b.byteLength / 512;
    return disk.read(sector, bufs);
  };
  view.holdsData = disk.holdsData?.bind(disk);
  return { disk: view, read: () => sectors };
}

test('a VHD source: unallocated blocks are not read, zero runs not written, the data arrives', async (t) => {
  const dir = await scratch(t);
  const src = join(dir, 'src.vhd');
  await createVhd(src, { type: 'dynamic', size: 16 * MiB });
  const w = await VhdDisk.open(src, { readOnly: false });
  await w.write(0, [new Uint8Array(4096).fill(1)]); // block 0
  await w.write((6 * MiB) / 512 + 8, [new Uint8Array(512).fill(2)]); // block 3
  await w.close();
  const s = await VhdDisk.open(src, { readOnly: true });
  t.after(() => s.close());
  assert.equal(s.holdsData(0, 8), true);
  assert.equal(s.holdsData((2 * MiB) / 512, (4 * MiB) / 512), false);
  const { disk, read } = counted(s);
  const dst = join(dir, 'dst.vhd');
  await writeImage(disk, dst, 'vhd');
  assert.equal(read(), (2 * COPY_CHUNK_BYTES) / 512, 'only the chunks of blocks 0 and 3 are read');
  const img = await VhdImage.open(dst, { readOnly: true });
  assert.deepEqual([...img.bat].map((e, b) => (e === 0xffffffff ? -1 : b)).filter((b) => b >= 0), [0, 3]);
  await img.close();
  const d = await VhdDisk.open(dst, { readOnly: true });
  t.after(() => d.close());
  const all = new Uint8Array(16 * MiB);
  await d.read(0, [all]);
  const want = new Uint8Array(16 * MiB);
  want.fill(1, 0, 4096);
  want.fill(2, 6 * MiB + 4096, 6 * MiB + 4096 + 512);
  assert.ok(Buffer.from(all).equals(want));
});

test('a qcow2 source: only the chunks of its allocated clusters are read', async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'a.qcow2');
  await createQcow2(path, { size: 4 * MiB });
  const q = await Qcow2Disk.open(path, { readOnly: false });
  t.after(() => q.close());
  assert.equal(q.holdsData(0, (4 * MiB) / 512), false);
  await q.write((3 * MiB) / 512, [new Uint8Array(512).fill(7)]);
  assert.equal(q.holdsData(0, (3 * MiB) / 512), false);
  assert.equal(q.holdsData((3 * MiB) / 512, 1), true);
  const { disk, read } = counted(q);
  const dst = new RamDisk(4 * MiB);
  await copyDisk(disk, dst);
  assert.equal(read(), COPY_CHUNK_BYTES / 512, 'the one chunk holding the allocated cluster');
  const b = new Uint8Array(512);
  dst.read((3 * MiB) / 512, [b]);
  assert.ok(b.every((x) => x === 7));
});

test('a raw source with no block allocated is not read; once written (by another opener too), it is', async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'a.raw');
  await writeFile(path, '');
  await truncate(path, 8 * MiB);
  const r = await RawFile.open(path, { readOnly: true });
  t.after(() => r.close());
  assert.equal(r.holdsData(), false);
  const { disk, read } = counted(r);
  const dst = new RamDisk(8 * MiB);
  await copyDisk(disk, dst);
  assert.equal(read(), 0, 'nothing read of a file with no blocks');
  // Written through another descriptor: the next question sees it.
  const w = await RawFile.open(path, { readOnly: false });
  await w.write((5 * MiB) / 512, [new Uint8Array(512).fill(9)]);
  await w.close();
  assert.equal(r.holdsData(), true);
  await copyDisk(disk, dst);
  assert.equal(read(), (8 * MiB) / 512, 'every chunk read: which ones hold data is not known');
  const b = new Uint8Array(512);
  dst.read((5 * MiB) / 512, [b]);
  assert.ok(b.every((x) => x === 9));
});

test('a source whose size is not whole pieces: data in its last sector arrives', async () => {
  const src = new RamDisk(3 * MiB + 7 * 512);
  src.write(src.sectors - 1, [new Uint8Array(512).fill(5)]);
  const dst = new RamDisk(3 * MiB + 7 * 512);
  await copyDisk(src, dst);
  const b = new Uint8Array(512);
  dst.read(dst.sectors - 1, [b]);
  assert.ok(b.every((x) => x === 5));
  const before = new Uint8Array(512);
  dst.read(dst.sectors - 2, [before]);
  assert.ok(before.every((x) => x === 0));
});
