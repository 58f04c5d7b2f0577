import type { HostDb } from '../toolstack/db/hostdb.js';
import type { Ref } from '../toolstack/db/records.js';
/** The share of time a coalesce copies by default: the guest keeps the rest. */
export declare const GC_DUTY = 0.1;
export interface GcOptions {
    /** Share of wall time the copy may use, in (0, 1]. */
    readonly duty?: number;
    /** Who uses a VDI's image (empty: nobody); a leaf in use is not coalesced. */
    readonly users?: (vdi: {
        readonly uuid: string;
        readonly path: string;
    }) => Promise<string[]>;
    /** Keep a VDI from being attached or snapshotted while its leaf is coalesced; the release, or undefined if it is busy. */
    readonly hold?: (uuid: string) => (() => void) | undefined;
    /** Bytes copied so far and the total of the coalesce running. */
    readonly progress?: (done: number, total: number) => void;
    readonly signal?: AbortSignal;
    /** Called after each step of a coalesce ('copied', 'renamed' or 'relinked', 'recorded'): tests kill the process there. */
    readonly onStep?: (step: string) => Promise<void> | void;
}
export interface GcReport {
    /** uuids of hidden images with no child, deleted. */
    readonly removed: string[];
    readonly coalesced: {
        readonly parent: string;
        readonly child: string;
        readonly leaf: boolean;
    }[];
    /** Leaves left for later, and why. */
    readonly deferred: {
        readonly uuid: string;
        readonly why: string;
    }[];
}
/** One pass over the SR at `dir`: finish interrupted operations, then delete and coalesce until nothing is left to do. */
export declare function collectGarbage(db: HostDb, sr: Ref<'SR'>, dir: string, opts?: GcOptions): Promise<GcReport>;
/** Finish what a crash interrupted: snapshots, migrations into this SR, then coalesces. */
export declare function recover(db: HostDb, sr: Ref<'SR'>, dir: string, opts?: GcOptions): Promise<void>;
