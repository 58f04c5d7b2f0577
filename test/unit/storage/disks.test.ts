// Disk backends: raw files, RAM disks, the read-only wrapper and opening by backend params.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDisk, parseSize } from '../../../src/storage/open.js';
import { RamDisk } from '../../../src/storage/ram.js';
import { RawFile } from '../../../src/storage/raw.js';
import { ReadOnlyDisk } from '../../../src/storage/readonly.js';

test('a raw file: scatter/gather I/O at sector offsets, flush, discard to zeros, bounds', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-raw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'd.img');
  await writeFile(path, new Uint8Array(1 << 20));
  const d = await RawFile.open(path, { readOnly: false });
  assert.equal(d.sectors, 2048);
  const a = new Uint8Array(512).fill(1);
  const b = new Uint8Array(1024).fill(2);
  await d.write(3, [a, b]);
  await d.flush();
  const img = await readFile(path);
  assert.ok(img.subarray(3 * 512, 4 * 512).every((x) => x === 1));
  assert.ok(img.subarray(4 * 512, 6 * 512).every((x) => x === 2));
  const back = [new Uint8Array(1024), new Uint8Array(512)];
  await d.read(3, back);
  assert.deepEqual([...back[0]!.subarray(510, 514)], [1, 1, 2, 2]);
  await d.discard(4, 1);
  const z = new Uint8Array(512);
  await d.read(4, [z]);
  assert.ok(z.every((x) => x === 0));
  assert.throws(() => d.read(2047, [new Uint8Array(1024)]), { errno: 'ERANGE' });
  assert.throws(() => d.read(0, [new Uint8Array(100)]), { errno: 'EINVAL' });
  await d.close();
  await assert.rejects(RawFile.open(join(dir, 'missing.img'), { readOnly: false }), { errno: 'ENOENT' });
});

test('opening by params: raw files, RAM disks, read-only wrapping, unsupported formats', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-open-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'd.img');
  await writeFile(path, new Uint8Array(4096));
  const ro = await openDisk(`raw:${path}`, { readOnly: true });
  assert.equal(ro.readOnly, true);
  assert.throws(() => ro.write(0, [new Uint8Array(512)]), { errno: 'EROFS' });
  await ro.close();
  const ram = await openDisk('raw:ram:1M', { readOnly: false });
  assert.ok(ram instanceof RamDisk);
  assert.equal(ram.sectors, 2048);
  assert.equal(parseSize('64M'), 64 << 20);
  assert.equal(parseSize('64X'), undefined);
  await assert.rejects(openDisk(`qed:${path}`, { readOnly: false }), { errno: 'EOPNOTSUPP' });
  await assert.rejects(openDisk(`vhd:${path}`, { readOnly: false }), { errno: 'EBADMSG' });
  await assert.rejects(openDisk('raw:ram:lots', { readOnly: false }), { errno: 'EINVAL' });
  await assert.rejects(openDisk('nocolon', { readOnly: false }), { errno: 'EINVAL' });
  const wrapped = new ReadOnlyDisk(new RamDisk(4096));
  assert.equal(wrapped.features.discard, false);
});

test('a RAM disk reads into and writes from shared memory (a granted page), one segment and scattered', () => {
  const disk = new RamDisk(64 * 1024);
  const page = new Uint8Array(new SharedArrayBuffer(3 * 4096));
  const src = page.subarray(4096, 8192);
  for (let i = 0; i < src.length; i++) src[i] = (i * 7 + 3) & 0xff;
  disk.write(8, [src]);
  const back = page.subarray(8192, 12288);
  disk.read(8, [back]);
  assert.deepEqual(back, src);
  // Two segments of a request, the second at an odd offset into its page.
  const a = page.subarray(0, 512);
  const b = page.subarray(1025, 1025 + 1024);
  disk.read(8, [a, b]);
  assert.deepEqual(a, src.subarray(0, 512));
  assert.deepEqual(b, src.subarray(512, 1536));
  const plain = new Uint8Array(1536);
  disk.read(8, [plain]);
  assert.deepEqual(plain, src.subarray(0, 1536));
});
