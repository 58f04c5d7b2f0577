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
