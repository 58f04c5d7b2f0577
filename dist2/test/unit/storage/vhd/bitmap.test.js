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
//# sourceMappingURL=bitmap.test.js.map