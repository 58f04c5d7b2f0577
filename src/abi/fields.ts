// Range-checked field writers shared by the ring-protocol encoders. Xen's rings are
// little-endian on every architecture xenode mirrors. DataView setters silently truncate, so
// an out-of-range value is refused here instead of going on the wire as some other number.
import { XenError } from '../errors.js';

export const LE = true;

/** `v` if it fits an unsigned field of `bits` bits, else EINVAL naming `what` (e.g. "blkif handle"). */
export function checkUint(what: string, v: number, bits: 8 | 16 | 32): number {
  // v >>> 0 === v holds exactly for the integers in [0, 2^32); the shift then tests the width.
  // (Shifts, not Number.isInteger and 2 ** bits: this runs for every field of every ring slot.)
  if (v >>> 0 !== v || (bits !== 32 && v >>> bits !== 0)) {
    throw new XenError('EINVAL', `${what} must be a uint${bits}, got ${v}`);
  }
  return v;
}

export function checkInt16(what: string, v: number): number {
  // Exactly the integers in [-2^15, 2^15) survive the round trip through 16 bits.
  if ((v << 16) >> 16 !== v) {
    throw new XenError('EINVAL', `${what} must be an int16, got ${v}`);
  }
  return v;
}

/** A uint64 as a number: exact below 2^53, and a larger value still reads as >= 2^53. */
export function readU64(view: DataView, off: number): number {
  return view.getUint32(off + 4, LE) * 2 ** 32 + view.getUint32(off, LE);
}

export function checkU64(what: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new XenError('EINVAL', `${what} must be a non-negative safe integer, got ${v}`);
  }
  return v;
}

export function writeU64(view: DataView, off: number, what: string, v: number): void {
  checkU64(what, v);
  view.setUint32(off, v % 2 ** 32, LE);
  view.setUint32(off + 4, Math.floor(v / 2 ** 32), LE);
}

const UINT64_MAX = (1n << 64n) - 1n;

export function checkBigU64(what: string, v: bigint): bigint {
  if (v < 0n || v > UINT64_MAX) throw new XenError('EINVAL', `${what} must be a uint64, got ${v}`);
  return v;
}

/** For opaque 64-bit values that must round-trip exactly (request ids). */
export function writeBigU64(view: DataView, off: number, what: string, v: bigint): void {
  view.setBigUint64(off, checkBigU64(what, v), LE);
}
