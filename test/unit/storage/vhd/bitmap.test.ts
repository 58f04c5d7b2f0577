// Sector bitmaps are most significant bit first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allSet, setBits, testBit } from '../../../../src/storage/vhd/bitmap.js';

test('sector 0 is the top bit of byte 0; and ranges', () => {
  const bm = new Uint8Array(4);
  setBits(bm, 0, 1);
  assert.equal(bm[0], 0x80);
  setBits(bm, 6, 4);
  assert.deepEqual([...bm.subarray(0, 2)], [0x83, 0xc0]);
  assert.ok(testBit(bm, 9) && !testBit(bm, 10));
  assert.ok(allSet(bm, 6, 4) && !allSet(bm, 5, 4));
});

test('allSet agrees with the bits one by one, over byte boundaries and whole bytes', () => {
  // Bitmaps with every bit set but one (and none clear), ranges starting and ending anywhere.
  for (const clear of [-1, 0, 5, 7, 8, 15, 16, 23, 30, 31]) {
    const bm = new Uint8Array(4).fill(0xff);
    if (clear >= 0) bm[clear >> 3]! &= ~(0x80 >> (clear & 7));
    for (let first = 0; first < 32; first++) {
      for (let count = 0; first + count <= 32; count++) {
        let want = true;
        for (let i = first; i < first + count; i++) if (!testBit(bm, i)) want = false;
        assert.equal(allSet(bm, first, count), want, `clear ${clear}, [${first}, ${first + count})`);
      }
    }
  }
});
