// qcow2 images as disks: reads and writes across clusters, persistence, backing files (raw and
// qcow2, copy-on-write of partial clusters), zero clusters, loops and missing backing files,
// refcount blocks made as the file grows.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { isXenError } from '../../../../src/errors.js';
import { openDisk } from '../../../../src/storage/open.js';
import { createQcow2 } from '../../../../src/storage/qcow2/create.js';
import { Qcow2Error } from '../../../../src/storage/qcow2/errors.js';
import { Qcow2Disk } from '../../../../src/storage/qcow2/qcow2.js';
import { onFdatasync } from '../../../support/fdatasync.js';

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-qcow2-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const QEMU_IMG = '/usr/bin/qemu-img';
const fill = (bytes: number, v: number) => new Uint8Array(bytes).fill(v);

async function readBytes(d: Qcow2Disk, sector: number, bytes: number): Promise<Uint8Array> {
  const b = new Uint8Array(bytes);
  await d.read(sector, [b]);
  return b;
}

test('writes across cluster boundaries read back, survive a reopen, and unwritten sectors read as zeros', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'a.qcow2');
  await createQcow2(path, { size: 8 << 20, clusterBits: 12 });
  const d = await Qcow2Disk.open(path, { readOnly: false });
  assert.equal(d.sectors, (8 << 20) / 512);
  // 3 sectors straddling a 4 KiB cluster boundary, from a scatter list of two buffers.
  await d.write(7, [fill(512, 1), fill(1024, 2)]);
  await d.write(4000, [fill(64 << 10, 3)]);
  await d.write(4000, [fill(512, 4)]); // in place, in an owned cluster
  await d.close();
  const r = await Qcow2Disk.open(path, { readOnly: true });
  t.after(() => r.close());
  const got = await readBytes(r, 6, 2560);
  assert.deepEqual([got[0], got[511], got[512], got[1024], got[2047], got[2048]], [0, 0, 1, 2, 2, 0]);
  const big = await readBytes(r, 4000, 64 << 10);
  assert.equal(big[0], 4);
  assert.equal(big[512], 3);
  assert.equal(big[(64 << 10) - 1], 3);
  assert.ok((await readBytes(r, 100, 4096)).every((x) => x === 0));
  await assert.rejects(r.write(0, [fill(512, 1)]), (e) => isXenError(e, 'EROFS'));
  await assert.rejects(r.read(r.sectors, [fill(512, 0)]), (e) => isXenError(e, 'ERANGE'));
});

test('a write over several new clusters places them in a row; rewrites over them and over a mix read back', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'a.qcow2');
  await createQcow2(path, { size: 8 << 20, clusterBits: 12 });
  let d = await Qcow2Disk.open(path, { readOnly: false });
  await d.write(0, [fill(512, 9)]); // the L2 table and a first cluster
  // Sizes are taken closed: an open image's file is extended ahead of its appends.
  await d.close();
  const before = (await stat(path)).size;
  d = await Qcow2Disk.open(path, { readOnly: false });
  // 10 clusters' worth from the middle of one cluster: 11 new clusters, one after another.
  await d.write(8 + 4, [fill(5 << 12, 1), fill(5 << 12, 2)]);
  await d.close();
  // Only the data was written, in one row from the next cluster on: the part of the first
  // cluster after its start, 9 clusters, the part of the 11th.
  assert.equal((await stat(path)).size, Math.ceil(before / 4096) * 4096 + 2048 + 10 * 4096);
  d = await Qcow2Disk.open(path, { readOnly: false });
  await d.write(8 + 4, [fill(10 << 12, 3)]); // in place, in one write
  await d.write(8 * 10, [fill(8 << 12, 4)]); // over 2 owned clusters and 7 new ones
  await d.close();
  const r = await Qcow2Disk.open(path, { readOnly: true });
  t.after(() => r.close());
  const got = await readBytes(r, 0, 20 << 12);
  assert.equal(got[0], 9);
  assert.equal(got[4096], 0);
  assert.equal(got[4096 + 2048], 3);
  assert.equal(got[10 * 4096 - 1], 3);
  assert.equal(got[10 * 4096], 4);
  assert.equal(got[18 * 4096 - 1], 4);
  assert.equal(got[18 * 4096], 0);
});

test('concurrent partial writes to one unallocated cluster allocate it once and keep both', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'a.qcow2');
  await createQcow2(path, { size: 1 << 20 });
  const d = await Qcow2Disk.open(path, { readOnly: false });
  t.after(() => d.close());
  await Promise.all(Array.from({ length: 16 }, (_, i) => d.write(i * 8, [fill(4096, i + 1)])));
  const all = await readBytes(d, 0, 64 << 10);
  for (let i = 0; i < 16; i++) assert.equal(all[i * 4096 + 100], i + 1, `write ${i}`);
});

test('a raw backing file: reads fall through, partial writes copy the rest of the cluster from it', async (t) => {
  const dir = await tmp(t);
  const base = new Uint8Array(1 << 20);
  for (let i = 0; i < base.byteLength; i += 512) base.fill((i / 512) % 251, i, i + 512);
  await writeFile(join(dir, 'base.raw'), base);
  // A relative name: resolved against the image's directory, not the working directory.
  await createQcow2(join(dir, 'top.qcow2'), { backing: { file: 'base.raw', format: 'raw' }, size: 2 << 20 });
  const d = await Qcow2Disk.open(join(dir, 'top.qcow2'), { readOnly: false });
  assert.equal(d.header.backingFormat, 'raw');
  assert.deepEqual(await readBytes(d, 0, 4096), base.subarray(0, 4096));
  await d.write(130, [fill(512, 0xee)]); // sector 130 is in cluster 1 (sectors 128..255)
  await d.close();
  const r = await Qcow2Disk.open(join(dir, 'top.qcow2'), { readOnly: true });
  t.after(() => r.close());
  const c1 = await readBytes(r, 128, 64 << 10);
  const want = base.slice(64 << 10, 128 << 10);
  want.fill(0xee, 1024, 1536);
  assert.deepEqual(c1, want);
  // Beyond the backing file's end: zeros.
  assert.ok((await readBytes(r, 2048 + 8, 4096)).every((x) => x === 0));
});

test('a qcow2 chain of three: each level sees its own writes over the ones below', async (t) => {
  const dir = await tmp(t);
  await createQcow2(join(dir, 'l0.qcow2'), { size: 1 << 20 });
  await createQcow2(join(dir, 'l1.qcow2'), { backing: { file: 'l0.qcow2' } });
  await createQcow2(join(dir, 'l2.qcow2'), { backing: { file: join(dir, 'l1.qcow2'), format: 'qcow2' } });
  for (const [i, name] of ['l0', 'l1', 'l2'].entries()) {
    const d = await Qcow2Disk.open(join(dir, `${name}.qcow2`), { readOnly: false });
    await d.write(i * 8, [fill(4096 * (3 - i), i + 1)]);
    await d.close();
  }
  const d = await openDisk(`qcow2:${join(dir, 'l2.qcow2')}`, { readOnly: true });
  t.after(() => d.close());
  const b = new Uint8Array(12288);
  await d.read(0, [b]);
  assert.deepEqual([b[0], b[4096], b[8192]], [1, 2, 3]);
});

test('a backing chain that loops and a missing backing file are refused, naming the file', async (t) => {
  const dir = await tmp(t);
  // c -> d -> c, made by hand (create checks that a backing file exists):
  await createQcow2(join(dir, 'c.qcow2'), { size: 1 << 20 });
  await patchBackingName(join(dir, 'c.qcow2'), 'd.qcow2');
  await createQcow2(join(dir, 'd.qcow2'), { size: 1 << 20 });
  await patchBackingName(join(dir, 'd.qcow2'), 'c.qcow2');
  await assert.rejects(Qcow2Disk.open(join(dir, 'c.qcow2'), { readOnly: true }), (e) =>
    e instanceof Qcow2Error && e.field === 'backing_file' && /loops/.test(e.message));
  await createQcow2(join(dir, 'e.qcow2'), { size: 1 << 20 });
  await patchBackingName(join(dir, 'e.qcow2'), 'nowhere.qcow2');
  await assert.rejects(Qcow2Disk.open(join(dir, 'e.qcow2'), { readOnly: true }), (e) =>
    e instanceof Qcow2Error && e.errno === 'ENOENT' && e.message.includes('nowhere.qcow2') && e.file.endsWith('e.qcow2'));
  await assert.rejects(createQcow2(join(dir, 'f.qcow2'), { backing: { file: 'nowhere.raw', format: 'raw' } }), (e) => isXenError(e));
});

test('a chain deeper than the bound is refused', async (t) => {
  const dir = await tmp(t);
  await createQcow2(join(dir, 'i0.qcow2'), { size: 64 << 10, clusterBits: 9 });
  for (let i = 1; i <= 31; i++) await createQcow2(join(dir, `i${i}.qcow2`), { backing: { file: `i${i - 1}.qcow2`, format: 'qcow2' }, size: 64 << 10, clusterBits: 9 });
  const ok = await Qcow2Disk.open(join(dir, 'i30.qcow2'), { readOnly: true }); // 30 backing files
  await ok.close();
  await assert.rejects(Qcow2Disk.open(join(dir, 'i31.qcow2'), { readOnly: true }), (e) => e instanceof Qcow2Error && /deeper/.test(e.message));
});

test('create refuses an existing file, bad cluster sizes and sizes that are not whole sectors', async (t) => {
  const dir = await tmp(t);
  await writeFile(join(dir, 'x'), 'x');
  await assert.rejects(createQcow2(join(dir, 'x'), { size: 1 << 20 }), (e) => isXenError(e, 'EEXIST'));
  await assert.rejects(createQcow2(join(dir, 'y'), { size: 1 << 20, clusterBits: 22 }), (e) => isXenError(e, 'EINVAL'));
  await assert.rejects(createQcow2(join(dir, 'y'), { size: 1000 }), (e) => isXenError(e, 'EINVAL'));
  await assert.rejects(createQcow2(join(dir, 'y'), { size: 2 ** 60 }), (e) => isXenError(e, 'EINVAL'));
});

/** Give an image a backing file name by hand (after the end-of-extensions marker, in the header cluster). */
export async function patchBackingName(path: string, name: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const bytes = new TextEncoder().encode(name);
    const at = 4096 - 1024;
    await fh.write(bytes, 0, bytes.byteLength, at);
    const hdr = new Uint8Array(12);
    const v = new DataView(hdr.buffer);
    v.setBigUint64(0, BigInt(at));
    v.setUint32(8, bytes.byteLength);
    await fh.write(hdr, 0, 12, 8);
  } finally {
    await fh.close();
  }
}

test('refcount blocks made while writing reach the refcount table only at the flush, after themselves; the image then checks clean', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'a.qcow2');
  // 512-byte clusters: a refcount block counts 256 clusters of the file, so 16 writes of 32 KiB
  // (64 clusters each, and an L2 table each: one table maps 32 KiB) need two new blocks or more.
  // Sixteen tables stay under the count of dirty tables that starts a flush by itself (which
  // would race the check below).
  await createQcow2(path, { size: 4 << 20, clusterBits: 9 });
  const table = async (): Promise<bigint[]> => {
    const img = await readFile(path);
    const v = new DataView(img.buffer, img.byteOffset);
    return Array.from({ length: 64 }, (_, i) => v.getBigUint64(512 + i * 8)).filter((e) => e !== 0n);
  };
  assert.equal((await table()).length, 1);
  const d = await Qcow2Disk.open(path, { readOnly: false });
  await Promise.all(Array.from({ length: 16 }, (_, i) => d.write(i * 64, [fill(32768, i + 1)])));
  // Written, not flushed: the blocks are in memory only (and no table or L2 entry points past the old block).
  assert.equal((await table()).length, 1);
  await d.flush();
  const entries = await table();
  assert.ok(entries.length >= 3, `${entries.length} refcount blocks after the flush`);
  const img = await readFile(path);
  const v = new DataView(img.buffer, img.byteOffset);
  for (const e of entries.slice(1)) {
    const off = Number(e);
    // Each new block lies in the part of the file it counts, and counts itself.
    assert.equal(v.getUint16(off + ((off / 512) % 256) * 2), 1, `the block at ${off} counts itself`);
  }
  await d.close();
  if (existsSync(QEMU_IMG)) await promisify(execFile)(QEMU_IMG, ['check', '-f', 'qcow2', path]);
  else t.diagnostic('qemu-img not installed (apt-get install qemu-utils): the image is checked by reading it only');
  const r = await Qcow2Disk.open(path, { readOnly: true });
  t.after(() => r.close());
  for (let i = 0; i < 16; i++) assert.ok((await readBytes(r, i * 64, 32768)).every((x) => x === i + 1), `write ${i} reads back`);
});

/** fdatasync calls made while `fn` runs. */
async function syncsDuring(fn: () => Promise<void>): Promise<number> {
  let n = 0;
  await onFdatasync(() => n++, fn);
  return n;
}

test('a close that changed no metadata since the last flush syncs nothing; one that did writes it back, synced', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'c.qcow2');
  await createQcow2(path, { size: 8 << 20 });
  let d = await Qcow2Disk.open(path, { readOnly: false });
  await d.write(0, [fill(65536, 3)]);
  await d.flush();
  // In place: no metadata changes.
  await d.write(8, [fill(4096, 4)]);
  assert.equal(await syncsDuring(() => d.close()), 0);
  d = await Qcow2Disk.open(path, { readOnly: false });
  // A new cluster: its refcount and L2 entry are in memory until the close.
  await d.write(1024, [fill(4096, 5)]);
  assert.ok(await syncsDuring(() => d.close()) >= 2, 'refcounts synced before the L2 entry that points at the cluster, and that synced');
  const r = await Qcow2Disk.open(path, { readOnly: true });
  assert.deepEqual(await readBytes(r, 8, 4096), fill(4096, 4));
  assert.deepEqual(await readBytes(r, 1024, 4096), fill(4096, 5));
  await r.close();
  if (existsSync(QEMU_IMG)) await promisify(execFile)(QEMU_IMG, ['check', '-f', 'qcow2', path]);
});
