// A host's storage for SR/VDI tests (snapshots, coalescing, migration): a host database and
// the default SR in a fresh state dir, and a guest writer whose sectors say which sector and
// which write they are.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Storage } from '../../src/storage/sr.js';
import { Vdis } from '../../src/storage/vdi.js';
import { SqliteHostDb } from '../../src/toolstack/db/sqlite.js';
import { pattern } from './blk.js';
export function storageRig(state) {
    mkdirSync(state, { recursive: true });
    const db = SqliteHostDb.open(join(state, 'host.db'));
    const storage = new Storage(db, join(state, 'images'));
    const vdis = new Vdis(storage, async () => []);
    return { state, db, storage, vdis, images: join(state, 'images') };
}
export { pattern as tagged } from './blk.js';
/**
 * A guest writing 8-sector runs tagged with their generation over the first `span` sectors,
 * in a loop (at most 6000 writes or 60 s) until stopped; `acked` holds each run's last
 * acknowledged generation (runs written before start at generation `first`).
 */
export function guestWriter(f, span, first = 0) {
    const acked = new Map();
    if (first > 0)
        for (let s = 0; s < 64; s += 8)
            acked.set(s, first);
    let gen = first;
    let stopped = false;
    let ended = false;
    const run = (async () => {
        const end = performance.now() + 60_000;
        for (let i = 0; !stopped && i < 6000 && performance.now() < end; i++) {
            const sector = (i * 8) % span;
            const g = ++gen;
            await f.write(sector, [pattern(sector, 8, g)]);
            acked.set(sector, g);
        }
    })().finally(() => (ended = true));
    return {
        acked,
        get gen() {
            return gen;
        },
        /** Until `n` more writes were issued (or the writer ended; at most 30 s). */
        async more(n) {
            const want = gen + n;
            const end = performance.now() + 30_000;
            while (gen < want && !ended && performance.now() < end)
                await new Promise((r) => setTimeout(r, 1));
        },
        async stop() {
            stopped = true;
            await run;
        },
    };
}
//# sourceMappingURL=storage.js.map