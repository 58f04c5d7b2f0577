/** Bytes the table occupies in the file. */
export declare function batBytes(entries: number): number;
export declare function decodeBat(b: Uint8Array, entries: number): Uint32Array;
/**
 * The BAT's sector holding the entries of `changes` (block -> sector offset; all in one BAT
 * sector), as it will be on disk with them set.
 */
export declare function batSector(bat: Uint32Array, changes: ReadonlyMap<number, number>): Uint8Array;
/** A byte range of the file that blocks must not overlap. */
export interface Extent {
    readonly what: string;
    readonly start: number;
    readonly end: number;
}
/**
 * Check every allocated entry: its block (bitmap and data, `extent` bytes) lies after nothing
 * of `reserved`, ends by `limit`, and overlaps no other block. Returns the end of the last block
 * (0 with none).
 */
export declare function checkBat(bat: Uint32Array, extent: number, reserved: readonly Extent[], limit: number, file: string): number;
