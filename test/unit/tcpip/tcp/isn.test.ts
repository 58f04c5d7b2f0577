import assert from 'node:assert/strict';
import { test } from 'node:test';
import { halfSipHash24, SequenceSecrets } from '../../../../src/tcpip/tcp/isn.js';
import { rng } from '../../../support/random.js';

test('HalfSipHash-2-4 gives the reference implementation\'s 32-bit vectors (key 00..07, message 00..n-1)', () => {
  const k0 = 0x03020100;
  const k1 = 0x07060504;
  const words = [0x03020100, 0x07060504, 0x0b0a0908];
  assert.deepEqual([0, 1, 2, 3].map((n) => halfSipHash24(k0, k1, words.slice(0, n))), [0x5b9f35a9, 0x89466e2a, 0x8f84b8d0, 0x2f87f057]);
});

test('RFC 6528: an ISN is a hash of the 4-tuple under the secret plus a 4 us clock; timestamp offsets are one per pair of addresses', () => {
  const s = new SequenceSecrets(rng(3));
  const [a, b, c] = [0x0a000001, 0x0a000002, 0x0a000003];
  // The same 4-tuple a millisecond later: 250 ticks on.
  assert.equal((s.isn(a, 40000, b, 80, 1001.5) - s.isn(a, 40000, b, 80, 1000.5)) >>> 0, 250);
  // Other ports or addresses: unrelated numbers.
  const others = [s.isn(a, 40001, b, 80, 1000), s.isn(a, 40000, b, 81, 1000), s.isn(a, 40000, c, 80, 1000), s.isn(b, 80, a, 40000, 1000)];
  assert.equal(new Set([s.isn(a, 40000, b, 80, 1000), ...others]).size, 5);
  // Another stack's secret: other ISNs for the same 4-tuple and time.
  assert.notEqual(new SequenceSecrets(rng(4)).isn(a, 40000, b, 80, 1000), s.isn(a, 40000, b, 80, 1000));
  assert.equal(s.tsOffset(a, b), s.tsOffset(a, b));
  assert.notEqual(s.tsOffset(a, b), s.tsOffset(a, c));
  assert.notEqual(s.tsOffset(a, b), s.tsOffset(b, a));
});
