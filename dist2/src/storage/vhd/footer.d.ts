import { type DiskTypeName, type Geometry } from './format.js';
export declare const FOOTER_BYTES = 512;
export interface Footer {
    readonly type: DiskTypeName;
    /** Byte offset of the dynamic header; NO_OFFSET for fixed images. */
    readonly dataOffset: bigint;
    readonly timestamp: number;
    readonly creatorApp: string;
    readonly creatorVersion: number;
    readonly creatorOs: number;
    readonly originalSize: number;
    readonly currentSize: number;
    readonly geometry: Geometry;
    readonly uuid: Uint8Array;
    readonly savedState: boolean;
}
/** Decode and check a footer; `file` names the image in errors. */
export declare function decodeFooter(b: Uint8Array, file: string): Footer;
export declare function encodeFooter(f: Footer): Uint8Array;
/**
 * The virtual size in bytes, as qemu (9.2 on) decides it: Virtual PC ('vpc ') and qemu without
 * force_size ('qemu') address the CHS geometry, every other creator (qemu's force_size 'qem2',
 * Hyper-V 'win ', blktap 'tap\0', 'd2v ', Azure) current_size; an image at the largest geometry
 * always uses current_size. For qemu's own images the two agree: it rounds current_size to the
 * geometry.
 */
export declare function virtualBytes(f: Footer): number;
