// The watch index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { WatchTable } from '../../../../src/xenstore/server/watches.js';

test('a change fires watches on the node and its ancestors, in owner then creation order', () => {
  const t = new WatchTable<{ seq: number }>();
  const a = { seq: 1 };
  const b = { seq: 2 };
  const tok = (s: string): Buffer => Buffer.from(s);
  t.add(b, '/x/y', tok('b1'), 0);
  t.add(a, '/', tok('a0'), 0);
  t.add(a, '/x', tok('a1'), 0);
  t.add(a, '/x/y/z', tok('deeper'), 0);
  t.add(a, '/xy', tok('sibling'), 0);
  const names = (p: string, exact: boolean): string[] => t.matching(p, exact).map((w) => w.token.toString());
  assert.deepEqual(names('/x/y', false), ['a0', 'a1', 'b1']);
  assert.deepEqual(names('/x/y', true), ['b1']);
  assert.ok(t.find(a, '/x', tok('a1')));
  assert.equal(t.find(b, '/x', tok('a1')), undefined);
  t.remove(t.find(a, '/x', tok('a1'))!);
  assert.deepEqual(names('/x/y', false), ['a0', 'b1']);
  assert.deepEqual(names('@introduceDomain', true), []);
  const rel = t.add(a, '/local/domain/3/dev', tok('r'), '/local/domain/3/'.length);
  assert.equal(rel.eventPath('/local/domain/3/dev/vif'), 'dev/vif');
});

test('WATCH, UNWATCH and a connection going away do not scan other watches on the path', () => {
  const t = new WatchTable<{ seq: number }>();
  const a = { seq: 1 };
  const b = { seq: 2 };
  // Tokens that count how often they are compared: an index never compares them.
  let compared = 0;
  const tok = (s: string): Buffer => {
    const buf = Buffer.from(s);
    buf.equals = (other: Uint8Array) => { compared++; return Buffer.prototype.equals.call(buf, other); };
    return buf;
  };
  for (let i = 0; i < 1000; i++) t.add(a, '/p', tok(`t${i}`), 0);
  t.add(b, '/p', tok('b'), 0);
  assert.ok(t.find(a, '/p', tok('t999')));
  assert.equal(t.find(a, '/p', tok('b')), undefined);
  t.remove(t.find(a, '/p', tok('t500'))!);
  assert.equal(compared, 0);
  assert.equal(t.countOf(a), 999);
  assert.equal(t.removeOwner(a), 999);
  assert.deepEqual(t.matching('/p/q', false).map((w) => w.token.toString()), ['b']);
  assert.equal(t.removeOwner(b), 1);
  assert.equal(t.isEmpty, true);
});

test('watches on one path fire by owner, also when an older connection adds one later', () => {
  const t = new WatchTable<{ seq: number }>();
  const [a, b] = [{ seq: 1 }, { seq: 2 }];
  t.add(a, '/p', Buffer.from('a1'), 0);
  t.add(b, '/p', Buffer.from('b1'), 0);
  const names = (): string[] => t.matching('/p', true).map((w) => w.token.toString());
  assert.deepEqual(names(), ['a1', 'b1']);
  t.add(a, '/p', Buffer.from('a2'), 0);
  assert.deepEqual(names(), ['a1', 'a2', 'b1']);
});

test('paths whose hashes collide fire only their own watches, and outlive each other', () => {
  const t = new WatchTable<{ seq: number }>();
  const a = { seq: 1 };
  // 'Aa' and 'BB' hash alike (31 * 65 + 97 = 31 * 66 + 66), as do their extensions by the same characters.
  t.add(a, '/Aa', Buffer.from('Aa'), 0);
  const bb = t.add(a, '/BB', Buffer.from('BB'), 0);
  t.add(a, '/BB/AaAa', Buffer.from('deep'), 0);
  const names = (p: string): string[] => t.matching(p, false).map((w) => w.token.toString());
  assert.deepEqual(names('/BB/x'), ['BB']);
  assert.deepEqual(names('/Aa/x'), ['Aa']);
  assert.deepEqual(names('/BB/BBBB/x'), ['BB']);
  assert.deepEqual(names('/BB/AaAa/x'), ['BB', 'deep']);
  t.remove(bb);
  assert.deepEqual(names('/BB/AaAa'), ['deep']);
  assert.deepEqual(names('/Aa'), ['Aa']);
});

test('the ancestors a change fires are parentPath\'s walk, for odd paths too', () => {
  // The same watches against a reference that walks parentPath (what the index replaced).
  const parent = (p: string): string => (p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/')));
  const paths = ['/', '/a', '/a/b', '/a/b/c', '/a/', '/a//b', '//', '//a', '/ab', '/a/bc', 'a', 'a/b', '@introduceDomain'];
  const t = new WatchTable<{ seq: number }>();
  const owner = { seq: 1 };
  for (const p of paths) t.add(owner, p, Buffer.from(p), 0);
  for (const changed of [...paths, '/a/b/c/d', '/x', '/a//b/c', '///']) {
    const want = new Set([changed]);
    if (changed.length > 1 && changed.startsWith('/')) for (let p = changed; p !== '/';) want.add(p = parent(p));
    const expected = paths.filter((p) => want.has(p)).sort();
    assert.deepEqual(t.matching(changed, false).map((w) => w.path).sort(), expected, changed);
    assert.deepEqual(t.matching(changed, true).map((w) => w.path), paths.filter((p) => p === changed), changed);
  }
});
