// Range-checked field writers shared by the ring-protocol encoders. Xen's rings are
// little-endian on every architecture xenode mirrors. DataView setters silently truncate, so
// an out-of-range value is refused here instead of going on the wire as some other number.
import { XenError } from '../errors.js';
export const LE = true;
/** `v` if it fits an unsigned field of `bits` bits, else EINVAL naming `what` (e.g. "blkif handle"). */
export function checkUint(what, v, bits) {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
        throw new XenError('EINVAL', `${what} must be a uint${bits}, got ${v}`);
    }
    return v;
}
export function checkInt16(what, v) {
    if (!Number.isInteger(v) || v < -0x8000 || v > 0x7fff) {
        throw new XenError('EINVAL', `${what} must be an int16, got ${v}`);
    }
    return v;
}
/** A uint64 as a number: exact below 2^53, and a larger value still reads as >= 2^53. */
export function readU64(view, off) {
    return view.getUint32(off + 4, LE) * 2 ** 32 + view.getUint32(off, LE);
}
export function writeU64(view, off, what, v) {
    if (!Number.isSafeInteger(v) || v < 0) {
        throw new XenError('EINVAL', `${what} must be a non-negative safe integer, got ${v}`);
    }
    view.setUint32(off, v % 2 ** 32, LE);
    view.setUint32(off + 4, Math.floor(v / 2 ** 32), LE);
}
const UINT64_MAX = (1n << 64n) - 1n;
/** For opaque 64-bit values that must round-trip exactly (request ids). */
export function writeBigU64(view, off, what, v) {
    if (v < 0n || v > UINT64_MAX)
        throw new XenError('EINVAL', `${what} must be a uint64, got ${v}`);
    view.setBigUint64(off, v, LE);
}
//# sourceMappingURL=fields.js.map