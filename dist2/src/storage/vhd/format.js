// What every VHD module shares: the typed error for a corrupt image, the limits, the checksum,
// timestamps, uuids and the CHS geometry (Microsoft's "Virtual Hard Disk Image Format
// Specification", as blktap's libvhd and qemu's vpc driver read it).
import { XenError } from '../../errors.js';
export const VHD_SECTOR = 512;
/** The largest virtual size the format allows (qemu's VHD_MAX_SECTORS, blktap's limit). */
export const VHD_MAX_BYTES = 2040 * 2 ** 30;
/** Block size qemu, blktap and Hyper-V use. */
export const VHD_DEFAULT_BLOCK = 2 * 2 ** 20;
/** Bounds on a block size we accept: a power of two from 4 KiB (a whole bitmap byte) to 256 MiB. */
export const VHD_MIN_BLOCK = 4096;
export const VHD_MAX_BLOCK = 256 * 2 ** 20;
/** Images in a chain, the leaf included (XCP's limit). */
export const VHD_MAX_CHAIN = 30;
/** BAT entry of a block not allocated. */
export const BAT_UNUSED = 0xffffffff;
/** data_offset of a fixed image's footer, and of the dynamic header. */
export const NO_OFFSET = 0xffffffffffffffffn;
export const DiskType = { fixed: 2, dynamic: 3, differencing: 4 };
/**
 * A corrupt or unsupported image: names the file and the field at fault, so that a user can
 * tell which of a chain's files is bad and why.
 */
export class VhdError extends XenError {
    file;
    field;
    name = 'VhdError';
    constructor(file, field, detail, errno = 'EBADMSG') {
        super(errno, `${file}: VHD ${field}: ${detail}`);
        this.file = file;
        this.field = field;
    }
}
/** One's complement of the byte sum, the checksum field itself read as zero. */
export function checksum(bytes, fieldAt) {
    let sum = 0;
    for (let i = 0; i < bytes.length; i++)
        if (i < fieldAt || i >= fieldAt + 4)
            sum += bytes[i];
    return ~sum >>> 0;
}
/** VHD timestamps count seconds from 2000-01-01 00:00:00 UTC. */
const VHD_EPOCH_MS = Date.UTC(2000, 0, 1);
export function vhdTime(ms) {
    return Math.max(0, Math.floor((ms - VHD_EPOCH_MS) / 1000)) >>> 0;
}
export function uuidString(b) {
    const h = Buffer.from(b).toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
/** The largest geometry: images at least this big take their size from current_size. */
export const MAX_GEOMETRY_SECTORS = 65535 * 16 * 255;
/** CHS geometry for a size, by the specification's algorithm (as libvhd's vhd_chs and qemu). */
export function geometryFor(bytes) {
    const secs = Math.min(Math.ceil(bytes / VHD_SECTOR), MAX_GEOMETRY_SECTORS);
    let spt;
    let heads;
    let cth;
    if (secs >= 65535 * 16 * 63) {
        spt = 255;
        heads = 16;
        cth = Math.floor(secs / spt);
    }
    else {
        spt = 17;
        cth = Math.floor(secs / spt);
        heads = Math.max(4, Math.floor((cth + 1023) / 1024));
        if (cth >= heads * 1024 || heads > 16) {
            spt = 31;
            heads = 16;
            cth = Math.floor(secs / spt);
        }
        if (cth >= heads * 1024) {
            spt = 63;
            heads = 16;
            cth = Math.floor(secs / spt);
        }
    }
    return { cylinders: Math.floor(cth / heads), heads, sectorsPerTrack: spt };
}
/** Bytes a geometry addresses. */
export function geometryBytes(g) {
    return g.cylinders * g.heads * g.sectorsPerTrack * VHD_SECTOR;
}
/**
 * The size `qemu-img create -f vpc` gives an image of `bytes` without force_size: the first
 * geometry, computed for a growing sector count, that covers the request (qemu's vpc_create).
 */
export function qemuRoundedSize(bytes) {
    const want = Math.ceil(bytes / VHD_SECTOR);
    for (let i = 0;; i++) {
        const g = geometryFor((want + i) * VHD_SECTOR);
        const n = g.cylinders * g.heads * g.sectorsPerTrack;
        if (n >= MAX_GEOMETRY_SECTORS)
            return want * VHD_SECTOR;
        if (n >= want)
            return n * VHD_SECTOR;
    }
}
/** Bitmap bytes in front of each block: one bit a sector, padded to whole sectors. */
export function bitmapBytes(blockSize) {
    return Math.ceil(blockSize / VHD_SECTOR / 8 / VHD_SECTOR) * VHD_SECTOR;
}
//# sourceMappingURL=format.js.map