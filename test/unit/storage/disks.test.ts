// Disk backends: raw files, RAM disks, the read-only wrapper and opening by backend params.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDisk, openDiskAhead, parseSize } from '../../../src/storage/open.js';
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

test('a disk opened ahead: the next open of its params and mode takes it, failures included; drop() closes one not taken', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-ahead-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'd.img');
  await writeFile(path, new Uint8Array(4096));
  const fds = () => readdirSync('/proc/self/fd').length;
  const before = fds();

  // Taken by the next open of its params and mode, and left open by its drop().
  const taken = openDiskAhead(`raw:${path}`, { readOnly: false });
  const other = openDiskAhead(`raw:${path}`, { readOnly: true });
  const d = await openDisk(`raw:${path}`, { readOnly: false });
  assert.equal(d.readOnly, false);
  assert.equal(await taken.drop(), false);
  await d.write(0, [new Uint8Array(512).fill(7)]);
  const back = new Uint8Array(512);
  await d.read(0, [back]);
  assert.equal(back[0], 7);
  await d.close();
  // Another mode is another open: the read-only one was not taken, and its drop() closes it.
  assert.equal(await other.drop(), true);
  assert.equal(await other.drop(), false);
  assert.equal(fds(), before);
  // Once taken, the next open opens afresh.
  const again = openDiskAhead(`raw:${path}`, { readOnly: true });
  await (await openDisk(`raw:${path}`, { readOnly: true })).close();
  await unlink(path);
  await assert.rejects(openDisk(`raw:${path}`, { readOnly: true }), { errno: 'ENOENT' });
  assert.equal(await again.drop(), false);
  assert.equal(fds(), before);

  // A hostile target fails as it would without the open ahead, with its typed error, once.
  const hostile = openDiskAhead(`raw:${dir}`, { readOnly: false });
  await assert.rejects(openDisk(`raw:${dir}`, { readOnly: false }), { errno: 'EISDIR' });
  assert.equal(await hostile.drop(), false);
  await assert.rejects(openDisk(`raw:${dir}`, { readOnly: false }), { errno: 'EISDIR' });
  assert.equal(fds(), before);
});
