import type { Tx } from '../toolstack/db/hostdb.js';
import { type Ref, type VDIRecord } from '../toolstack/db/records.js';
import { type CopyControl } from './copy.js';
import { type ScanReport, type Storage } from './sr.js';
import { type GcOptions, type GcReport } from './gc.js';
import { type LiveDisks, type SnapshotArgs } from './snapshot.js';
import { type MigrateOptions, type MigrateResult } from './migrate.js';
/** What a VDI (its image's real path) is used by: one line per user, e.g. "domain 3 ('web') as xvda"; empty when unused. */
export type VdiUsers = (vdi: {
    readonly uuid: string;
    readonly path: string | null;
}) => Promise<string[]>;
/** A VDI as vdi-list shows it. */
export interface VdiView {
    readonly ref: Ref<'VDI'>;
    readonly record: VDIRecord;
    readonly srUuid: string;
    readonly srName: string;
}
/** "8G" (or bytes) as a virtual size: whole sectors, rounded up as xe does. */
export declare function parseVirtualSize(text: string): number;
/** A VDI by name or uuid (within one SR when `sr` is given). */
export declare function findVdi(tx: Tx, name: string, sr?: Ref<'SR'>): Ref<'VDI'>;
export declare class Vdis {
    #private;
    readonly storage: Storage;
    readonly users: VdiUsers;
    readonly live: LiveDisks;
    /** `live` finds the backends of this process that serve a VDI (for snapshots under a running guest). */
    constructor(storage: Storage, users: VdiUsers, live?: LiveDisks);
    /**
     * vdi-snapshot / vdi-clone (snapshot.ts): O(1), under a running guest too (its I/O paused
     * for the switch only).
     */
    snapshot(name: string, args: SnapshotArgs): Promise<VdiView & {
        pausedMs: number;
    }>;
    /** vdi-migrate (migrate.ts): move a VDI to another directory SR, live under a running guest. */
    migrate(name: string, destSr: string, opts?: MigrateOptions): Promise<VdiView & MigrateResult>;
    /** sr-scan: finish what a crash interrupted (journals), reconcile records with files, then collect garbage in the background. */
    scan(name: string): Promise<ScanReport>;
    /**
     * Run the garbage collector on an SR (by ref), after any run already going; the report.
     * Background runs (after vdi-destroy and sr-scan) go through here too, one at a time.
     */
    collectGarbage(sr: Ref<'SR'>, opts?: Omit<GcOptions, 'users' | 'hold'>): Promise<GcReport>;
    /** Start the garbage collector in the background; its failures go to `log`. */
    kickGarbageCollector(sr: Ref<'SR'>, log?: (line: string) => void): void;
    /** vdi-create: a new, empty image; its record. */
    create(args: {
        sr: string;
        name: string;
        size: string;
        format?: string;
        description?: string;
    }): Promise<VdiView>;
    list(sr?: string): Promise<VdiView[]>;
    /** vdi-destroy: the record, and the image if xenode made it (an image found by sr-scan stays). */
    destroy(name: string): Promise<{
        uuid: string;
        kept: string | null;
    }>;
    /** vdi-resize: grow the image (shrinking would cut the guest's file system, and xe's SRs refuse it too). */
    resize(name: string, size: string): Promise<VdiView>;
    /**
     * vdi-import: a new VDI holding a copy of the image at `file` (an absolute path the host
     * reads), in the same format, its backing chain flattened; named after the file unless named.
     */
    import(args: {
        sr: string;
        file: string;
        name?: string;
        format?: string;
        description?: string;
    }, ctl?: CopyControl): Promise<VdiView>;
    /** vdi-export: a new image of `format` at `file` (absolute, must not exist) with the VDI's contents; refused while a guest uses the VDI. */
    export(name: string, args: {
        file: string;
        format: string;
    }, ctl?: CopyControl): Promise<{
        uuid: string;
        file: string;
    }>;
    /**
     * A disk target `vdi:<name or uuid>` as a block backend's params ("<format>:<path>", or
     * raw:ram:<size> in a RAM SR), and the VDI's uuid for the backend node.
     */
    diskParams(name: string, access: 'ro' | 'rw'): Promise<{
        uuid: string;
        params: string;
    }>;
}
