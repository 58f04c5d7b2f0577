// Sessions end when idle too long, revoked, or pushed out by newer ones; forged refs are
// SESSION_INVALID; failed logins are limited per source for a window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XapiError } from '../../../src/xapi/errors.js';
import { SqliteHostDb } from '../../../src/toolstack/db/sqlite.js';
import { HostDbSessions, LoginThrottle, SessionTable } from '../../../src/xapi/sessions.js';
import { HostDbUsers } from '../../../src/xapi/users.js';
const invalid = (ref) => (e) => e instanceof XapiError && e.code === 'SESSION_INVALID' && e.params[0] === ref;
test('a session idle past its limit is SESSION_INVALID; use keeps it alive', () => {
    let now = 0;
    const t = new SessionTable({ idleMs: 1000, maxSessions: 10 }, () => now);
    const s = t.create('alice', 'vm-admin', '127.0.0.1', '');
    now = 900;
    assert.equal(t.use(s.ref).user, 'alice');
    now = 1800;
    assert.equal(t.use(s.ref).role, 'vm-admin');
    now = 2801;
    assert.throws(() => t.use(s.ref), invalid(s.ref));
    assert.equal(t.size, 0);
    assert.throws(() => t.use('OpaqueRef:forged'), invalid('OpaqueRef:forged'));
    assert.throws(() => t.use(42), invalid(''));
});
test('revoked sessions end, by ref or by user; past the limit the least recently used goes', () => {
    const t = new SessionTable({ idleMs: 1000, maxSessions: 3 }, () => 0);
    const [a, b, c] = ['a', 'b', 'c'].map((u) => t.create(u, 'read-only', 'unix', ''));
    t.use(a.ref);
    const d = t.create('d', 'read-only', 'unix', '');
    assert.throws(() => t.use(b.ref), invalid(b.ref));
    assert.equal(t.size, 3);
    assert.ok(t.revoke(c.ref));
    assert.throws(() => t.use(c.ref), invalid(c.ref));
    t.revokeUser('d');
    assert.throws(() => t.use(d.ref), invalid(d.ref));
    assert.equal(t.use(a.ref).user, 'a');
});
test('a source gets `failures` failed logins per window, then waits; others are not affected', () => {
    let now = 0;
    const th = new LoginThrottle({ failures: 2, windowMs: 1000, maxSources: 2 }, () => now);
    th.check('1.2.3.4', 'u');
    th.failed('1.2.3.4');
    th.failed('1.2.3.4');
    assert.throws(() => th.check('1.2.3.4', 'u'), (e) => e instanceof XapiError && e.code === 'SESSION_AUTHENTICATION_FAILED' && /try again in 1 s/.test(e.params[1]));
    th.check('5.6.7.8', 'u');
    now = 1000;
    th.check('1.2.3.4', 'u');
    // Bounded: a flood of sources forgets the oldest.
    th.failed('a');
    th.failed('b');
    th.failed('c');
    th.failed('c');
    assert.throws(() => th.check('c', 'u'));
});
test('sessions kept in the host database are taken up again by the next host; idle and ended ones are not', async () => {
    const db = SqliteHostDb.open(':memory:');
    const errors = [];
    const store = new HostDbSessions(db, (e) => errors.push(e));
    await new HostDbUsers(db).add('alice', 'vm-admin', 'pw');
    let now = Date.parse('2026-12-04T12:00:00Z');
    const clock = () => now;
    const limits = { idleMs: 3600_000, maxSessions: 10 };
    const first = new SessionTable(limits, clock, store);
    const alice = first.create('alice', 'vm-admin', '127.0.0.1', 'test');
    const root = first.create('root', 'pool-admin', 'unix', '');
    const gone = first.create('alice', 'vm-admin', '127.0.0.1', '');
    first.revoke(gone.ref);
    now += 1800_000;
    first.use(alice.ref);
    await db.read(() => undefined);
    const second = new SessionTable(limits, clock, store);
    await second.restore();
    assert.deepEqual([second.use(alice.ref).user, second.use(alice.ref).role], ['alice', 'vm-admin']);
    assert.equal(second.size, 2, 'alice and root');
    assert.throws(() => second.use(gone.ref), invalid(gone.ref));
    // root's session was last used at login: past the idle limit for a host started later.
    now += 2400_000;
    const third = new SessionTable(limits, clock, store);
    await third.restore();
    assert.equal(third.use(alice.ref).user, 'alice');
    assert.throws(() => third.use(root.ref), invalid(root.ref));
    // The next one again gets root's session as pool-admin, had it been used lately.
    const fourth = new SessionTable(limits, clock, store);
    const root2 = third.create('root', 'pool-admin', 'unix', '');
    await fourth.restore();
    assert.equal(fourth.use(root2.ref).role, 'pool-admin');
    assert.deepEqual((await db.read((tx) => tx.session.getAll())).sort(), [alice.ref, root2.ref].sort());
    assert.deepEqual(errors, []);
    await db.close();
});
//# sourceMappingURL=sessions.test.js.map