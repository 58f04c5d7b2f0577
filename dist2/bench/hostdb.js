// The host database (src/toolstack/db): what a durable commit costs next to the physical limit
// measured in the same run (a 4 KiB write and fdatasync on the same file system: SQLite in WAL
// with synchronous=FULL syncs the log once per commit), then bulk work: creating `--records` VM
// records in one transaction, reopening the database and reading them all back, finding one
// by name. Prints one line of JSON.
//
//   npm run bench -- hostdb [--commits=500] [--records=1000]
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteHostDb } from '../src/toolstack/db/sqlite.js';
import { emit, numberOptions, summarize } from './support/harness.js';
const opts = numberOptions({ commits: 500, records: 1000 });
const dir = mkdtempSync(join(process.env['XENODE_BENCH_DIR'] ?? tmpdir(), 'xenode-hostdb-'));
try {
    const path = join(dir, 'host.db');
    const db = SqliteHostDb.open(path);
    const commit = [];
    for (let i = 0; i < opts.commits; i++) {
        const t = performance.now();
        await db.transaction((tx) => tx.VM.create({ name_label: `c${i}` }));
        commit.push(performance.now() - t);
    }
    const fd = openSync(join(dir, 'sync'), 'w');
    const page = Buffer.alloc(4096, 1);
    const sync = [];
    for (let i = 0; i < opts.commits; i++) {
        const t = performance.now();
        writeSync(fd, page, 0, page.length, (i % 16) * 4096);
        fdatasyncSync(fd);
        sync.push(performance.now() - t);
    }
    closeSync(fd);
    let t = performance.now();
    await db.transaction((tx) => {
        for (let i = 0; i < opts.records; i++)
            tx.VM.create({ name_label: `vm${i}`, memory_static_max: 2 ** 27 });
    });
    const bulkMs = performance.now() - t;
    await db.close();
    t = performance.now();
    const again = SqliteHostDb.open(path);
    const n = await again.read((tx) => tx.VM.getAllRecords().size);
    const reopenMs = performance.now() - t;
    const lookups = 2000;
    t = performance.now();
    for (let i = 0; i < lookups; i++)
        await again.read((tx) => tx.VM.getByNameLabel(`vm${i % opts.records}`));
    const lookupUs = ((performance.now() - t) / lookups) * 1000;
    await again.close();
    const c = summarize(commit);
    const s = summarize(sync);
    emit({
        bench: 'hostdb',
        commit_ms: { median: c.median, p99: c.p99 },
        fdatasync_4k_ms: { median: s.median, p99: s.p99 },
        commit_per_fdatasync: c.median / s.median,
        records: n,
        bulk_create_ms: bulkMs,
        bulk_create_us_per_record: (bulkMs / opts.records) * 1000,
        reopen_and_read_all_ms: reopenMs,
        get_by_name_label_us: lookupUs,
    });
}
finally {
    rmSync(dir, { recursive: true, force: true });
}
//# sourceMappingURL=hostdb.js.map