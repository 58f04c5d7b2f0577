export declare const RECORD_STRIDE_SECTORS = 128;
/** Where record i lies: in block i of a 64 KiB-block image, at a sector that moves inside it. */
export declare const recordSector: (i: number) => number;
export declare function record(i: number): Uint8Array;
