// VHD basics: the checksum, timestamps, CHS geometry and qemu's size rounding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_GEOMETRY_SECTORS, VhdError, bitmapBytes, checksum, geometryBytes, geometryFor, qemuRoundedSize, vhdTime, } from '../../../../src/storage/vhd/format.js';
test('the checksum is the one\'s complement of the byte sum without its own field', () => {
    const b = new Uint8Array(16).fill(1);
    b.set([0xff, 0xff, 0xff, 0xff], 4);
    assert.equal(checksum(b, 4), ~12 >>> 0);
});
test('timestamps count seconds from 2000-01-01 UTC', () => {
    assert.equal(vhdTime(Date.UTC(2000, 0, 1)), 0);
    assert.equal(vhdTime(Date.UTC(2000, 0, 2)), 86400);
});
test('CHS geometry as the specification computes it, and the sizes qemu rounds to', () => {
    // Known values: qemu-img create -f vpc 10M gives 10514432 bytes (302 cylinders, 4 heads, 17 sectors).
    assert.deepEqual(geometryFor(10 * 2 ** 20), { cylinders: 301, heads: 4, sectorsPerTrack: 17 });
    assert.equal(qemuRoundedSize(10 * 2 ** 20), 10514432);
    assert.equal(qemuRoundedSize(64 * 2 ** 20), 67125248);
    for (const mb of [1, 7, 100, 4096, 130_000]) {
        const r = qemuRoundedSize(mb * 2 ** 20);
        assert.ok(r >= mb * 2 ** 20 && r === geometryBytes(geometryFor(r)), `${mb} MiB rounds to a geometry that covers it`);
    }
    // Past the largest geometry qemu keeps the size as asked.
    assert.equal(qemuRoundedSize(MAX_GEOMETRY_SECTORS * 512 + 2 ** 30), MAX_GEOMETRY_SECTORS * 512 + 2 ** 30);
    assert.deepEqual(geometryFor(2040 * 2 ** 30), { cylinders: 65535, heads: 16, sectorsPerTrack: 255 });
});
test('a bitmap is a bit a sector, padded to sectors; errors name the file and field', () => {
    assert.equal(bitmapBytes(2 * 2 ** 20), 512);
    assert.equal(bitmapBytes(4096), 512);
    assert.equal(bitmapBytes(8 * 2 ** 20), 2048);
    const e = new VhdError('/x.vhd', 'footer cookie', 'bad');
    assert.equal(e.errno, 'EBADMSG');
    assert.match(e.message, /\/x\.vhd: VHD footer cookie: bad/);
});
//# sourceMappingURL=format.test.js.map