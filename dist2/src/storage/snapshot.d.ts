import type { HostDb, Tx } from '../toolstack/db/hostdb.js';
import type { Ref, VDIRecord } from '../toolstack/db/records.js';
import type { Disk } from './disk.js';
/** sm_config key naming a differencing image's parent VDI (sm's name, for every format here). */
export declare const PARENT_KEY = "vhd-parent";
/** name_label sm gives hidden bases. */
export declare const BASE_NAME = "base copy";
/** A backend in this process serving a VDI's image, which can switch its disk with I/O paused (BlkBack). */
export interface LiveDisk {
    /** The disk it serves now. */
    readonly disk: Disk;
    switchDisk(open: (old: Disk) => Promise<Disk>): Promise<number>;
}
/** The backends serving a VDI: `live` can be switched; `foreign` (driver domains) cannot. */
export type LiveDisks = (vdi: {
    readonly uuid: string;
    readonly path: string | null;
}) => Promise<{
    live: LiveDisk[];
    foreign: string[];
}>;
export interface SnapshotArgs {
    readonly name: string;
    readonly description?: string;
    /** A writable clone instead of a read-only snapshot. */
    readonly clone: boolean;
}
export interface SnapshotResult {
    /** The new VDI. */
    readonly ref: Ref<'VDI'>;
    /** How long the guest's I/O was paused (ms); 0 when no guest used the VDI. */
    readonly pausedMs: number;
}
/** Images from `vdi` up to the root of its chain, by the records' vhd-parent. */
export declare function chainDepth(tx: Tx, vdi: VDIRecord): number;
/**
 * What a live migration does inside a snapshot: `before` runs once the base exists (as a second
 * name of the leaf's image) and before I/O pauses; `wrap` runs during the pause, on the disk
 * the guest is about to get, and returns the one it gets instead (a mirror), so that no write
 * falls between the snapshot and the mirror.
 */
export interface SnapshotHooks {
    before?(basePath: string): Promise<void>;
    wrap?(disk: Disk): Promise<Disk>;
}
/** Take a snapshot or clone of VDI `ref` (see the top of this file). */
export declare function snapshotVdi(db: HostDb, ref: Ref<'VDI'>, args: SnapshotArgs, liveDisks: LiveDisks, hooks?: SnapshotHooks): Promise<SnapshotResult>;
/** Finish or undo the snapshots a crash interrupted in the SR at `dir`. */
export declare function recoverSnapshots(db: HostDb, sr: Ref<'SR'>, dir: string): Promise<void>;
