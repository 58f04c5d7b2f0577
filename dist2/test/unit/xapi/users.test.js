// Users: scrypt hashes in the host database's user records, kept across a reopen; wrong
// passwords and unknown users are refused alike.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteHostDb } from '../../../src/toolstack/db/sqlite.js';
import { HostDbUsers, hashPassword, verifyPassword } from '../../../src/xapi/users.js';
test('passwords are kept as scrypt hashes and checked', async () => {
    const h = await hashPassword('s3cret');
    assert.match(h, /^scrypt\$32768\$8\$1\$/);
    assert.equal(await verifyPassword('s3cret', h), true);
    assert.equal(await verifyPassword('s3creT', h), false);
    assert.equal(await verifyPassword('s3cret', 'plain'), false);
    assert.equal(await verifyPassword('s3cret', h.replace('32768', String(2 ** 30))), false, 'a cost too high to compute is refused');
});
test('users persist in the host database, which holds no password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenode-users-'));
    try {
        const path = join(dir, 'host.db');
        const db = SqliteHostDb.open(path);
        const f = new HostDbUsers(db);
        let replaced = '';
        f.onReplaced = (n) => (replaced = n);
        assert.equal(await f.add('alice', 'vm-admin', 'pw1'), false);
        assert.equal(await f.add('alice', 'pool-admin', 'pw2'), true);
        assert.equal(replaced, 'alice');
        const records = await db.read((tx) => [...tx.user.getAllRecords().values()]);
        assert.equal(records.length, 1);
        assert.equal(records[0].role, 'pool-admin');
        assert.ok(!JSON.stringify(records).includes('pw2'));
        await db.close();
        const db2 = SqliteHostDb.open(path);
        const g = new HostDbUsers(db2);
        assert.deepEqual(await g.authenticate('alice', 'pw2'), { name: 'alice', role: 'pool-admin' });
        assert.equal(await g.authenticate('alice', 'pw1'), undefined);
        assert.equal(await g.authenticate('bob', 'pw2'), undefined);
        await db2.close();
    }
    finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
//# sourceMappingURL=users.test.js.map