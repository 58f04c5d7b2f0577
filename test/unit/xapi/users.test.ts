// Users: scrypt hashes, kept across a reopen in a 0600 file; wrong passwords and unknown users
// are refused alike.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserFile, hashPassword, verifyPassword } from '../../../src/xapi/users.js';

test('passwords are kept as scrypt hashes and checked', async () => {
  const h = await hashPassword('s3cret');
  assert.match(h, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword('s3cret', h), true);
  assert.equal(await verifyPassword('s3creT', h), false);
  assert.equal(await verifyPassword('s3cret', 'plain'), false);
  assert.equal(await verifyPassword('s3cret', h.replace('32768', String(2 ** 30))), false, 'a cost too high to compute is refused');
});

test('users persist across a reopen, in a 0600 file holding no password', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenode-users-'));
  try {
    const path = join(dir, 'users.json');
    const f = await UserFile.open(path);
    let replaced = '';
    f.onReplaced = (n) => (replaced = n);
    assert.equal(await f.add('alice', 'vm-admin', 'pw1'), false);
    assert.equal(await f.add('alice', 'pool-admin', 'pw2'), true);
    assert.equal(replaced, 'alice');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(!readFileSync(path, 'utf8').includes('pw2'));
    const g = await UserFile.open(path);
    assert.deepEqual(await g.authenticate('alice', 'pw2'), { name: 'alice', role: 'pool-admin' });
    assert.equal(await g.authenticate('alice', 'pw1'), undefined);
    assert.equal(await g.authenticate('bob', 'pw2'), undefined);
    writeFileSync(path, '[{"name":"x","role":"god","hash":"h"}]');
    await assert.rejects(UserFile.open(path), /malformed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
