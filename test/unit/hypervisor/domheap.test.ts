// Guest memory of gone domains is reused, wiped, within a bound; memory a live peer was
// handed is never reused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomHeap } from '../../../src/hypervisor/domheap.js';
import { ThreadScrubber } from '../../../src/hypervisor/scrub.js';
import { harness } from '../../support/hypervisor.js';

test('a freed buffer comes back wiped for the next allocation of its size only', () => {
  const heap = new DomHeap({ maxFreeBytes: 1 << 20 });
  const a = heap.alloc(64 << 10);
  new Uint8Array(a).fill(0xaa);
  heap.free(a);
  assert.equal(heap.stats().freeBytes, 64 << 10);
  const other = heap.alloc(128 << 10);
  assert.notEqual(other, a, 'another size is a new buffer');
  const again = heap.alloc(64 << 10);
  assert.equal(again, a, 'same size: reused');
  assert.ok(new Uint8Array(again).every((b) => b === 0), 'no byte of the previous guest is left');
  assert.deepEqual(heap.stats(), { reused: 1, allocated: 2, freeBytes: 0, scrubbingBytes: 0 });
});

test('the free pool keeps no more than its bound', () => {
  const heap = new DomHeap({ maxFreeBytes: 3 << 16 });
  const bufs = Array.from({ length: 5 }, () => heap.alloc(1 << 16));
  for (const b of bufs) heap.free(b);
  assert.equal(heap.stats().freeBytes, 3 << 16);
});

test('a reaped domain gives its memory to the next domain of its size, zeroed', async (t) => {
  const h = harness(t);
  const a = h.local({ ramFrames: 16 });
  const mem = a.domain.view.buffers.memory;
  a.domain.view.mem32.fill(-1);
  await h.hv.destroyDomain(a.domid);
  const b = h.local({ ramFrames: 16 });
  assert.equal(b.domain.view.buffers.memory, mem);
  assert.ok(b.domain.view.mem32.every((w) => w === 0));
  assert.equal(h.local({ ramFrames: 32 }).domain.view.buffers.memory === mem, false);
});

test('memory handed to a peer that still runs is not reused', async (t) => {
  const h = harness(t);
  const a = h.local({ ramFrames: 16 });
  const b = h.local({ ramFrames: 16 });
  h.hv.link(a.domid, b.domid);
  await b.hc.connect(a.domid); // b's thread now holds a's buffer
  const mem = a.domain.view.buffers.memory;
  await h.hv.destroyDomain(a.domid);
  assert.equal(h.hv.heap.stats().freeBytes, 0, 'b may still touch it');
  assert.notEqual(h.local({ ramFrames: 16 }).domain.view.buffers.memory, mem);
});

test('with a scrubber thread, a freed buffer is pooled only once it has wiped it', async (t) => {
  const scrubber = new ThreadScrubber();
  t.after(() => scrubber.close());
  const heap = new DomHeap({ maxFreeBytes: 1 << 20, scrubber });
  const a = heap.alloc(64 << 10);
  new Uint8Array(a).fill(0xaa);
  heap.free(a);
  assert.equal(heap.stats().freeBytes, 0, 'not pooled before it is wiped');
  assert.notEqual(heap.alloc(64 << 10), a, 'meanwhile a new buffer');
  while (heap.stats().scrubbingBytes > 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(heap.stats().freeBytes, 64 << 10);
  const again = heap.alloc(64 << 10);
  assert.equal(again, a);
  assert.ok(new Uint8Array(again).every((b) => b === 0), 'no byte of the previous guest is left');
});

test('a scrubber that is gone pools nothing: what it was wiping is dropped, not handed out', async () => {
  const scrubber = new ThreadScrubber();
  const heap = new DomHeap({ maxFreeBytes: 1 << 20, scrubber });
  const a = heap.alloc(64 << 10);
  new Uint8Array(a).fill(0xaa);
  heap.free(a);
  await heap.close();
  const b = heap.alloc(64 << 10);
  new Uint8Array(b).fill(0xbb);
  heap.free(b);
  while (heap.stats().scrubbingBytes > 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(heap.stats().freeBytes, 0);
  for (let i = 0; i < 3; i++) assert.ok(new Uint8Array(heap.alloc(64 << 10)).every((x) => x === 0));
});
