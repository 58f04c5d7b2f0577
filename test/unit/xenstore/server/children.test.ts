// Child lists: persistent versions (a transaction's older copy reads as before whatever newer or
// branched versions are made), insertion order, cxenstored's duplicate entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Children } from '../../../../src/xenstore/server/children.js';

/** What a version must read as: its names, in order. */
function check(c: Children, model: readonly string[], probe: readonly string[], what: string): void {
  assert.deepEqual([...c.names], model, what);
  assert.equal(c.size, model.length, what);
  assert.equal(c.bytes, model.reduce((b, n) => b + n.length + 1, 0), what);
  assert.equal(c.blob().toString('latin1'), model.map((n) => `${n}\0`).join(''), what);
  for (const n of probe) assert.equal(c.has(n), model.includes(n), `${what}: has(${n})`);
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

test('old versions read as before after newer adds, removes and branches', () => {
  const names = Array.from({ length: 3000 }, (_, i) => `d${i}`);
  let c = Children.EMPTY;
  for (const n of names) c = c.with(n);
  const kept = c;
  const keptNames = [...kept.names];
  // Newer versions: remove every other name, re-add some, and branch from `kept` many times.
  let newer = kept;
  for (let i = 0; i < names.length; i += 2) newer = newer.without(names[i]!);
  for (let i = 0; i < 100; i += 2) newer = newer.with(names[i]!);
  const branches = Array.from({ length: 50 }, (_, i) => kept.with(`b${i}`).without(names[i]!));
  check(kept, keptNames, ['d0', 'd1', 'd2999', 'b0', 'd3000'], 'kept');
  const expectNewer = [...names.filter((_, i) => i % 2 === 1), ...names.slice(0, 100).filter((_, i) => i % 2 === 0)];
  check(newer, expectNewer, ['d0', 'd1', 'd100', 'd101'], 'newer');
  branches.forEach((b, i) => check(b, [...names.filter((_, j) => j !== i), `b${i}`], [`b${i}`, `b${i + 1}`, names[i]!], `branch ${i}`));
});

test('a removed name added again goes to the end; removing all leaves an empty list', () => {
  let c = Children.EMPTY.with('a').with('b').with('c');
  c = c.without('a').with('a').without('b').with('b');
  check(c, ['c', 'a', 'b'], ['a', 'b', 'c'], 'after re-adds');
  const empty = c.without('c').without('a').without('b');
  check(empty, [], ['a', 'b', 'c'], 'emptied');
  check(empty.with('b').with('a'), ['b', 'a'], ['a', 'b', 'c'], 'refilled');
});

test('names whose hashes collide are told apart', () => {
  // Two names with one FNV-1a hash (the name trie's), found by a search over `n<i>`.
  const fnv = (s: string): number => {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return h >>> 0;
  };
  const pair = ['n512789', 'n749192'] as const;
  assert.equal(fnv(pair[0]), fnv(pair[1]));
  const [x, y] = pair;
  const c = Children.EMPTY.with(x).with('z');
  check(c, [x, 'z'], [x, y, 'z'], 'one of the pair');
  const both = c.with(y).appended(x);
  check(both, [x, 'z', y, x], [x, y], 'both');
  check(both.without(x), ['z', y, x], [x, y], 'first x gone');
  check(both.without(y).without(x).without(x), ['z'], [x, y, 'z'], 'pair gone');
  check(c.without(y), [x, 'z'], [x, y], 'removing the absent twin changes nothing');
});

test('random operations on many versions match an array model', () => {
  const next = rng(14);
  const alphabet = Array.from({ length: 40 }, (_, i) => `k${i}`);
  const pool: { c: Children; m: string[] }[] = [{ c: Children.EMPTY, m: [] }];
  for (let step = 0; step < 2000; step++) {
    // Mostly the newest version, often an older one (a transaction's copy).
    const from = next() < 0.6 ? pool[pool.length - 1]! : pool[Math.floor(next() * pool.length)]!;
    const name = alphabet[Math.floor(next() * alphabet.length)]!;
    const op = next();
    let c: Children;
    let m: string[];
    if (op < 0.4) {
      c = from.c.with(name);
      m = from.m.includes(name) ? from.m : [...from.m, name];
      if (from.m.includes(name)) assert.equal(c, from.c);
    } else if (op < 0.5) {
      c = from.c.appended(name);
      m = [...from.m, name];
    } else if (op < 0.95) {
      c = from.c.without(name);
      const i = from.m.indexOf(name);
      m = i < 0 ? from.m : from.m.filter((_, j) => j !== i);
    } else {
      const k = Math.floor(next() * 4);
      c = from.c.withoutFirst(k);
      m = from.m.slice(k);
    }
    check(c, m, alphabet.slice(0, 8).concat(name), `step ${step}`);
    pool.push({ c, m });
  }
  pool.forEach(({ c, m }, i) => check(c, m, alphabet, `version ${i} at the end`));
});

test('with() on a long list: a listed name gives the same version, a hash twin is added', () => {
  const [x, y] = ['n512789', 'n749192'] as const; // one FNV-1a hash (see above)
  let c = Children.EMPTY;
  for (let i = 0; i < 40; i++) c = c.with(`d${i}`);
  c = c.with(x);
  assert.equal(c.with(x), c, 'a listed name changes nothing');
  assert.equal(c.with('d0'), c, 'nor does an early one');
  const names = [...Array.from({ length: 40 }, (_, i) => `d${i}`), x];
  const both = c.with(y);
  check(both, [...names, y], [x, y, 'd0'], 'the twin is added');
  assert.equal(both.with(y), both, 'the twin is listed');
  assert.equal(both.with(x), both, 'and so is the first');
  check(c.appended(x).with(x), [...names, x], [x], 'a name listed twice is not added again');
});
