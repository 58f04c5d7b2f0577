// Sessions end when idle too long, revoked, or pushed out by newer ones; forged refs are
// SESSION_INVALID; failed logins are limited per source for a window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XapiError } from '../../../src/xapi/errors.js';
import { LoginThrottle, SessionTable } from '../../../src/xapi/sessions.js';

const invalid = (ref: string) => (e: unknown) => e instanceof XapiError && e.code === 'SESSION_INVALID' && e.params[0] === ref;

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
  t.use(a!.ref);
  const d = t.create('d', 'read-only', 'unix', '');
  assert.throws(() => t.use(b!.ref), invalid(b!.ref));
  assert.equal(t.size, 3);
  assert.ok(t.revoke(c!.ref));
  assert.throws(() => t.use(c!.ref), invalid(c!.ref));
  t.revokeUser('d');
  assert.throws(() => t.use(d.ref), invalid(d.ref));
  assert.equal(t.use(a!.ref).user, 'a');
});

test('a source gets `failures` failed logins per window, then waits; others are not affected', () => {
  let now = 0;
  const th = new LoginThrottle({ failures: 2, windowMs: 1000, maxSources: 2 }, () => now);
  th.check('1.2.3.4', 'u');
  th.failed('1.2.3.4');
  th.failed('1.2.3.4');
  assert.throws(() => th.check('1.2.3.4', 'u'), (e: unknown) => e instanceof XapiError && e.code === 'SESSION_AUTHENTICATION_FAILED' && /try again in 1 s/.test(e.params[1]!));
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
