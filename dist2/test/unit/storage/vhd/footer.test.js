// The hard disk footer: round trip, every check naming its field, and qemu's size rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFooter, encodeFooter, virtualBytes } from '../../../../src/storage/vhd/footer.js';
import { NO_OFFSET, geometryFor } from '../../../../src/storage/vhd/format.js';
const base = {
    type: 'dynamic', dataOffset: 512n, timestamp: 123, creatorApp: 'tap\0', creatorVersion: 0x10000, creatorOs: 0,
    originalSize: 2 ** 30, currentSize: 2 ** 30, geometry: geometryFor(2 ** 30), uuid: new Uint8Array(16).fill(7), savedState: false,
};
test('a footer decodes to what was encoded', () => {
    assert.deepEqual(decodeFooter(encodeFooter(base), 'f'), base);
    const fixed = { ...base, type: 'fixed', dataOffset: NO_OFFSET };
    assert.deepEqual(decodeFooter(encodeFooter(fixed), 'f'), fixed);
});
test('a bad footer is refused with its file and field named', () => {
    const refuse = (b, field) => assert.throws(() => decodeFooter(b, '/d.vhd'), (e) => {
        assert.match(e.message, /^EBADMSG: \/d\.vhd: VHD footer /);
        assert.match(e.message, field);
        return true;
    });
    const cookie = encodeFooter(base);
    cookie[0] = 0x43;
    refuse(cookie, /cookie/);
    const sum = encodeFooter(base);
    sum[100] ^= 1;
    refuse(sum, /checksum/);
    refuse(encodeFooter({ ...base, type: 'fixed' }), /data offset/);
    refuse(encodeFooter({ ...base, currentSize: 2041 * 2 ** 30 }), /current size: .*2040 GiB/);
    const type = encodeFooter(base);
    new DataView(type.buffer).setUint32(60, 5);
    new DataView(type.buffer).setUint32(64, 0);
    refuse(encodeFooterFixed(type), /disk type/);
});
/** Recompute the checksum of raw footer bytes. */
function encodeFooterFixed(b) {
    let sum = 0;
    for (let i = 0; i < 512; i++)
        if (i < 64 || i >= 68)
            sum += b[i];
    new DataView(b.buffer).setUint32(64, ~sum >>> 0);
    return b;
}
test('virtual size: CHS for Virtual PC and qemu, current_size for the others and at the largest geometry', () => {
    const g = { cylinders: 301, heads: 4, sectorsPerTrack: 17 };
    const f = { ...base, geometry: g, currentSize: 10 * 2 ** 20 };
    assert.equal(virtualBytes({ ...f, creatorApp: 'qemu' }), 301 * 4 * 17 * 512);
    assert.equal(virtualBytes({ ...f, creatorApp: 'vpc ' }), 301 * 4 * 17 * 512);
    for (const app of ['qem2', 'tap\0', 'win ', 'd2v '])
        assert.equal(virtualBytes({ ...f, creatorApp: app }), 10 * 2 ** 20);
    const big = { ...base, creatorApp: 'qemu', geometry: { cylinders: 65535, heads: 16, sectorsPerTrack: 255 }, currentSize: 2040 * 2 ** 30 };
    assert.equal(virtualBytes(big), 2040 * 2 ** 30);
});
//# sourceMappingURL=footer.test.js.map