// One image at open: every corruption refused with the file and field named (nothing crashes),
// and the states a crash can leave repaired.
import assert from 'node:assert/strict';
import { appendFile, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isXenError } from '../../../../src/errors.js';
import { VhdDisk } from '../../../../src/storage/vhd/chain.js';
import { createVhd } from '../../../../src/storage/vhd/create.js';
import { VhdImage } from '../../../../src/storage/vhd/image.js';
import { editFooter, editHeader, patch, pattern, scratch } from '../../../support/vhd.js';

const MiB = 2 ** 20;

/** A dynamic image of 8 MiB with blocks 0 and 1 written. */
async function twoBlocks(dir: string, name = 'd.vhd'): Promise<string> {
  const p = join(dir, name);
  await createVhd(p, { type: 'dynamic', size: 8 * MiB });
  const d = await VhdDisk.open(p, { readOnly: false });
  await d.write(0, [pattern(1, 4096)]);
  await d.write(4096, [pattern(2, 4096)]);
  await d.close();
  return p;
}

function be32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

async function refused(path: string, field: RegExp, errno = 'EBADMSG'): Promise<void> {
  for (const readOnly of [true, false]) {
    await assert.rejects(VhdImage.open(path, { readOnly }), (e: unknown) => {
      assert.ok(isXenError(e, errno as never), `a ${errno} XenError, not ${String(e)}`);
      assert.ok((e as Error).message.includes(path), `names the file: ${(e as Error).message}`);
      assert.match((e as Error).message, field);
      return true;
    });
  }
}

test('bad cookies and checksums: footer (both copies) and dynamic header', async (t) => {
  const dir = await scratch(t);
  const fixed = join(dir, 'f.vhd');
  await createVhd(fixed, { type: 'fixed', size: MiB });
  await patch(fixed, MiB, Buffer.from('CONECTIX'));
  await refused(fixed, /footer cookie/);
  const dyn = await twoBlocks(dir);
  const size = (await stat(dyn)).size;
  await patch(dyn, size - 512 + 100, Uint8Array.of(1));
  await patch(dyn, 100, Uint8Array.of(1));
  await refused(dyn, /footer checksum/);
  const hdr = await twoBlocks(dir, 'h.vhd');
  await patch(hdr, 512 + 1000, Uint8Array.of(9));
  await refused(hdr, /dynamic header checksum/);
  await patch(hdr, 512, Buffer.from('cxSPARSE'));
  await refused(hdr, /dynamic header cookie/);
});

test('BAT entries outside the file, into the headers, onto another block, overlapping', async (t) => {
  const dir = await scratch(t);
  const cases: [number, (first: number) => number, RegExp][] = [
    [0, () => 0x100000, /BAT entry 0: .*outside the file/],
    [0, () => 1, /BAT entry 0: .*overlaps the dynamic header/],
    [0, () => 3, /BAT entry 0: .*overlaps the BAT/],
    [1, (first) => first, /BAT entry 1: .*overlaps block 0/],
    [1, (first) => first + 1, /BAT entry 1: .*overlaps block 0/],
  ];
  for (const [i, [entry, value, field]] of cases.entries()) {
    const p = await twoBlocks(dir, `b${i}.vhd`);
    const first = new DataView((await readFile(p)).buffer).getUint32(1536);
    await patch(p, 1536 + entry * 4, be32(value(first)));
    await refused(p, field);
  }
});

test('absurd sizes: beyond 2040 GiB, a block size not a power of two, a BAT too small', async (t) => {
  const dir = await scratch(t);
  const big = await twoBlocks(dir, 'big.vhd');
  await editFooter(big, (f) => ({ ...f, currentSize: 2041 * 2 ** 30 }), true);
  await refused(big, /footer current size: .*2040 GiB/);
  const bs = await twoBlocks(dir, 'bs.vhd');
  await editHeader(bs, (h) => ({ ...h, blockSize: 3 * MiB }));
  await refused(bs, /dynamic header block size: .*power of two/);
  const few = await twoBlocks(dir, 'few.vhd');
  await editHeader(few, (h) => ({ ...h, maxTableEntries: 2 }));
  await refused(few, /max table entries: 2 blocks do not cover/);
  const fixed = join(dir, 'f.vhd');
  await createVhd(fixed, { type: 'fixed', size: MiB });
  await editFooter(fixed, (f) => ({ ...f, currentSize: 2 * MiB }));
  await refused(fixed, /file size: .*too short for a fixed image/);
});

test('truncated files are refused at open', async (t) => {
  const dir = await scratch(t);
  const mid = await twoBlocks(dir, 'mid.vhd');
  await truncate(mid, 256 * 1024 + 2 * MiB + 256 * 1024 + MiB); // in the middle of block 1's data
  await refused(mid, /BAT entry 1: .*outside the file/);
  const head = await twoBlocks(dir, 'head.vhd');
  await truncate(head, 700);
  await refused(head, /footer/);
  const tiny = await twoBlocks(dir, 'tiny.vhd');
  await truncate(tiny, 100);
  await refused(tiny, /file size: 100 bytes is too short/);
  const none = join(dir, 'none.vhd');
  await assert.rejects(VhdImage.open(none, { readOnly: true }), (e: unknown) => isXenError(e, 'ENOENT') && (e as Error).message.includes(none));
});

test('a crash before the footer moved: the copy at the start stands in, a writable open repairs the end', async (t) => {
  const dir = await scratch(t);
  // The BAT entry was written, the footer not (the end of the file is the zeros it was extended with).
  const p = await twoBlocks(dir);
  const size = (await stat(p)).size;
  await patch(p, size - 512, new Uint8Array(512));
  const ro = await VhdDisk.open(p, { readOnly: true });
  const r = new Uint8Array(4096);
  await ro.read(4096, [r]);
  assert.deepEqual(r, pattern(2, 4096));
  await ro.close();
  assert.equal((await stat(p)).size, size, 'a read-only open changes nothing');
  const rw = await VhdImage.open(p, { readOnly: false });
  await rw.close();
  assert.equal((await stat(p)).size, size);
  const again = await VhdImage.open(p, { readOnly: true });
  assert.equal(again.bat[1] !== 0xffffffff, true);
  await again.close();
  // Data and bitmap written past the last block, BAT entry not: dropped, the file cut after block 1.
  const q = await twoBlocks(dir, 'q.vhd');
  const qsize = (await stat(q)).size;
  await patch(q, qsize - 512, new Uint8Array(512).fill(0xff));
  await appendFile(q, pattern(9, 4096 + 512));
  await (await VhdImage.open(q, { readOnly: false })).close();
  assert.equal((await stat(q)).size, qsize);
  const d = await VhdDisk.open(q, { readOnly: false });
  await d.read(0, [r]);
  assert.deepEqual(r, pattern(1, 4096));
  await d.write(8192, [pattern(3, 4096)]);
  await d.read(8192 + 8, [r.subarray(0, 512)]);
  assert.ok(r.subarray(0, 512).every((x) => x === 0), 'the new block reads zeros where nothing was written');
  await d.close();
});

test('new blocks have their data aligned (256 KiB for 2 MiB blocks, 8 KiB for 64 KiB ones), their bitmap just before', async (t) => {
  const dir = await scratch(t);
  for (const [blockSize, align] of [[2 * MiB, 256 * 1024], [64 * 1024, 8192]] as const) {
    const p = join(dir, `a${blockSize}.vhd`);
    await createVhd(p, { type: 'dynamic', size: 16 * MiB, blockSize });
    const d = await VhdDisk.open(p, { readOnly: false });
    for (const b of [3, 0, 5]) await d.write((b * blockSize) / 512 + 8, [pattern(b, 4096)]);
    await d.close();
    const img = await VhdImage.open(p, { readOnly: true });
    for (const b of [3, 0, 5]) assert.equal((img.bat[b]! * 512 + 512) % align, 0, `${blockSize}: block ${b}'s data at sector ${img.bat[b]! + 1}`);
    await img.close();
    const r = await VhdDisk.open(p, { readOnly: true });
    const back = new Uint8Array(4096);
    for (const b of [3, 0, 5]) {
      await r.read((b * blockSize) / 512 + 8, [back]);
      assert.deepEqual(back, pattern(b, 4096));
    }
    await r.close();
  }
});

test('a block that would start past what a BAT entry can address is refused with ENOSPC, not wrapped around', async (t) => {
  const dir = await scratch(t);
  const p = join(dir, 'far.vhd');
  await createVhd(p, { type: 'dynamic', size: 8 * MiB });
  const footer = (await readFile(p)).subarray(-512);
  const img = await VhdImage.open(p, { readOnly: true });
  const table = img.header!.tableOffset;
  await img.close();
  // Block 0 placed by hand at sector 0xfffff000 (2 TiB in, a sparse file): it ends past the
  // last sector a BAT entry can hold, so the next block has nowhere to go.
  const start = 0xfffff000;
  const end = (start + 1 + 4096) * 512;
  await patch(p, table, be32(start));
  await patch(p, end, footer);
  const d = await VhdDisk.open(p, { readOnly: false });
  await assert.rejects(d.write(4096, [pattern(4, 4096)]), (e: unknown) => isXenError(e, 'ENOSPC') && /far\.vhd: VHD BAT: no block can start/.test((e as Error).message));
  await d.write(8, [pattern(3, 4096)]);
  await d.close();
  assert.equal((await stat(p)).size, end + 512, 'the file is as it was');
  const again = await VhdDisk.open(p, { readOnly: true });
  const back = new Uint8Array(4096);
  await again.read(8, [back]);
  assert.deepEqual(back, pattern(3, 4096));
  await again.read(4096, [back]);
  assert.deepEqual(back, new Uint8Array(4096), 'block 1 is not allocated');
  await again.close();
});
