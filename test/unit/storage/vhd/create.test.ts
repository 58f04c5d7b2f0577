// Creating images: the layout blktap writes, exact sizes, refusals, never overwriting.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { imageFormat, openDisk } from '../../../../src/storage/open.js';
import { VhdDisk } from '../../../../src/storage/vhd/chain.js';
import { createDifferencing, createVhd, resizeVhd } from '../../../../src/storage/vhd/create.js';
import { decodeFooter } from '../../../../src/storage/vhd/footer.js';
import { decodeHeader } from '../../../../src/storage/vhd/header.js';
import { PlatformCode } from '../../../../src/storage/vhd/locators.js';
import { uuidString } from '../../../../src/storage/vhd/format.js';
import { scratch } from '../../../support/vhd.js';

test('a dynamic image: footer copy, header at 512, BAT at 1536 all unallocated, footer', async (t) => {
  const dir = await scratch(t);
  const p = join(dir, 'd.vhd');
  await createVhd(p, { type: 'dynamic', size: 100 * 2 ** 20 });
  const b = await readFile(p);
  assert.equal(b.length, 1536 + 512 + 512);
  const f = decodeFooter(b.subarray(b.length - 512), p);
  assert.deepEqual(decodeFooter(b.subarray(0, 512), p), f);
  assert.equal(f.type, 'dynamic');
  assert.equal(f.currentSize, 100 * 2 ** 20);
  const h = decodeHeader(b.subarray(512, 1536), p);
  assert.equal(h.blockSize, 2 ** 21);
  assert.equal(h.maxTableEntries, 50);
  assert.ok(b.subarray(1536, 1536 + 200).every((x) => x === 0xff));
});

test('a fixed image is the data then the footer', async (t) => {
  const dir = await scratch(t);
  const p = join(dir, 'f.vhd');
  await createVhd(p, { type: 'fixed', size: 3 * 2 ** 20 });
  assert.equal((await stat(p)).size, 3 * 2 ** 20 + 512);
});

test('a differencing child: parent uuid, timestamp, name, and three relative locators', async (t) => {
  const dir = await scratch(t);
  const base = join(dir, 'base.vhd');
  const child = join(dir, 'child.vhd');
  await createVhd(base, { type: 'dynamic', size: 2 ** 25 });
  await createDifferencing(child, base);
  const b = await readFile(child);
  const f = decodeFooter(b.subarray(b.length - 512), child);
  const h = decodeHeader(b.subarray(512, 1536), child);
  const pb = await readFile(base);
  assert.equal(f.type, 'differencing');
  assert.equal(uuidString(h.parentUuid), uuidString(decodeFooter(pb.subarray(pb.length - 512), base).uuid));
  assert.equal(h.parentName, 'base.vhd');
  assert.ok(h.parentTimestamp > 0);
  assert.deepEqual(h.locators.map((l) => l.code), [PlatformCode.MACX, PlatformCode.W2KU, PlatformCode.W2RU]);
  const mac = h.locators[0]!;
  assert.equal(b.subarray(mac.offset, mac.offset + mac.length).toString(), 'file://./base.vhd');
  assert.equal(mac.space, 512);
  const w2ru = h.locators[2]!;
  assert.equal(b.subarray(w2ru.offset, w2ru.offset + w2ru.length).toString('utf16le'), '.\\base.vhd');
});

test('bad sizes and block sizes are refused; an existing file is never overwritten', async (t) => {
  const dir = await scratch(t);
  const p = join(dir, 'x.vhd');
  await assert.rejects(createVhd(p, { type: 'dynamic', size: 2041 * 2 ** 30 }), /2040 GiB/);
  await assert.rejects(createVhd(p, { type: 'dynamic', size: 1000 }), { errno: 'EINVAL' });
  await assert.rejects(createVhd(p, { type: 'dynamic', size: 2 ** 20, blockSize: 3 * 2 ** 20 }), /power of two/);
  await writeFile(p, 'mine');
  await assert.rejects(createVhd(p, { type: 'dynamic', size: 2 ** 20 }), { errno: 'EEXIST' });
  assert.equal(await readFile(p, 'utf8'), 'mine');
  const base = join(dir, 'b.vhd');
  await createVhd(base, { type: 'dynamic', size: 2 ** 22 });
  await assert.rejects(createDifferencing(join(dir, 'c.vhd'), base, { size: 2 ** 21 }), /smaller than its parent/);
  await assert.rejects(createDifferencing(join(dir, 'c.vhd'), join(dir, 'none.vhd')), { errno: 'ENOENT' });
  await assert.rejects(stat(join(dir, 'c.vhd')), { code: 'ENOENT' });
});

test('an image with room in its BAT grows by a footer update; the SR format row uses that', async (t) => {
  const dir = await scratch(t);
  const p = join(dir, 'r.vhd');
  await createVhd(p, { type: 'dynamic', size: 4 * 2 ** 20, maxSize: 64 * 2 ** 20 });
  await resizeVhd(p, 32 * 2 ** 20);
  const d = await VhdDisk.open(p, { readOnly: false });
  assert.equal(d.sectors, 65536);
  await d.write(60000, [new Uint8Array(4096).fill(3)]);
  await d.close();
  await assert.rejects(resizeVhd(p, 65 * 2 ** 20), { errno: 'ENOSPC' });
  await assert.rejects(resizeVhd(p, 2 ** 20), { errno: 'EINVAL' });
  const f = imageFormat('vhd');
  const q = join(dir, `x.${f.extension}`);
  await f.create(q, 8 * 2 ** 20);
  await f.resize(q, 100 * 2 ** 30);
  assert.equal((await f.info(q)).virtualSize, 100 * 2 ** 30);
  const disk = await openDisk(`vhd:${q}`, { readOnly: true });
  assert.equal(disk.sectors, 100 * 2 ** 21);
  await disk.close();
});
