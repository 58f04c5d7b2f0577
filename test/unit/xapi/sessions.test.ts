// Sessions end when idle too long, revoked, or pushed out by newer ones of their own group
// (user, or root's originator); forged refs are SESSION_INVALID; logins are limited per source
// for a window, those being checked included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XapiError } from '../../../src/xapi/errors.js';
import { SqliteHostDb } from '../../../src/toolstack/db/sqlite.js';
import { HostDbSessions, LoginThrottle, SESSION_LIMITS, SessionTable } from '../../../src/xapi/sessions.js';
import { HostDbUsers } from '../../../src/xapi/users.js';

const invalid = (ref: string) => (e: unknown) => e instanceof XapiError && e.code === 'SESSION_INVALID' && e.params[0] === ref;

test('a session idle past its limit is SESSION_INVALID; use keeps it alive', () => {
  let now = 0;
  const t = new SessionTable({ ...SESSION_LIMITS, idleMs: 1000 }, () => now);
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
  const t = new SessionTable({ idleMs: 1000, perUser: 3, perOriginator: 3, anonymous: 3 }, () => 0);
  const [a, b, c] = ['a', 'b', 'c'].map(() => t.create('ro', 'read-only', 'unix', ''));
  t.use(a!.ref);
  const d = t.create('ro', 'read-only', 'unix', '');
  assert.throws(() => t.use(b!.ref), invalid(b!.ref));
  assert.equal(t.size, 3);
  assert.ok(t.revoke(c!.ref));
  assert.throws(() => t.use(c!.ref), invalid(c!.ref));
  const e = t.create('e', 'read-only', 'unix', '');
  t.revokeUser('ro');
  assert.throws(() => t.use(d.ref), invalid(d.ref));
  assert.throws(() => t.use(a!.ref), invalid(a!.ref));
  assert.equal(t.use(e.ref).user, 'e');
});

test("one user's logins end only that user's sessions; root's are grouped by originator, as XAPI's GC does", () => {
  const t = new SessionTable({ idleMs: 1000, perUser: 4, perOriginator: 3, anonymous: 2 }, () => 0);
  const admin = t.create('admin', 'pool-admin', '10.0.0.1', '');
  const rootXo = t.create('root', 'pool-admin', '10.0.0.2', 'XO');
  const rootCli = t.create('root', 'pool-admin', 'unix', '');
  const flood = Array.from({ length: 50 }, () => t.create('ro', 'read-only', '10.0.0.9', ''));
  assert.equal(t.size, 3 + 4, "the other sessions, and the flooder's last 4");
  for (const s of [admin, rootXo, rootCli]) assert.equal(t.use(s.ref).ref, s.ref);
  assert.deepEqual(flood.filter((s) => t.has(s.ref)), flood.slice(-4));
  // An originator does not make a user's sessions a group of their own...
  for (let i = 0; i < 5; i++) t.create('ro', 'read-only', '10.0.0.9', `o${i}`);
  assert.equal(t.size, 3 + 4);
  // ...but groups root's: each originator, and those without one, have their own limit.
  const more = Array.from({ length: 3 }, () => t.create('root', 'pool-admin', '10.0.0.2', 'other'));
  assert.ok(t.has(rootXo.ref) && t.has(rootCli.ref) && more.every((s) => t.has(s.ref)));
  const anon = Array.from({ length: 2 }, () => t.create('root', 'pool-admin', 'unix', ''));
  assert.ok(!t.has(rootCli.ref) && anon.every((s) => t.has(s.ref)) && t.has(rootXo.ref) && t.has(admin.ref));
});

test('a source gets `failures` failed logins per window, then waits; others are not affected', () => {
  let now = 0;
  const th = new LoginThrottle({ failures: 2, windowMs: 1000, maxSources: 2 }, () => now);
  const refused = (re: RegExp) => (e: unknown) => e instanceof XapiError && e.code === 'SESSION_AUTHENTICATION_FAILED' && re.test(e.params[1]!);
  for (let i = 0; i < 2; i++) {
    th.begin('1.2.3.4', 'u');
    th.end('1.2.3.4', 'u', 'failed');
  }
  assert.throws(() => th.begin('1.2.3.4', 'u'), refused(/too many failed logins .* try again in 1 s/));
  th.begin('5.6.7.8', 'u');
  th.end('5.6.7.8', 'u', 'ok');
  now = 1000;
  th.begin('1.2.3.4', 'u');
  th.end('1.2.3.4', 'u', 'ok');
  // Bounded: a flood of sources forgets the oldest.
  for (const s of ['a', 'b', 'c', 'c']) {
    th.begin(s, 'u');
    th.end(s, 'u', 'failed');
  }
  assert.throws(() => th.begin('c', 'u'));
  th.begin('a', 'u');
});

test("a login that succeeds clears its own user name's failures from its source, not another's", () => {
  const th = new LoginThrottle({ failures: 2, windowMs: 60_000, maxSources: 10 }, () => 0);
  const tooMany = (e: unknown) => e instanceof XapiError && /too many failed logins/.test(e.params[1]!);
  // A guess at bob's password, then a login of the guesser's own account: bob's guess still counts.
  th.begin('1.2.3.4', 'bob');
  th.end('1.2.3.4', 'bob', 'failed');
  th.begin('1.2.3.4', 'mallory');
  th.end('1.2.3.4', 'mallory', 'ok');
  th.begin('1.2.3.4', 'bob');
  th.end('1.2.3.4', 'bob', 'failed');
  assert.throws(() => th.begin('1.2.3.4', 'bob'), tooMany);
  assert.throws(() => th.begin('1.2.3.4', 'mallory'), tooMany, 'the limit is per source');
  // A user who mistyped, then got it right, is not held to the mistake.
  const own = new LoginThrottle({ failures: 2, windowMs: 60_000, maxSources: 10 }, () => 0);
  own.begin('5.6.7.8', 'alice');
  own.end('5.6.7.8', 'alice', 'failed');
  own.begin('5.6.7.8', 'alice');
  own.end('5.6.7.8', 'alice', 'ok');
  for (let i = 0; i < 2; i++) {
    own.begin('5.6.7.8', 'alice');
    own.end('5.6.7.8', 'alice', 'failed');
  }
  assert.throws(() => own.begin('5.6.7.8', 'alice'), tooMany);
});

test('logins being checked count against their source: a burst gets `failures` checks, not one each', () => {
  const th = new LoginThrottle({ failures: 3, windowMs: 1000, maxSources: 10 }, () => 0);
  for (let i = 0; i < 3; i++) th.begin('1.2.3.4', 'u');
  assert.throws(() => th.begin('1.2.3.4', 'u'), (e: unknown) => e instanceof XapiError && /too many logins at once/.test(e.params[1]!));
  // One that was never checked (the host was busy) frees its place without counting as a failure.
  th.end('1.2.3.4', 'u', 'dropped');
  th.begin('1.2.3.4', 'u');
  for (let i = 0; i < 3; i++) th.end('1.2.3.4', 'u', 'failed');
  assert.throws(() => th.begin('1.2.3.4', 'u'), (e: unknown) => e instanceof XapiError && /too many failed logins/.test(e.params[1]!));
});

test('sessions kept in the host database are taken up again by the next host; idle and ended ones are not', async () => {
  const db = SqliteHostDb.open(':memory:');
  const errors: Error[] = [];
  const store = new HostDbSessions(db, (e) => errors.push(e));
  await new HostDbUsers(db).add('alice', 'vm-admin', 'pw');
  let now = Date.parse('2026-12-04T12:00:00Z');
  const clock = () => now;
  const limits = { ...SESSION_LIMITS, idleMs: 3600_000 };
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
