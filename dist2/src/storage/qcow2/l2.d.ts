import type { ImageFile } from './file.js';
import type { Qcow2Header } from './header.js';
export type Mapping = {
    kind: 'unallocated';
}
/** Reads as zeros (the v3 zero flag); `host` is a preallocated cluster or 0. */
 | {
    kind: 'zero';
    host: number;
}
/** `copied`: refcount is exactly 1, so the cluster may be written in place. */
 | {
    kind: 'data';
    host: number;
    copied: boolean;
} | {
    kind: 'compressed';
    host: number;
    bytes: number;
};
export declare class ClusterMap {
    #private;
    private constructor();
    static load(file: ImageFile, h: Qcow2Header): Promise<ClusterMap>;
    get dirtyTables(): number;
    /** The mapping of guest cluster `gc`: at once if its L2 table is in memory. Throws a corrupt pointer's error. */
    lookup(gc: number): Mapping | Promise<Mapping>;
    /** Whether guest cluster `gc` has an L2 table, in which `set` can record it. */
    hasTable(gc: number): boolean;
    /** A new, empty L2 table at `host` (a cluster just allocated) for guest cluster `gc`. */
    addTable(gc: number, host: number): void;
    /** Map guest cluster `gc` to the data cluster at `host` (refcount 1), in memory. */
    set(gc: number, host: number): Promise<void>;
    /** Write changed L2 entries (whole new tables) to the file. */
    writeL2(): Promise<void>;
    /** Write changed L1 entries (each pointing at a table already written and synced). */
    writeL1(): Promise<void>;
    get l1Dirty(): boolean;
}
