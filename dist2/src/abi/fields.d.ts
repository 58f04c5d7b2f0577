export declare const LE = true;
/** `v` if it fits an unsigned field of `bits` bits, else EINVAL naming `what` (e.g. "blkif handle"). */
export declare function checkUint(what: string, v: number, bits: 8 | 16 | 32): number;
export declare function checkInt16(what: string, v: number): number;
/** A uint64 as a number: exact below 2^53, and a larger value still reads as >= 2^53. */
export declare function readU64(view: DataView, off: number): number;
export declare function writeU64(view: DataView, off: number, what: string, v: number): void;
/** For opaque 64-bit values that must round-trip exactly (request ids). */
export declare function writeBigU64(view: DataView, off: number, what: string, v: bigint): void;
