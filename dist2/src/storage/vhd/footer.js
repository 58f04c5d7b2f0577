// The hard disk footer: the last 512 bytes of every image, and for dynamic and differencing
// images also a copy in the first 512 (read when a crash left the end without one).
import { DiskType, MAX_GEOMETRY_SECTORS, NO_OFFSET, VHD_MAX_BYTES, VHD_SECTOR, VhdError, checksum, } from './format.js';
export const FOOTER_BYTES = 512;
const COOKIE = 'conectix';
const CHECKSUM_AT = 64;
/** Features: bit 1 "reserved" is always set. */
const FEATURES_RESERVED = 2;
const FORMAT_VERSION = 0x00010000;
const TYPE_NAMES = { 2: 'fixed', 3: 'dynamic', 4: 'differencing' };
/** Decode and check a footer; `file` names the image in errors. */
export function decodeFooter(b, file) {
    const v = new DataView(b.buffer, b.byteOffset, FOOTER_BYTES);
    const bad = (field, detail) => new VhdError(file, `footer ${field}`, detail);
    if (Buffer.from(b.subarray(0, 8)).toString('latin1') !== COOKIE)
        throw bad('cookie', `is not '${COOKIE}'`);
    const sum = v.getUint32(CHECKSUM_AT);
    if (sum !== checksum(b.subarray(0, FOOTER_BYTES), CHECKSUM_AT))
        throw bad('checksum', `0x${sum.toString(16)} does not match the footer`);
    const version = v.getUint32(12);
    if (version >>> 16 !== 1)
        throw bad('file format version', `0x${version.toString(16)} is not 1.x`);
    const type = TYPE_NAMES[v.getUint32(60)];
    if (!type)
        throw bad('disk type', `${v.getUint32(60)} is not fixed (2), dynamic (3) or differencing (4)`);
    const dataOffset = v.getBigUint64(16);
    if (type === 'fixed' ? dataOffset !== NO_OFFSET : dataOffset % BigInt(VHD_SECTOR) !== 0n || dataOffset < BigInt(VHD_SECTOR)) {
        throw bad('data offset', `0x${dataOffset.toString(16)} is not valid for a ${type} image`);
    }
    const size = v.getBigUint64(48);
    if (size === 0n || size > BigInt(VHD_MAX_BYTES))
        throw bad('current size', `${size} bytes is not within 1..${VHD_MAX_BYTES} (2040 GiB)`);
    return {
        type, dataOffset, timestamp: v.getUint32(24),
        creatorApp: Buffer.from(b.subarray(28, 32)).toString('latin1'),
        creatorVersion: v.getUint32(32), creatorOs: v.getUint32(36),
        originalSize: Number(v.getBigUint64(40)), currentSize: Number(size),
        geometry: { cylinders: v.getUint16(56), heads: v.getUint8(58), sectorsPerTrack: v.getUint8(59) },
        uuid: b.slice(68, 84), savedState: b[84] !== 0,
    };
}
export function encodeFooter(f) {
    const b = new Uint8Array(FOOTER_BYTES);
    const v = new DataView(b.buffer);
    b.set(Buffer.from(COOKIE, 'latin1'), 0);
    v.setUint32(8, FEATURES_RESERVED);
    v.setUint32(12, FORMAT_VERSION);
    v.setBigUint64(16, f.dataOffset);
    v.setUint32(24, f.timestamp);
    b.set(Buffer.from(f.creatorApp.padEnd(4, '\0').slice(0, 4), 'latin1'), 28);
    v.setUint32(32, f.creatorVersion);
    v.setUint32(36, f.creatorOs);
    v.setBigUint64(40, BigInt(f.originalSize));
    v.setBigUint64(48, BigInt(f.currentSize));
    v.setUint16(56, f.geometry.cylinders);
    v.setUint8(58, f.geometry.heads);
    v.setUint8(59, f.geometry.sectorsPerTrack);
    v.setUint32(60, DiskType[f.type]);
    b.set(f.uuid, 68);
    b[84] = f.savedState ? 1 : 0;
    v.setUint32(CHECKSUM_AT, checksum(b, CHECKSUM_AT));
    return b;
}
/**
 * The virtual size in bytes, as qemu (9.2 on) decides it: Virtual PC ('vpc ') and qemu without
 * force_size ('qemu') address the CHS geometry, every other creator (qemu's force_size 'qem2',
 * Hyper-V 'win ', blktap 'tap\0', 'd2v ', Azure) current_size; an image at the largest geometry
 * always uses current_size. For qemu's own images the two agree: it rounds current_size to the
 * geometry.
 */
export function virtualBytes(f) {
    const { cylinders, heads, sectorsPerTrack } = f.geometry;
    const chs = cylinders * heads * sectorsPerTrack;
    const byChs = (f.creatorApp === 'vpc ' || f.creatorApp === 'qemu') && chs < MAX_GEOMETRY_SECTORS && chs > 0;
    return byChs ? Math.min(chs * VHD_SECTOR, f.currentSize) : f.currentSize;
}
//# sourceMappingURL=footer.js.map