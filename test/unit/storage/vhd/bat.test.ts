// The BAT: entries in and out, and the checks that keep blocks out of the headers, inside the
// file and apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batBytes, batRuns, checkBat, decodeBat } from '../../../../src/storage/vhd/bat.js';
import { BAT_UNUSED } from '../../../../src/storage/vhd/format.js';

const EXTENT = 512 + 4096;
const reserved = [{ what: 'dynamic header', start: 512, end: 1536 }, { what: 'BAT', start: 1536, end: 2048 }];

test('entries decode big-endian; a sector write carries its neighbours; near sectors go in one run', () => {
  assert.equal(batBytes(1), 512);
  assert.equal(batBytes(129), 1024);
  const raw = new Uint8Array(512).fill(0xff);
  raw.set([0, 0, 0, 4], 4);
  const bat = decodeBat(raw, 3);
  assert.deepEqual([...bat], [BAT_UNUSED, 4, BAT_UNUSED]);
  const [run, ...more] = batRuns(bat, new Map([[2, 13]]), 8);
  assert.equal(more.length, 0);
  assert.equal(run!.first, 0);
  assert.equal(run!.bytes.byteLength, 512);
  assert.deepEqual([...run!.bytes.subarray(0, 12)], [255, 255, 255, 255, 0, 0, 0, 4, 0, 0, 0, 13]);
  // 128 entries a sector: blocks in sectors 0, 2 and 20 make a run of sectors 0..2 and one of 20.
  const big = new Uint32Array(128 * 21).fill(BAT_UNUSED);
  big[300] = 99;
  const runs = batRuns(big, new Map([[1, 7], [256 + 5, 8], [20 * 128, 9]]), 8);
  assert.deepEqual(runs.map((r) => [r.first, r.bytes.byteLength]), [[0, 3 * 512], [20, 512]]);
  const v = new DataView(runs[0]!.bytes.buffer);
  assert.deepEqual([v.getUint32(4), v.getUint32(261 * 4), v.getUint32(300 * 4), v.getUint32(0)], [7, 8, 99, BAT_UNUSED]);
  assert.equal(new DataView(runs[1]!.bytes.buffer).getUint32(0), 9);
});

test('valid entries give the end of the last block', () => {
  assert.equal(checkBat(Uint32Array.of(4, BAT_UNUSED, 13), EXTENT, reserved, 20000, 'f'), 13 * 512 + EXTENT);
  assert.equal(checkBat(Uint32Array.of(BAT_UNUSED), EXTENT, reserved, 20000, 'f'), 0);
});

test('an entry outside the file, into the headers, or onto another block is refused', () => {
  assert.throws(() => checkBat(Uint32Array.of(4, 100), EXTENT, reserved, 20000, '/f.vhd'), /\/f\.vhd: VHD BAT entry 1: .*outside the file/);
  assert.throws(() => checkBat(Uint32Array.of(2), EXTENT, reserved, 20000, 'f'), /BAT entry 0: .*overlaps the dynamic header/);
  assert.throws(() => checkBat(Uint32Array.of(4, 8), EXTENT, reserved, 20000, 'f'), /BAT entry 1: .*overlaps block 0/);
  assert.throws(() => checkBat(Uint32Array.of(4, 4), EXTENT, reserved, 20000, 'f'), /BAT entry 1: .*overlaps block 0/);
});

test('a write-back\'s sectors carry blocks allocated in memory only as unused; entries decode in place', () => {
  const bat = Uint32Array.of(4, 20, 40, BAT_UNUSED);
  // Block 2 was allocated while the write-back of block 3 ran: on disk it is still unused.
  const [run] = batRuns(bat, new Map([[3, 60]]), 8, new Set([2]));
  const v = new DataView(run!.bytes.buffer);
  assert.deepEqual([0, 1, 2, 3].map((i) => v.getUint32(i * 4)), [4, 20, BAT_UNUSED, 60]);
  const raw = new Uint8Array(512);
  raw.set([0, 0, 0, 7, 0, 0, 1, 0]);
  const decoded = decodeBat(raw, 2);
  assert.deepEqual([...decoded], [7, 256]);
  assert.equal(decoded.buffer, raw.buffer, 'no copy of the table (its bytes were swapped in place)');
  const odd = Uint8Array.of(9, 0, 0, 0, 7);
  assert.deepEqual([...decodeBat(odd.subarray(1), 1)], [7], 'an unaligned view is copied');
  assert.deepEqual([...odd], [9, 0, 0, 0, 7], 'and left as it was');
});
