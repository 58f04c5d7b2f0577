// One host per state dir: the pid lock, stale locks, and release.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import { HostLock } from '../../../src/toolstack/lock.js';
const dir = mkdtempSync(join(tmpdir(), 'xenode-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** The pid of a process that has exited. */
function deadPid() {
    return spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
}
test('the lock holds our pid; a second taker is refused while we live; release frees it', () => {
    const path = join(dir, 'a.pid');
    const lock = HostLock.acquire(path, dir);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    assert.throws(() => HostLock.acquire(path, dir), (e) => isXenError(e, 'EEXIST') && /already running .*\(pid \d+\): stop it with `xenode host stop`/.test(e.message));
    lock.release();
    assert.equal(existsSync(path), false);
    HostLock.acquire(path, dir).release();
});
test("a lock whose process is gone is stale and taken over; so is one that holds garbage", () => {
    const path = join(dir, 'b.pid');
    writeFileSync(path, `${Number(deadPid())}\n`);
    const lock = HostLock.acquire(path, dir);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    lock.release();
    writeFileSync(path, 'not a pid');
    HostLock.acquire(path, dir).release();
});
test("release leaves a lock that is not ours alone", () => {
    const path = join(dir, 'c.pid');
    const lock = HostLock.acquire(path, dir);
    writeFileSync(path, '1\n');
    lock.release();
    assert.equal(readFileSync(path, 'utf8'), '1\n');
});
//# sourceMappingURL=lock.test.js.map