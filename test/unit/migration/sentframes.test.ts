// The sender's copies of the frames it sent (migrate.ts): a frame is reported changed exactly
// when it differs from its copy, wherever the change is in a run of frames compared at once,
// at a slab's edge or not, in any order of pfns; the copy is what was compared, not the frame
// as it is now; forgotten frames go again. Then a bounded random check against a plain model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_SIZE } from '../../../src/abi/xen.js';
import { SentFrames } from '../../../src/migration/sentframes.js';
import { rng } from '../../support/random.js';

const FRAMES = 600; // more than two slabs of 256
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function memory(): { mem: SharedArrayBuffer; m8: Uint8Array } {
  const mem = new SharedArrayBuffer(FRAMES * PAGE_SIZE);
  const m8 = new Uint8Array(mem);
  for (let i = 0; i < m8.length; i += 61) m8[i] = (i * 7) & 0xff;
  return { mem, m8 };
}

test('every frame is new at first; unchanged frames are not reported again', () => {
  const { mem } = memory();
  const s = new SentFrames();
  const pfns = range(5, FRAMES);
  assert.deepEqual(s.changed(mem, pfns), pfns);
  assert.deepEqual(s.changed(mem, pfns), []);
});

test('a change anywhere in a run compared at once is found, and only that frame', () => {
  const { mem, m8 } = memory();
  const s = new SentFrames();
  const pfns = range(3, FRAMES);
  s.changed(mem, pfns);
  // Inside a run, at a run's first and last byte, either side of a slab's edge (pfn 256), the last frame.
  for (const [pfn, offset] of [[10, 100], [16, 0], [31, PAGE_SIZE - 1], [255, PAGE_SIZE - 1], [256, 0], [FRAMES - 1, PAGE_SIZE - 1]] as const) {
    m8[pfn * PAGE_SIZE + offset]! ^= 0x40;
    assert.deepEqual(s.changed(mem, pfns), [pfn], `pfn ${pfn} at ${offset}`);
    assert.deepEqual(s.changed(mem, pfns), []);
  }
});

test('the copy is the frame as compared, and frames go again once forgotten', () => {
  const { mem, m8 } = memory();
  const s = new SentFrames();
  const pfns = range(0, FRAMES);
  s.changed(mem, pfns);
  const before = Buffer.from(m8.subarray(40 * PAGE_SIZE, 41 * PAGE_SIZE));
  m8[40 * PAGE_SIZE + 9]! ^= 1;
  assert.deepEqual(Buffer.from(s.frame(40)), before);
  assert.deepEqual(s.changed(mem, pfns), [40]);
  assert.deepEqual(Buffer.from(s.frame(40)), Buffer.from(m8.subarray(40 * PAGE_SIZE, 41 * PAGE_SIZE)));
  s.forget([40, 41]);
  assert.deepEqual(s.changed(mem, pfns), [40, 41]);
});

test('pfns out of order or with gaps: each frame against its own copy', () => {
  const { mem, m8 } = memory();
  const s = new SentFrames();
  const pfns = [300, 2, 3, 4, 7, 299, 298, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];
  assert.deepEqual(s.changed(mem, pfns), pfns);
  m8[299 * PAGE_SIZE]! ^= 1;
  m8[20 * PAGE_SIZE + 5]! ^= 1;
  assert.deepEqual(s.changed(mem, pfns), [299, 20]);
  // A frame never sent next to sent ones is new, its neighbours are not.
  assert.deepEqual(s.changed(mem, [5, 6, 7, 8]), [5, 6]);
});

test('random writes between rounds: the same frames as a plain frame-by-frame model', () => {
  const { mem, m8 } = memory();
  const s = new SentFrames();
  const model = new Map<number, Buffer>();
  const r = rng(16);
  const pfns = range(1, FRAMES);
  for (let round = 0; round < 40; round++) {
    const writes = Math.floor(r() * 50);
    for (let i = 0; i < writes; i++) m8[Math.floor(r() * FRAMES * PAGE_SIZE)]! ^= 1 + Math.floor(r() * 255);
    const want: number[] = [];
    for (const p of pfns) {
      const frame = Buffer.from(m8.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE));
      if (model.get(p)?.equals(frame)) continue;
      model.set(p, frame);
      want.push(p);
    }
    assert.deepEqual(s.changed(mem, pfns), want, `round ${round}`);
  }
});

test('a range of the pfns is compared as its slice would be, and its changes go after what `out` holds', () => {
  const { mem, m8 } = memory();
  const s = new SentFrames();
  const pfns = range(0, FRAMES);
  s.changed(mem, pfns);
  // Changed: one frame inside the range, one on each side of it, and the range's last one.
  for (const pfn of [99, 100, 150, 299, 300]) m8[pfn * PAGE_SIZE + 5]! ^= 1;
  const out = [7];
  assert.equal(s.changed(mem, pfns, 100, 300, out), out);
  assert.deepEqual(out, [7, 100, 150, 299], 'a run is not compared past the range');
  assert.deepEqual(s.changed(mem, pfns), [99, 300], 'the frames outside it are still to send');
});
