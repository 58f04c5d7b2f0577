// os.io: I/O pages carved from the guest's own RAM: whole, zeroed, page-aligned and contiguous,
// bounded by memory=. (Their zero-copy use by blkfront is tested with the block driver.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_SIZE } from '../../../src/abi/xen.js';
import { ioPages } from '../../../src/guest/iopages.js';
import { harness, ramPage, xen } from '../../support/hypervisor.js';

test('a buffer is whole pages of zeroed, page-aligned memory in the guest RAM', (t) => {
  const { hc } = harness(t).local({ ramFrames: 16 });
  const io = ioPages(hc);
  const one = io.alloc(1);
  const three = io.alloc(2 * PAGE_SIZE + 1);
  for (const [buf, pages] of [[one, 1], [three, 3]] as const) {
    assert.equal(buf.buffer, hc.memory.buffers.memory, "in the guest's own memory");
    assert.equal(buf.byteOffset % PAGE_SIZE, 0, 'page-aligned');
    assert.equal(buf.byteLength, pages * PAGE_SIZE, 'rounded up to whole pages');
    assert.ok(buf.every((b) => b === 0), 'zeroed');
  }
  const ends = [one, three].map((b) => [b.byteOffset, b.byteOffset + b.byteLength] as const).sort((a, b) => a[0] - b[0]);
  assert.ok(ends[0]![1] <= ends[1]![0], 'two buffers never share a frame');
});

test('frames given back and handed out again come back zeroed, and contiguous even when freed ones are scattered', (t) => {
  const { hc } = harness(t).local({ ramFrames: 16 });
  // Dirty four frames and free every other one, so the free list holds no run of two.
  const pages = [0, 1, 2, 3].map(() => ramPage(hc, 0xee));
  hc.decreaseReservation([pages[0]!.pfn, pages[2]!.pfn]);
  const io = ioPages(hc);
  const single = io.alloc(PAGE_SIZE);
  assert.ok(single.every((b) => b === 0), 'a reused frame is zeroed');
  const pair = io.alloc(2 * PAGE_SIZE);
  assert.ok(pair.every((b) => b === 0));
  assert.equal(pair.byteLength, 2 * PAGE_SIZE, 'one view over two adjacent frames');
});

test('a size that is not a positive whole number is EINVAL', (t) => {
  const io = ioPages(harness(t).local({ ramFrames: 16 }).hc);
  for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) assert.throws(() => io.alloc(bad), xen('EINVAL'), String(bad));
});

test('past memory= it is ENOMEM, and a failed allocation keeps no frame', (t) => {
  const { hc } = harness(t).local({ ramFrames: 16 });
  const io = ioPages(hc);
  const taken: number[] = [];
  for (let i = 0; ; i++) {
    assert.ok(i <= 16, 'memory= bounds the RAM a guest can take');
    try {
      taken.push(ramPage(hc, 0xee).pfn);
    } catch (e) {
      assert.equal((e as { errno?: string }).errno, 'ENOMEM');
      break;
    }
  }
  assert.throws(() => io.alloc(1), xen('ENOMEM'));
  // Two frames free but not adjacent: no two-page buffer fits, and the two frames tried stay free.
  hc.decreaseReservation([taken[0]!, taken[2]!]);
  assert.throws(() => io.alloc(2 * PAGE_SIZE), xen('ENOMEM'));
  io.alloc(PAGE_SIZE);
  io.alloc(PAGE_SIZE);
  assert.throws(() => io.alloc(1), xen('ENOMEM'));
});

test('the ranges a suspend record keeps are in order of frame, however the frames came', (t) => {
  const { hc } = harness(t).local({ ramFrames: 16 });
  // Two frames taken and the first given back: the second buffer lands below the first.
  const pages = [0, 1].map(() => ramPage(hc, 0xee));
  const io = ioPages(hc);
  const high = io.alloc(PAGE_SIZE);
  hc.decreaseReservation([pages[0]!.pfn]);
  const low = io.alloc(PAGE_SIZE);
  assert.ok(low.byteOffset < high.byteOffset, 'the later buffer is below the earlier');
  assert.deepEqual(io.ranges(), [[low.byteOffset / PAGE_SIZE, 1], [high.byteOffset / PAGE_SIZE, 1]]);
});
