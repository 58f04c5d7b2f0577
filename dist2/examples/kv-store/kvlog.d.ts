export declare const SECTOR = 512;
export interface Record {
    readonly key: string;
    /** undefined: the key was deleted. */
    readonly value: string | undefined;
}
export declare function superblock(): Uint8Array;
export declare function isFormatted(sector0: Uint8Array): boolean;
export declare function encodeRecord(seq: number, r: Record): Uint8Array;
/** The record at the start of `b`, if `b` holds a whole valid one with sequence `seq`; and its size in sectors. */
export declare function decodeRecord(b: Uint8Array, seq: number): {
    record: Record;
    sectors: number;
} | 'need-more' | null;
