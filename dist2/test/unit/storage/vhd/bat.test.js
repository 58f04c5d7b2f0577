// The BAT: entries in and out, and the checks that keep blocks out of the headers, inside the
// file and apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batBytes, batSector, checkBat, decodeBat } from '../../../../src/storage/vhd/bat.js';
import { BAT_UNUSED } from '../../../../src/storage/vhd/format.js';
const EXTENT = 512 + 4096;
const reserved = [{ what: 'dynamic header', start: 512, end: 1536 }, { what: 'BAT', start: 1536, end: 2048 }];
test('entries decode big-endian; a sector write carries its neighbours', () => {
    assert.equal(batBytes(1), 512);
    assert.equal(batBytes(129), 1024);
    const raw = new Uint8Array(512).fill(0xff);
    raw.set([0, 0, 0, 4], 4);
    const bat = decodeBat(raw, 3);
    assert.deepEqual([...bat], [BAT_UNUSED, 4, BAT_UNUSED]);
    const s = batSector(bat, new Map([[2, 13]]));
    assert.deepEqual([...s.subarray(0, 12)], [255, 255, 255, 255, 0, 0, 0, 4, 0, 0, 0, 13]);
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
//# sourceMappingURL=bat.test.js.map