import type { HostDb } from '../toolstack/db/hostdb.js';
import type { Ref } from '../toolstack/db/records.js';
import { type CopyControl } from './copy.js';
import { type LiveDisks } from './snapshot.js';
export interface MigrateOptions extends CopyControl {
    /** Called after each step ('mirroring', 'copied', 'composed', 'switched'): tests fail or kill there. */
    readonly onStep?: (step: string) => Promise<void> | void;
}
export interface MigrateResult {
    /** Longest pause of the guest's I/O (ms), 0 without a guest. */
    readonly maxPausedMs: number;
    /** Bytes of the base chain copied, and bytes the mirror wrote to the destination. */
    readonly copiedBytes: number;
    readonly mirroredBytes: number;
}
/**
 * Move VDI `ref` to SR `dest` (both directory SRs), live if a backend of this process serves it.
 * `destroySnapshot` removes the snapshot the migration made (vdi-destroy, which starts the
 * source's garbage collector).
 */
export declare function migrateVdi(db: HostDb, ref: Ref<'VDI'>, dest: Ref<'SR'>, liveDisks: LiveDisks, destroySnapshot: (uuid: string) => Promise<unknown>, opts?: MigrateOptions): Promise<MigrateResult>;
/** After a crash: a migration's destination files go unless a record now points at them. */
export declare function recoverMigrations(db: HostDb, sr: Ref<'SR'>, dir: string): Promise<void>;
