import { Storage } from '../../src/storage/sr.js';
import { Vdis } from '../../src/storage/vdi.js';
import { SqliteHostDb } from '../../src/toolstack/db/sqlite.js';
export declare function storageRig(state: string): {
    state: string;
    db: SqliteHostDb;
    storage: Storage;
    vdis: Vdis;
    images: string;
};
export type StorageRig = ReturnType<typeof storageRig>;
export { pattern as tagged } from './blk.js';
/**
 * A guest writing 8-sector runs tagged with their generation over the first `span` sectors,
 * in a loop (at most 6000 writes or 60 s) until stopped; `acked` holds each run's last
 * acknowledged generation (runs written before start at generation `first`).
 */
export declare function guestWriter(f: {
    write(sector: number, bufs: Uint8Array[]): Promise<void>;
}, span: number, first?: number): {
    acked: Map<number, number>;
    readonly gen: number;
    /** Until `n` more writes were issued (or the writer ended; at most 30 s). */
    more(n: number): Promise<void>;
    stop(): Promise<void>;
};
