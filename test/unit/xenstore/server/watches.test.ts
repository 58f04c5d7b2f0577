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
