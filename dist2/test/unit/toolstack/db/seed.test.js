// The records every host database has: one pool, its master host and the host's metrics, made
// once and kept up to date on every start; the first SR becomes the pool's default SR.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Storage } from '../../../../src/storage/sr.js';
import { NULL_REF } from '../../../../src/toolstack/db/records.js';
import { seedHost } from '../../../../src/toolstack/db/seed.js';
import { SqliteHostDb } from '../../../../src/toolstack/db/sqlite.js';
import { VERSION } from '../../../../src/version.js';
const dir = mkdtempSync(join(tmpdir(), 'xenode-seed-'));
after(() => rmSync(dir, { recursive: true, force: true }));
test('one pool with this host as master, across restarts; the default SR is the pool\'s', async () => {
    const path = join(dir, 'host.db');
    let db = SqliteHostDb.open(path);
    const first = await seedHost(db);
    await db.transaction((tx) => tx.host.update(first.host, { hostname: 'old-name' }));
    await db.close();
    db = SqliteHostDb.open(path);
    try {
        const again = await seedHost(db);
        assert.deepEqual(again, first);
        await db.read((tx) => {
            assert.deepEqual(tx.pool.getAll(), [first.pool]);
            assert.deepEqual(tx.host.getAll(), [first.host]);
            const pool = tx.pool.get(first.pool);
            assert.equal(pool.master, first.host);
            assert.equal(pool.default_SR, NULL_REF);
            const host = tx.host.get(first.host);
            assert.equal(host.hostname, hostname());
            assert.equal(host.software_version['product_version'], VERSION);
            assert.ok(tx.host_metrics.get(host.metrics).memory_total > 0);
        });
        const sr = await new Storage(db, join(dir, 'images')).defaultSr();
        await db.read((tx) => {
            assert.equal(tx.pool.get(first.pool).default_SR, sr);
            const [pbd] = tx.PBD.where('SR', sr);
            assert.equal(tx.PBD.get(pbd).host, first.host);
        });
    }
    finally {
        await db.close();
    }
});
//# sourceMappingURL=seed.test.js.map