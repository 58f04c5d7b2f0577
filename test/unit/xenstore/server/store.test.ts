// The node store and transactions: generations, first-access reads, conflicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isXenError } from '../../../../src/errors.js';
import { Perms } from '../../../../src/xenstore/server/perms.js';
import { Children } from '../../../../src/xenstore/server/children.js';
import { Node, Store } from '../../../../src/xenstore/server/store.js';
import { Transaction } from '../../../../src/xenstore/server/view.js';

const P0 = Perms.owned(0);
const P5 = Perms.owned(5);

function val(n: Node | undefined): string | undefined {
  return n?.value;
}

function node(v: string, perms = P0): Node {
  return new Node(v, perms);
}

test('set/get/delete stamp generations and count nodes per owner', () => {
  const s = new Store();
  s.set('/a', node('1', P5));
  const g1 = s.generation;
  s.set('/a', node('2', P5));
  assert.ok(s.generation > g1);
  assert.equal(s.get('/a')!.gen, s.generation);
  assert.equal(val(s.get('/a')), '2');
  s.set('/b', node('x', P5));
  assert.equal(s.ownedBy(5), 2);
  s.set('/b', node('x', P0));
  assert.equal(s.ownedBy(5), 1);
  assert.equal(s.ownedBy(0), 1);
  s.delete('/a');
  s.delete('/a');
  assert.equal(s.get('/a'), undefined);
  assert.equal(s.ownedBy(5), 0);
  assert.deepEqual([...s.entries()].map(([p]) => p), ['/b']);
});

test('children keep insertion order and cache their listing; appending twice lists twice, as cxenstored', () => {
  const c = Children.EMPTY.appended('b').appended('a').appended('c').without('a').appended('a');
  assert.deepEqual([...c.names], ['b', 'c', 'a']);
  assert.equal(c.blob().toString('latin1'), 'b\0c\0a\0');
  assert.equal(c.blob(), c.blob());
  assert.equal(c.without('zz'), c);
  const twice = c.appended('b');
  assert.deepEqual([...twice.names], ['b', 'c', 'a', 'b']);
  assert.ok(twice.has('b'));
  assert.deepEqual([...twice.without('b').names], ['c', 'a', 'b'], 'without drops the first entry');
});

test('versions of a child list that share their names stay independent', () => {
  const base = Children.of('x').with('y');
  const a = base.with('a');
  const b = base.with('b').with('a');
  const again = base.with('a');
  assert.deepEqual([[...base.names], [...a.names], [...b.names], [...again.names]], [['x', 'y'], ['x', 'y', 'a'], ['x', 'y', 'b', 'a'], ['x', 'y', 'a']]);
  assert.deepEqual([base.has('a'), a.has('b'), b.has('a')], [false, false, true]);
  assert.equal(b.blob().toString('latin1'), 'x\0y\0b\0a\0');
  assert.deepEqual([base.bytes, b.bytes, b.without('b').bytes], [4, 8, 6]);
  assert.deepEqual([...b.without('x').with('x').names], ['y', 'b', 'a', 'x']);
});

test('withoutFirst drops a prefix (what an RM walk removed in order), duplicates and all', () => {
  const twice = Children.EMPTY.appended('a').appended('bb').appended('a');
  const rest = twice.withoutFirst(2);
  assert.deepEqual([[...rest.names], rest.bytes, rest.has('bb'), rest.blob().toString('latin1')], [['a'], 2, false, 'a\0']);
  assert.equal(twice.withoutFirst(0), twice);
  assert.deepEqual([...twice.names], ['a', 'bb', 'a'], 'the original is unchanged');
  assert.deepEqual([...rest.with('c').names], ['a', 'c']);
});

function fresh(): Store {
  const s = new Store();
  s.set('/', new Node('', P0, Children.of('a')));
  s.set('/a', node('A'));
  return s;
}

test('transaction: private writes, commit applies them, abort leaves nothing', () => {
  const s = fresh();
  const t = new Transaction(1, s, Infinity);
  t.set('/b', node('B', P5));
  assert.equal(val(t.get('/b')), 'B');
  assert.equal(s.get('/b'), undefined);
  assert.equal(t.ownedBy(5), 1);
  assert.equal(t.addedFor(5), 1);
  t.delete('/a');
  assert.equal(t.get('/a'), undefined);
  assert.equal(val(s.get('/a')), 'A');
  t.changed({ path: '/b', exact: false, node: t.get('/b')!, oldPerms: undefined });
  const events = t.commit();
  assert.deepEqual(events.map((e) => e.path), ['/b']);
  assert.equal(val(s.get('/b')), 'B');
  assert.equal(s.get('/a'), undefined);
  assert.equal(s.ownedBy(5), 1);

  const u = new Transaction(2, s, Infinity);
  u.set('/c', node('C'));
  assert.equal(s.get('/c'), undefined);
});

test('transaction: EAGAIN when anything it read or wrote changed, even a node it found missing', () => {
  for (const change of [(s: Store) => s.set('/a', node('A2')), (s: Store) => s.delete('/a'), (s: Store) => s.set('/x', node('X'))]) {
    const s = fresh();
    const t = new Transaction(1, s, Infinity);
    t.get('/a');
    t.get('/x');
    t.set('/y', node('Y'));
    change(s);
    assert.throws(() => t.commit(), (e) => isXenError(e, 'EAGAIN'));
    assert.equal(s.get('/y'), undefined);
  }
  const s = fresh();
  const t = new Transaction(1, s, Infinity);
  t.get('/a');
  s.set('/unrelated', node('u'));
  assert.doesNotThrow(() => t.commit());
});

test('transaction: a node reads as at its first access, and the access limit applies', () => {
  const s = fresh();
  const t = new Transaction(1, s, 3);
  s.set('/a', node('changed'));
  assert.equal(val(t.get('/a')), 'changed');
  s.set('/a', node('again'));
  assert.equal(val(t.get('/a')), 'changed');
  t.get('/1');
  t.get('/2');
  t.get('/a');
  assert.throws(() => t.get('/3'), (e) => isXenError(e, 'ENOSPC'));
});
