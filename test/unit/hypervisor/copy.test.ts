import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyBytes } from '../../../src/hypervisor/copy.js';

const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

test('copyBytes: into and out of shared memory at unaligned offsets, every size around the native threshold, nothing outside the range touched', () => {
  const shared = new Uint8Array(new SharedArrayBuffer(1 << 16));
  for (const len of [0, 1, 7, 127, 128, 129, 1514, 4096, 65_000 - 66]) {
    for (const at of [0, 1, 66]) {
      const src = pattern(len, at);
      shared.fill(0xee);
      copyBytes(shared, src, at);
      assert.deepEqual(shared.subarray(at, at + len), src, `${len} bytes into shared memory at ${at}`);
      assert.equal(shared[at - 1] ?? 0xee, 0xee);
      assert.equal(shared[at + len] ?? 0xee, 0xee, 'the byte after the range is untouched');
      const out = new Uint8Array(len + 3).fill(0x11);
      copyBytes(out, shared.subarray(at, at + len), 3);
      assert.deepEqual(out.subarray(3), src, `${len} bytes out of shared memory from ${at}`);
      assert.deepEqual([...out.subarray(0, 3)], [0x11, 0x11, 0x11]);
    }
  }
});

test('copyBytes: a range that does not fit is refused with RangeError, and nothing is written', () => {
  const dst = new Uint8Array(new SharedArrayBuffer(4096));
  for (const [len, at] of [[4096, 1], [200, 4000], [10, 4090], [200, -1]] as const) {
    assert.throws(() => copyBytes(dst, pattern(len, 1), at), RangeError, `${len} bytes at ${at}`);
  }
  assert.ok(dst.every((b) => b === 0), 'nothing was written');
});
