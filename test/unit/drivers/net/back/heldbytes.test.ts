// The held frames' copies: one buffer used as a ring, copies taken at the newest end and let go
// at the oldest; a copy never overwrites one still held, and one that does not fit is refused
// (netback then makes a copy of its own).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeldBytes } from '../../../../../src/drivers/net/back/heldbytes.js';

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

test('held copies: in order, wrapping to the start once the oldest have gone, never onto a copy still held', () => {
  const h = new HeldBytes(1000);
  const a = h.copy(bytes(400, 1))!;
  const b = h.copy(bytes(400, 2))!;
  assert.equal(a.buffer, b.buffer, 'one buffer');
  assert.equal(h.copy(bytes(300, 3)), undefined, 'no room at the end, and the start is held');
  h.release(a);
  // 300 bytes do not fit after b (800 + 300 > 1000): they go to the start, before b.
  const c = h.copy(bytes(300, 3))!;
  assert.equal(c.byteOffset, 0);
  assert.equal(h.copy(bytes(100, 4)), undefined, 'from 300 up to b at 400, 100 bytes would touch it');
  const d = h.copy(bytes(99, 4))!;
  assert.equal(d.byteOffset, 300);
  assert.deepEqual([b, c, d].map((v) => v.every((x) => x === v[0]) && v[0]), [2, 3, 4], 'nothing overwritten');
  h.release(b);
  // b gone: after d, up to the end.
  const e = h.copy(bytes(601, 5))!;
  assert.equal(e.byteOffset, 399);
  h.release(c);
  h.release(d);
  h.release(e);
  assert.equal(h.copy(bytes(1000, 6))!.byteOffset, 0, 'empty: the whole buffer from its start');
  assert.equal(h.copy(bytes(1, 7)), undefined);
});

test('held copies: larger than the buffer is refused; clear lets every copy go; a copy made elsewhere is ignored on release', () => {
  const h = new HeldBytes(100);
  assert.equal(h.copy(bytes(101, 1)), undefined);
  const a = h.copy(bytes(60, 1))!;
  h.release(bytes(60, 9));
  assert.equal(h.copy(bytes(60, 2)), undefined, 'a is still held');
  h.clear();
  assert.equal(h.copy(bytes(100, 3))!.byteOffset, 0);
  assert.equal(a[0], 3, 'a was let go by clear');
});
