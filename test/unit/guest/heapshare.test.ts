// The per-realm heap estimate of a pCPU thread (src/guest/heapshare.ts), on figures made up
// here: growth charged by CPU time, a fall paid back from what no domain holds first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeapShares } from '../../../src/guest/heapshare.js';

const MiB = 2 ** 20;

test('growth is charged to the domains that ran, by their CPU time; one that did not run is not charged', () => {
  const h = new HeapShares<string>(100 * MiB);
  h.add('a', 1 * MiB);
  h.add('b', 1 * MiB);
  h.add('idle', 1 * MiB);
  h.ran('a', 3);
  h.ran('b', 1);
  assert.deepEqual(h.sample(108 * MiB).sort(), ['a', 'b']);
  assert.equal(h.bytes('a'), 7 * MiB);
  assert.equal(h.bytes('b'), 3 * MiB);
  assert.equal(h.bytes('idle'), 1 * MiB);
  // The window is over: the next growth goes to whoever runs next.
  h.ran('idle', 1);
  h.sample(110 * MiB);
  assert.equal(h.bytes('a'), 7 * MiB);
  assert.equal(h.bytes('idle'), 3 * MiB);
});

test('a fall pays back growth no domain made and departed domains first, then lowers every figure in proportion', () => {
  const h = new HeapShares<string>(0);
  h.add('a', 4 * MiB);
  h.add('b', 4 * MiB);
  h.add('gone', 2 * MiB);
  h.sample(3 * MiB); // nobody ran: the thread's own
  h.remove('gone');
  assert.equal(h.bytes('gone'), undefined);
  assert.deepEqual(h.sample(0), [], 'the 3 MiB freed were the thread\'s own and the departed domain\'s');
  assert.equal(h.bytes('a'), 4 * MiB);
  // 2 MiB of departed figure left; a further 6 MiB freed takes 2 from it and 4 from a and b.
  assert.deepEqual(h.sample(-6 * MiB).sort(), ['a', 'b']);
  assert.equal(h.bytes('a'), 2 * MiB);
  assert.equal(h.bytes('b'), 2 * MiB);
});

test('growth while no domain ran and a spare realm skipped are charged to nobody', () => {
  const h = new HeapShares<string>(10 * MiB);
  h.add('a', 0);
  h.skip(20 * MiB);
  assert.deepEqual(h.sample(20 * MiB), []);
  assert.equal(h.bytes('a'), 0);
  h.ran('a', 1);
  h.sample(21 * MiB);
  assert.equal(h.bytes('a'), 1 * MiB);
});

test("a domain crashed in its turn: charged the window up to its crash; what its turn grew after is nobody's, and its time dilutes no pool mate's share", () => {
  // As its pCPU does (guest/pcpu.ts crashAlone, ranFor): its turn so far is charged and the
  // window sampled before it is removed, and sampled again when its turn ends.
  const h = new HeapShares<string>(0);
  h.add('crashed', 1 * MiB);
  h.add('mate', 1 * MiB);
  h.ran('mate', 3);
  h.ran('crashed', 1);
  h.sample(4 * MiB);
  h.remove('crashed');
  h.ran('crashed', 1900); // its turn runs on to its end after its crash, making garbage
  assert.deepEqual(h.sample(304 * MiB), [], 'its turn\'s growth after its crash is charged to nobody');
  assert.equal(h.bytes('crashed'), undefined);
  assert.equal(h.bytes('mate'), 4 * MiB);
  // The mate keeps 300 MiB in its next turn: a removed domain's time, told after, counts for
  // nothing, and the mate is charged all of it.
  h.ran('crashed', 1900);
  h.ran('mate', 100);
  assert.deepEqual(h.sample(604 * MiB), ['mate']);
  assert.equal(h.bytes('mate'), 304 * MiB, 'a domain gone dilutes no one\'s share of what it kept');
  // A fall pays back the thread's 300 MiB and the crashed domain's 2 before it lowers the mate's figure.
  assert.deepEqual(h.sample(302 * MiB), []);
  assert.equal(h.bytes('mate'), 304 * MiB);
});
