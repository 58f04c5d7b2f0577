// VHD disks: chains read through (merged block map), writes allocate in the leaf, blkback
// serves format=vhd, parents that loop or are missing are refused, a full disk is a clean
// error, kill -9 during allocating writes loses no acknowledged write, and a seeded fuzz of
// headers never crashes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isXenError } from '../../../../src/errors.js';
import { openDisk } from '../../../../src/storage/open.js';
import { VhdDisk } from '../../../../src/storage/vhd/chain.js';
import { createDifferencing, createVhd } from '../../../../src/storage/vhd/create.js';
import { VhdImage } from '../../../../src/storage/vhd/image.js';
import { connected } from '../../../support/blk.js';
import { killAfterFlushed } from '../../../support/kill-child.js';
import { rng } from '../../../support/random.js';
import { record, recordSector } from '../../../support/vhd-crash-child.js';
import { editHeader, pattern, scratch } from '../../../support/vhd.js';

const MiB = 2 ** 20;
const run = promisify(execFile);

async function readAll(d: VhdDisk, sector: number, bytes: number): Promise<Uint8Array> {
  const b = new Uint8Array(bytes);
  await d.read(sector, [b]);
  return b;
}

test('a differencing chain reads through to its parents sector by sector; writes stay in the leaf', async (t) => {
  const dir = await scratch(t);
  const base = join(dir, 'base.vhd');
  await createVhd(base, { type: 'dynamic', size: 8 * MiB });
  let d = await VhdDisk.open(base, { readOnly: false });
  await d.write(0, [pattern(1, 8192)]);
  await d.write(4096, [pattern(2, 4096)]);
  await d.close();
  const child = join(dir, 'child.vhd');
  await createDifferencing(child, base, { size: 12 * MiB });
  d = await VhdDisk.open(child, { readOnly: false });
  assert.equal(d.sectors, 12 * MiB / 512);
  assert.equal(d.images.length, 2);
  assert.deepEqual(await readAll(d, 0, 8192), pattern(1, 8192));
  // Sectors 2 and 3 of the child, the rest from the base; sectors across two blocks.
  await d.write(2, [pattern(3, 1024)]);
  const mixed = await readAll(d, 0, 8192);
  const want = pattern(1, 8192);
  want.set(pattern(3, 1024), 1024);
  assert.deepEqual(mixed, want);
  await d.write(4094, [pattern(4, 2048)]);
  const across = await readAll(d, 4092, 4096);
  const want2 = new Uint8Array(4096);
  want2.set(pattern(4, 2048), 1024);
  want2.set(pattern(2, 4096).subarray(1024, 2048), 3072);
  assert.deepEqual(across, want2);
  // Past the parent's size: zeros until written.
  assert.ok((await readAll(d, 10 * 2048, 4096)).every((x) => x === 0));
  await d.close();
  const b = await VhdDisk.open(base, { readOnly: true });
  assert.deepEqual(await readAll(b, 0, 8192), pattern(1, 8192), 'the base is unchanged');
  await b.close();
  // Reopened, the child's bitmaps say the same.
  d = await VhdDisk.open(child, { readOnly: true });
  assert.deepEqual(await readAll(d, 0, 8192), want);
  await assert.rejects(async () => d.write(0, [new Uint8Array(512)]), { errno: 'EROFS' });
  await d.close();
});

test('overDisk: blocks the disk below allocates until the switch read through the new leaf; its first flush settles once', async (t) => {
  const dir = await scratch(t);
  const [leaf, base, next] = [join(dir, 'leaf.vhd'), join(dir, 'base.vhd'), join(dir, 'next.vhd')];
  await createVhd(leaf, { type: 'dynamic', size: 16 * MiB });
  const below = await VhdDisk.open(leaf, { readOnly: false });
  t.after(() => below.close());
  await below.write(0, [pattern(1, MiB)]);
  // A snapshot: the leaf's file gets a second name, the new leaf is a child of it.
  await rename(leaf, base);
  below.images[0]!.moved(base);
  await createDifferencing(next, base);
  let settled = 0;
  const over = await VhdDisk.overDisk(next, below, async () => void settled++);
  // The guest is still on `below`: a write allocating a new block (block 3) and one into an allocated block.
  await below.write(3 * 4096, [pattern(2, MiB)]);
  await below.write(8, [pattern(3, 4096)]);
  const d = over.disk;
  assert.deepEqual(await readAll(d, 3 * 4096, MiB), pattern(2, MiB), 'a block allocated below after overDisk reads through');
  assert.deepEqual(await readAll(d, 8, 4096), pattern(3, 4096));
  await d.write(3 * 4096 + 8, [pattern(4, 512)]);
  const want = pattern(2, MiB);
  want.set(pattern(4, 512), 8 * 512);
  assert.deepEqual(await readAll(d, 3 * 4096, MiB), want, 'a sector the new leaf wrote over a block below');
  await Promise.all([d.flush(), d.flush()]);
  await d.flush();
  assert.equal(settled, 1, 'the first flushes wait for one settle');
  await assert.rejects(VhdDisk.overDisk(next, below), /being made over it/);
  await over.drop();
});

test('a read that found a block whole in a parent is not answered from there once a leaf above allocates the block', async (t) => {
  const dir = await scratch(t);
  const [base, mid, top] = [join(dir, 'base.vhd'), join(dir, 'mid.vhd'), join(dir, 'top.vhd')];
  await createVhd(base, { type: 'dynamic', size: 8 * MiB });
  const b = await VhdDisk.open(base, { readOnly: false });
  await b.write(0, [pattern(1, 2 * MiB)]);
  await b.close();
  await createDifferencing(mid, base);
  const below = await VhdDisk.open(mid, { readOnly: false });
  t.after(() => below.close());
  await createDifferencing(top, mid);
  const over = await VhdDisk.overDisk(top, below);
  t.after(() => over.drop());
  // Both disks read block 0 whole from the base.
  assert.deepEqual(await readAll(below, 0, 4096), pattern(1, 4096));
  assert.deepEqual(await readAll(over.disk, 0, 4096), pattern(1, 4096));
  // The disk below (the guest's until a switch) allocates block 0 in its leaf: two sectors.
  await below.write(2, [pattern(2, 1024)]);
  const want = pattern(1, 4096);
  want.set(pattern(2, 1024), 1024);
  assert.deepEqual(await readAll(below, 0, 4096), want, 'its own leaf');
  assert.deepEqual(await readAll(over.disk, 0, 4096), want, 'the disk made over it');
  // And the new leaf over both.
  await over.disk.write(0, [pattern(3, 512)]);
  want.set(pattern(3, 512), 0);
  assert.deepEqual(await readAll(over.disk, 0, 4096), want);
});

test('a chain of 30 reads each level\'s sector; a 31st image is refused', async (t) => {
  const dir = await scratch(t);
  let prev = join(dir, 'l0.vhd');
  await createVhd(prev, { type: 'dynamic', size: 4 * MiB, blockSize: 64 * 1024 });
  for (let i = 1; i < 30; i++) {
    const d = await VhdDisk.open(prev, { readOnly: false });
    await d.write(i * 8, [pattern(i, 512)]);
    await d.close();
    const next = join(dir, `l${i}.vhd`);
    await createDifferencing(next, prev);
    prev = next;
  }
  const top = await VhdDisk.open(prev, { readOnly: false });
  assert.equal(top.images.length, 30);
  await top.write(0, [pattern(30, 512)]);
  assert.deepEqual(await readAll(top, 0, 512), pattern(30, 512));
  for (let i = 1; i < 30; i++) assert.deepEqual(await readAll(top, i * 8, 512), pattern(i, 512), `level ${i}`);
  assert.ok((await readAll(top, 1000, 512)).every((x) => x === 0));
  await top.close();
  await createDifferencing(join(dir, 'l30.vhd'), prev);
  await assert.rejects(VhdDisk.open(join(dir, 'l30.vhd'), { readOnly: true }), (e: unknown) =>
    isXenError(e) && /l30\.vhd: VHD chain: is deeper than 30/.test((e as Error).message));
});

test('a parent locator that loops back, names a missing file, or a parent with another uuid', async (t) => {
  const dir = await scratch(t);
  const a = join(dir, 'a.vhd');
  const b = join(dir, 'b.vhd');
  const c = join(dir, 'c.vhd');
  await createVhd(a, { type: 'dynamic', size: MiB });
  await createDifferencing(b, a);
  await createDifferencing(c, b);
  // c -> b -> "./a.vhd", which is now c itself.
  await rename(a, join(dir, 'a-away.vhd'));
  await symlink(c, a);
  await assert.rejects(VhdDisk.open(c, { readOnly: true }), (e: unknown) =>
    isXenError(e) && /b\.vhd: VHD parent locator: leads back to .*a\.vhd/.test((e as Error).message));
  await rm(a);
  await assert.rejects(VhdDisk.open(c, { readOnly: false }), (e: unknown) =>
    isXenError(e, 'ENOENT') && /b\.vhd: VHD parent locator: no parent at .*\/a\.vhd/.test((e as Error).message));
  await createVhd(a, { type: 'dynamic', size: MiB });
  await assert.rejects(VhdDisk.open(c, { readOnly: true }), /b\.vhd: VHD parent uuid: .* is not the uuid of/);
  // Confined to a directory (an SR), a parent outside it is refused.
  const sr = join(dir, 'sr');
  await mkdir(sr);
  await createDifferencing(join(sr, 'd.vhd'), a);
  await assert.rejects(VhdDisk.open(join(sr, 'd.vhd'), { readOnly: true, confine: sr }), (e: unknown) =>
    isXenError(e, 'EACCES') && /d\.vhd: VHD parent locator: names .*a\.vhd, outside/.test((e as Error).message));
  await (await VhdDisk.open(join(sr, 'd.vhd'), { readOnly: true })).close();
  // A locator whose data is outside the file.
  await editHeader(b, (h) => ({ ...h, locators: [{ ...h.locators[0]!, offset: 2 ** 30 }] }));
  await assert.rejects(VhdDisk.open(c, { readOnly: true }), /b\.vhd: VHD parent locator 0: ends at byte/);
});

test('concurrent writes allocating the same blocks all land', async (t) => {
  const dir = await scratch(t);
  const p = join(dir, 'c.vhd');
  await createVhd(p, { type: 'dynamic', size: 16 * MiB, blockSize: 64 * 1024 });
  const d = await VhdDisk.open(p, { readOnly: false });
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < 256; i++) jobs.push(d.write(i * 8 * 7 % 32768, [pattern(i, 4096)]));
  await Promise.all(jobs);
  await d.flush();
  await d.close();
  const r = await VhdDisk.open(p, { readOnly: true });
  const seen = new Map<number, number>();
  for (let i = 0; i < 256; i++) seen.set(i * 8 * 7 % 32768, i);
  for (const [sector, i] of seen) assert.deepEqual(await readAll(r, sector, 4096), pattern(i, 4096), `write ${i}`);
  await r.close();
  assert.ok((await VhdImage.open(p, { readOnly: true }).then((x) => x.close().then(() => true))));
});

test('a write-back enters in the BAT only blocks whose bitmap it wrote, not blocks allocated while it ran', async (t) => {
  const dir = await scratch(t);
  const p = join(dir, 'wb.vhd');
  // 128 blocks of 64 KiB: every entry in one BAT sector, which each write-back rewrites whole.
  await createVhd(p, { type: 'dynamic', size: 8 * MiB, blockSize: 64 * 1024 });
  const img = await VhdImage.open(p, { readOnly: true });
  const table = img.header!.tableOffset;
  await img.close();
  const d = await VhdDisk.open(p, { readOnly: false });
  // 94 allocating writes at once: the 64th allocated starts a write-back (PENDING_LIMIT) while
  // the other 30 are still being written; they stay in memory until a later one.
  await Promise.all(Array.from({ length: 94 }, (_, b) => d.write(b * 128, [pattern(b, 4096)])));
  const entered = (file: Buffer): number[] => {
    const bat = new DataView(file.buffer, file.byteOffset + table, 512);
    return Array.from({ length: 128 }, (_, b) => bat.getUint32(b * 4)).filter((e) => e !== 0xffffffff);
  };
  let file = await readFile(p);
  for (const end = Date.now() + 60_000; entered(file).length < 64; file = await readFile(p)) {
    assert.ok(Date.now() < end, `the write-back's BAT sector reached the file (${entered(file).length} entries)`);
    await new Promise((r) => setTimeout(r, 10));
  }
  // What a crash would leave now: every entry in the BAT on disk has its bitmap on disk.
  for (const e of entered(file)) assert.ok(file.subarray(e * 512, e * 512 + 512).every((x) => x === 0xff), `the block at sector ${e} is in the BAT on disk without its bitmap`);
  await d.close();
  const r = await VhdDisk.open(p, { readOnly: true });
  for (let b = 0; b < 94; b++) assert.deepEqual(await readAll(r, b * 128, 4096), pattern(b, 4096), `block ${b}`);
  await r.close();
});

test('openDisk takes vhd:<path>; blkback serves format=vhd through blkfront', async (t) => {
  const dir = await scratch(t);
  const p = join(dir, 'g.vhd');
  await createVhd(p, { type: 'dynamic', size: 4 * MiB });
  const d = await openDisk(`vhd:${p}`, { readOnly: true });
  assert.equal(d.sectors, 8192);
  assert.equal(d.readOnly, true);
  await d.close();
  await assert.rejects(openDisk('qed:/x', { readOnly: true }), /disk format qed is not supported yet \(known: raw, vhd/);
  const { f } = await connected(t, await VhdDisk.open(p, { readOnly: false }), `vdev=xvda, format=vhd, target=${p}`);
  assert.equal(f.info().sizeSectors, 8192);
  await f.write(2048, pattern(5, 8192));
  await f.flush();
  const back = new Uint8Array(8192);
  await f.read(2048, back);
  assert.deepEqual(back, pattern(5, 8192));
});

test('a full disk during an allocating write is a clean ENOSPC; written data and the image stay whole', async (t) => {
  const dir = await scratch(t);
  const p = join(dir, 'full.vhd');
  await createVhd(p, { type: 'dynamic', size: 64 * MiB });
  const child = fileURLToPath(new URL('../../../support/vhd-full-child.js', import.meta.url));
  // 5 MiB of file: two 2 MiB blocks fit, the third does not.
  const { stdout } = await run('/bin/sh', ['-c', `ulimit -f ${5 * 1024 * 2}; exec "$0" "$1" "$2"`, process.execPath, child, p], { timeout: 60_000 });
  const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  assert.equal(out['error'], 'ENOSPC', String(out['message']));
  assert.match(String(out['message']), /full\.vhd/);
  assert.equal(out['written'], 2);
  assert.equal(out['intact'], true);
  assert.equal(out['reopenedIntact'], true);
  const img = await VhdImage.open(p, { readOnly: true });
  // Two blocks, their data aligned to 256 KiB (the first after the BAT, the second after the first), the footer.
  assert.equal((await stat(p)).size, 256 * 1024 + 2 * MiB + 256 * 1024 + 2 * MiB + 512, 'no half block left behind');
  await img.close();
});

test('kill -9 during allocating writes: every record flushed before it is in the image, which opens whole', async (t) => {
  const dir = await scratch(t);
  const child = fileURLToPath(new URL('../../../support/vhd-crash-child.js', import.meta.url));
  const base = join(dir, 'base.vhd');
  await createVhd(base, { type: 'dynamic', size: 64 * MiB, blockSize: 64 * 1024 });
  const b = await VhdDisk.open(base, { readOnly: false });
  for (let s = 0; s < 128 * 1024; s += 2048) await b.write(s, [pattern(7, MiB)]);
  await b.close();
  for (const [n, killAt, kind] of [[0, 6, 'dynamic'], [1, 19, 'differencing'], [2, 31, 'dynamic']] as const) {
    const image = join(dir, `crash${n}.vhd`);
    if (kind === 'dynamic') await createVhd(image, { type: 'dynamic', size: 64 * MiB, blockSize: 64 * 1024 });
    else await createDifferencing(image, base);
    const acked = await killAfterFlushed(child, [image], killAt);
    const d = await VhdDisk.open(image, { readOnly: false });
    for (let i = 0; i <= acked; i++) assert.deepEqual(await readAll(d, recordSector(i), 4096), record(i), `${kind}: record ${i}`);
    // Around the records: zeros (dynamic) or the base (differencing), never another block's data.
    const around = await readAll(d, recordSector(acked + 1) + 8, 512);
    const expect = kind === 'dynamic' ? new Uint8Array(512) : pattern(7, MiB).subarray(((recordSector(acked + 1) + 8) % 2048) * 512, ((recordSector(acked + 1) + 8) % 2048) * 512 + 512);
    assert.deepEqual(around, expect);
    await d.close();
    await (await VhdImage.open(image, { readOnly: true })).close();
  }
});

test('a seeded fuzz of image headers: refused with a typed error or read, never a crash', async (t) => {
  const dir = await scratch(t);
  const base = join(dir, 'fz-base.vhd');
  await createVhd(base, { type: 'dynamic', size: 4 * MiB, blockSize: 64 * 1024 });
  const d = await VhdDisk.open(base, { readOnly: false });
  await d.write(0, [pattern(1, 4096)]);
  await d.write(300, [pattern(2, 4096)]);
  await d.close();
  const child = join(dir, 'fz-child.vhd');
  await createDifferencing(child, base);
  const c = await VhdDisk.open(child, { readOnly: false });
  await c.write(130, [pattern(3, 4096)]);
  await c.close();
  const originals = [await readFile(base), await readFile(child)];
  const random = rng(0x5eed);
  const pick = (n: number) => Math.floor(random() * n);
  let opened = 0;
  let refused = 0;
  for (let iter = 0; iter < 200; iter++) {
    const which = pick(2);
    const img = Buffer.from(originals[which]!);
    const regions = [[0, 512], [512, 1536], [1536, 2048], [2048, 3584], [img.length - 512, img.length]] as const;
    const [from, to] = regions[pick(regions.length)]!;
    for (let k = 1 + pick(4); k > 0; k--) {
      const at = from + pick(Math.min(to, img.length) - from);
      img[at] = random() < 0.5 ? pick(256) : img[at]! ^ (1 << pick(8));
    }
    // Half the time fix the checksums up, so the fields behind them are what gets checked.
    if (random() < 0.5) {
      for (const [start, len, sumAt] of [[0, 512, 64], [img.length - 512, 512, 64], [512, 1024, 36]] as const) {
        let sum = 0;
        for (let i = 0; i < len; i++) if (i < sumAt || i >= sumAt + 4) sum += img[start + i]!;
        img.writeUInt32BE(~sum >>> 0, start + sumAt);
      }
    }
    const path = join(dir, which === 0 ? 'fz-base.vhd' : 'fz-child.vhd');
    await writeFile(path, img);
    if (which === 0) await writeFile(child, originals[1]!);
    try {
      const disk = await VhdDisk.open(child, { readOnly: iter % 2 === 0 });
      opened++;
      try {
        for (let s = 0; s < disk.sectors; s += 2048) await Promise.resolve(disk.read(s, [new Uint8Array(Math.min(MiB, (disk.sectors - s) * 512))])).catch((e) => {
          if (!isXenError(e)) throw e;
        });
        if (iter % 2 === 1) await disk.write(0, [new Uint8Array(4096)]).catch((e) => {
          if (!isXenError(e)) throw e;
        });
      } finally {
        await disk.close();
      }
    } catch (e) {
      assert.ok(isXenError(e), `iteration ${iter}: ${String(e)}`);
      assert.match((e as Error).message, /fz-(base|child)\.vhd/, `iteration ${iter} names the file`);
      refused++;
    }
    await writeFile(base, originals[0]!);
  }
  assert.ok(opened > 10 && refused > 10, `both outcomes seen (${opened} opened, ${refused} refused)`);
});
