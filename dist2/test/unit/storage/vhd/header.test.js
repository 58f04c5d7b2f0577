// The dynamic disk header: round trip with a parent, and the checks on its fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeHeader, encodeHeader } from '../../../../src/storage/vhd/header.js';
const base = {
    tableOffset: 1536, maxTableEntries: 512, blockSize: 2 ** 21, parentUuid: new Uint8Array(16).fill(3),
    parentTimestamp: 99, parentName: 'base.vhd', locators: [{ code: 0x4d616358, space: 512, length: 19, offset: 3584 }],
};
test('a header decodes to what was encoded; the parent name is UTF-16BE', () => {
    const b = encodeHeader(base);
    assert.deepEqual(decodeHeader(b, 'h'), base);
    assert.deepEqual([...b.subarray(64, 68)], [0, 0x62, 0, 0x61]);
});
test('a data space under a sector counts sectors (the specification), otherwise bytes (blktap, Windows)', () => {
    const h = decodeHeader(encodeHeader({ ...base, locators: [{ ...base.locators[0], space: 1 }] }), 'h');
    assert.equal(h.locators[0].space, 512);
});
test('bad headers are refused with the field named', () => {
    const refuse = (h, field) => assert.throws(() => decodeHeader(encodeHeader({ ...base, ...h }), '/c.vhd'), (e) => field.test(e.message) && /\/c\.vhd/.test(e.message));
    refuse({ blockSize: 3 * 2 ** 20 }, /block size: 3145728 is not a power of two/);
    refuse({ blockSize: 512 }, /block size/);
    refuse({ maxTableEntries: 2 ** 20 }, /max table entries.*2040 GiB/);
    refuse({ tableOffset: 1537 }, /table offset/);
    const cookie = encodeHeader(base);
    cookie[1] = 0;
    assert.throws(() => decodeHeader(cookie, 'x'), /dynamic header cookie/);
    const sum = encodeHeader(base);
    sum[900] = 1;
    assert.throws(() => decodeHeader(sum, 'x'), /dynamic header checksum/);
});
//# sourceMappingURL=header.test.js.map