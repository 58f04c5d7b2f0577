import { type Change, type ChangesSince, type HostDb, type Tx } from './hostdb.js';
import { type Migration } from './schema.js';
export interface OpenOptions {
    /** The schema's migrations (tests give their own). */
    readonly migrations?: readonly Migration[];
}
export declare class SqliteHostDb implements HostDb {
    #private;
    readonly path: string;
    private constructor();
    /** Open (creating) the database at `path` (':memory:' for one that lives as long as the process). */
    static open(path: string, opts?: OpenOptions): SqliteHostDb;
    transaction<T>(body: (tx: Tx) => T): Promise<T>;
    read<T>(body: (tx: Tx) => T): Promise<T>;
    generation(): Promise<number>;
    changesSince(generation: number, limit?: number): Promise<ChangesSince>;
    watch(listener: (changes: readonly Change[]) => void): () => void;
    /** SQLite's own check of the file (PRAGMA integrity_check): empty when it is sound. */
    integrityCheck(): string[];
    /** The schema version of the open database. */
    schemaVersion(): number;
    close(): Promise<void>;
}
