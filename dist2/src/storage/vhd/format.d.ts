import { XenError, type XenErrnoName } from '../../errors.js';
export declare const VHD_SECTOR = 512;
/** The largest virtual size the format allows (qemu's VHD_MAX_SECTORS, blktap's limit). */
export declare const VHD_MAX_BYTES: number;
/** Block size qemu, blktap and Hyper-V use. */
export declare const VHD_DEFAULT_BLOCK: number;
/** Bounds on a block size we accept: a power of two from 4 KiB (a whole bitmap byte) to 256 MiB. */
export declare const VHD_MIN_BLOCK = 4096;
export declare const VHD_MAX_BLOCK: number;
/** Images in a chain, the leaf included (XCP's limit). */
export declare const VHD_MAX_CHAIN = 30;
/** BAT entry of a block not allocated. */
export declare const BAT_UNUSED = 4294967295;
/** data_offset of a fixed image's footer, and of the dynamic header. */
export declare const NO_OFFSET = 18446744073709551615n;
export declare const DiskType: {
    readonly fixed: 2;
    readonly dynamic: 3;
    readonly differencing: 4;
};
export type DiskTypeName = keyof typeof DiskType;
/**
 * A corrupt or unsupported image: names the file and the field at fault, so that a user can
 * tell which of a chain's files is bad and why.
 */
export declare class VhdError extends XenError {
    readonly file: string;
    readonly field: string;
    name: string;
    constructor(file: string, field: string, detail: string, errno?: XenErrnoName);
}
/** One's complement of the byte sum, the checksum field itself read as zero. */
export declare function checksum(bytes: Uint8Array, fieldAt: number): number;
export declare function vhdTime(ms: number): number;
export declare function uuidString(b: Uint8Array): string;
export interface Geometry {
    readonly cylinders: number;
    readonly heads: number;
    readonly sectorsPerTrack: number;
}
/** The largest geometry: images at least this big take their size from current_size. */
export declare const MAX_GEOMETRY_SECTORS: number;
/** CHS geometry for a size, by the specification's algorithm (as libvhd's vhd_chs and qemu). */
export declare function geometryFor(bytes: number): Geometry;
/** Bytes a geometry addresses. */
export declare function geometryBytes(g: Geometry): number;
/**
 * The size `qemu-img create -f vpc` gives an image of `bytes` without force_size: the first
 * geometry, computed for a growing sector count, that covers the request (qemu's vpc_create).
 */
export declare function qemuRoundedSize(bytes: number): number;
/** Bitmap bytes in front of each block: one bit a sector, padded to whole sectors. */
export declare function bitmapBytes(blockSize: number): number;
