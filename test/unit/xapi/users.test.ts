// Users: scrypt hashes in the host database's user records, kept across a reopen; wrong
// passwords and unknown users are refused alike.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteHostDb } from '../../../src/toolstack/db/sqlite.js';
import { CheckQueue, HostDbUsers, LoginsBusy, hashPassword, verifyPassword } from '../../../src/xapi/users.js';

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
    assert.equal(records[0]!.role, 'pool-admin');
    assert.ok(!JSON.stringify(records).includes('pw2'));
    await db.close();
    const db2 = SqliteHostDb.open(path);
    const g = new HostDbUsers(db2);
    assert.deepEqual(await g.authenticate('alice', 'pw2', '10.0.0.1'), { name: 'alice', role: 'pool-admin' });
    assert.equal(await g.authenticate('alice', 'pw1', '10.0.0.1'), undefined);
    assert.equal(await g.authenticate('bob', 'pw2', '10.0.0.1'), undefined);
    await db2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('password checks wait in turn by source address: a flood from many addresses cannot keep another out, which waits behind at most one check of each', async () => {
  const q = new CheckQueue({ concurrent: 2, queued: 8, perSource: 2 });
  const started: string[] = [];
  const ends: (() => void)[] = [];
  const attempt = (source: string) => q.run(source, () => {
    started.push(source);
    return new Promise<void>((resolve) => ends.push(resolve));
  }).then(() => 'checked', (e) => (e instanceof LoginsBusy ? 'busy' : String(e)));
  // Six addresses, four attempts each, one address after the other; then an honest one.
  const flood = Array.from({ length: 24 }, (_, i) => ({ source: `10.9.0.${i >> 2}`, got: attempt(`10.9.0.${i >> 2}`) }));
  const honest = attempt('10.9.1.1');
  assert.deepEqual([q.running, q.waiting], [2, 8]);
  // The checks end one at a time: the honest one starts after at most one of each other address waiting.
  const queuedAt = started.length;
  for (let i = 0; i < 50 && ends.length > 0 && !started.includes('10.9.1.1'); i++) {
    ends.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  const ahead = started.slice(queuedAt, started.indexOf('10.9.1.1'));
  assert.ok(started.includes('10.9.1.1'), `never checked: ${started.join(' ')}`);
  assert.equal(new Set(ahead).size, ahead.length, `an address had two turns ahead of it: ${ahead.join(' ')}`);
  assert.ok(ahead.length <= 6, ahead.join(' '));
  for (let i = 0; i < 50 && ends.length > 0; i++) {
    ends.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(await honest, 'checked');
  const got = await Promise.all(flood.map(async (f) => ({ source: f.source, got: await f.got })));
  // Every address of the flood had a check; none more than its running and waiting places (2 + 2 for the first).
  for (let s = 0; s < 6; s++) {
    const n = got.filter((g) => g.source === `10.9.0.${s}` && g.got === 'checked').length;
    assert.ok(n >= 1 && n <= (s === 0 ? 4 : 2), `10.9.0.${s}: ${n} checks`);
  }
  assert.deepEqual([q.running, q.waiting], [0, 0]);
});
