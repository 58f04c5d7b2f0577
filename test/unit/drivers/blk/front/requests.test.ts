// blkfront's pure data-path arithmetic, without rings or grants: the device check, cutting an
// I/O into requests, segment ends, the frames under a buffer list and the scatter-gather copy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLKIF_OP_DISCARD, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_READ, BLKIF_OP_WRITE } from '../../../../../src/abi/blkif.js';
import { PAGE_SIZE } from '../../../../../src/abi/xen.js';
import { IoError, OutOfRange, ReadOnly, Unaligned } from '../../../../../src/drivers/blk/front/errors.js';
import {
  asList, byteLength, checkIo, copySg, inPagesOf, isEmptyIo, lastSect, pageAddresses, sectorAt, segmentCount,
} from '../../../../../src/drivers/blk/front/requests.js';

const dev = { readWrite: true, sizeSectors: 1000, discard: true };
const bytes = (n: number, from = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i * 7) & 0xff);

test('an I/O that is not whole sectors is Unaligned, checked before anything else', () => {
  const e = checkIo('xvda', dev, BLKIF_OP_READ, 0, 100, 0);
  assert.ok(e instanceof Unaligned);
  assert.equal(e.kind, 'Unaligned');
  assert.match(e.message, /xvda: I\/O of 100 bytes is not whole 512-byte sectors/);
  // Even when the range and access would also be wrong.
  assert.ok(checkIo('xvda', { ...dev, readWrite: false }, BLKIF_OP_WRITE, -5, 513, 0) instanceof Unaligned);
  assert.equal(checkIo('xvda', dev, BLKIF_OP_READ, 0, 4096, 0), null);
});

test('sectors outside the device, writes to a read-only one and discards nobody offers are refused', () => {
  assert.ok(checkIo('xvda', dev, BLKIF_OP_READ, 1000, 512, 0) instanceof OutOfRange);
  assert.ok(checkIo('xvda', dev, BLKIF_OP_READ, 999, 1024, 0) instanceof OutOfRange);
  assert.ok(checkIo('xvda', dev, BLKIF_OP_WRITE, -1, 512, 0) instanceof OutOfRange);
  assert.ok(checkIo('xvda', dev, BLKIF_OP_READ, 0.5, 512, 0) instanceof OutOfRange);
  assert.ok(checkIo('xvda', dev, BLKIF_OP_DISCARD, 990, 0, 11) instanceof OutOfRange);
  assert.equal(checkIo('xvda', dev, BLKIF_OP_READ, 999, 512, 0), null);
  const ro = { ...dev, readWrite: false };
  assert.ok(checkIo('xvda', ro, BLKIF_OP_WRITE, 0, 512, 0) instanceof ReadOnly);
  assert.ok(checkIo('xvda', ro, BLKIF_OP_DISCARD, 0, 0, 8) instanceof ReadOnly);
  assert.equal(checkIo('xvda', ro, BLKIF_OP_READ, 0, 512, 0), null);
  const e = checkIo('xvda', { ...dev, discard: false }, BLKIF_OP_DISCARD, 0, 0, 8);
  assert.ok(e instanceof IoError && e.unsupported);
  assert.equal(checkIo('xvda', dev, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0), null);
});

test('reads, writes and discards of nothing never reach the ring; a flush always does', () => {
  assert.equal(isEmptyIo(BLKIF_OP_READ, 0, 0), true);
  assert.equal(isEmptyIo(BLKIF_OP_WRITE, 0, 0), true);
  assert.equal(isEmptyIo(BLKIF_OP_DISCARD, 0, 0), true);
  assert.equal(isEmptyIo(BLKIF_OP_DISCARD, 0, 1), false);
  assert.equal(isEmptyIo(BLKIF_OP_READ, 512, 0), false);
  assert.equal(isEmptyIo(BLKIF_OP_FLUSH_DISKCACHE, 0, 0), false);
});

test('segments: one per page, the last one ending at the span\'s last sector', () => {
  assert.equal(segmentCount(512), 1);
  assert.equal(segmentCount(4096), 1);
  assert.equal(segmentCount(4096 + 512), 2);
  assert.equal(lastSect(4096, 0), 7);
  assert.equal(lastSect(512, 0), 0);
  assert.equal(lastSect(4096 + 1536, 0), 7);
  assert.equal(lastSect(4096 + 1536, 1), 2);
  assert.equal(sectorAt(100, 0), 100);
  assert.equal(sectorAt(100, 45056), 188);
});

test('asList and byteLength take one buffer or a list', () => {
  const b = new Uint8Array(512);
  assert.deepEqual(asList(b), [b]);
  const l = [b, new Uint8Array(1024)];
  assert.equal(asList(l), l);
  assert.equal(byteLength(l), 1536);
  assert.equal(byteLength([]), 0);
});

test('inPagesOf: page-aligned buffers of that memory, all but the last whole pages', () => {
  const ram = new SharedArrayBuffer(8 * PAGE_SIZE);
  const at = (page: number, len: number) => new Uint8Array(ram, page * PAGE_SIZE, len);
  assert.equal(inPagesOf(ram, [at(1, PAGE_SIZE), at(5, 2 * PAGE_SIZE), at(2, 512)]), true);
  assert.equal(inPagesOf(ram, [at(1, 512), at(2, 512)]), false, 'a short buffer before another');
  assert.equal(inPagesOf(ram, [new Uint8Array(ram, 512, 512)]), false, 'not page-aligned');
  assert.equal(inPagesOf(ram, [new Uint8Array(new SharedArrayBuffer(PAGE_SIZE))]), false, 'other memory');
});

test('pageAddresses: the frame under each page of a span, across buffers, skipping empty ones', () => {
  const ram = new SharedArrayBuffer(16 * PAGE_SIZE);
  const at = (page: number, len: number) => new Uint8Array(ram, page * PAGE_SIZE, len);
  const bufs = [at(3, 2 * PAGE_SIZE), at(9, 0), at(7, PAGE_SIZE), at(1, 1024)];
  // One array reused from call to call, as blkfront does: only out[0..nseg) is read.
  const out: number[] = [];
  const frames = (offset: number, nseg: number) => {
    pageAddresses(bufs, offset, nseg, out);
    return out.slice(0, nseg).map((a) => a / PAGE_SIZE);
  };
  assert.deepEqual(frames(0, 4), [3, 4, 7, 1]);
  assert.deepEqual(frames(PAGE_SIZE, 2), [4, 7]);
  assert.deepEqual(frames(3 * PAGE_SIZE, 1), [1]);
});

test('copySg moves bytes between uneven buffers and pages both ways, from any offset', () => {
  const bufs = [bytes(512, 1), bytes(5120, 2), bytes(1024, 3), bytes(3584, 4)]; // 10 KiB
  const all = Buffer.concat(bufs);
  for (const [offset, len] of [[0, 10240], [512, 8192], [4096, 4096], [6144, 4096], [9728, 512]] as const) {
    // Bounce pages are views of the guest's RAM, a SharedArrayBuffer, not at its start.
    const ram = new SharedArrayBuffer((Math.ceil(len / PAGE_SIZE) + 1) * PAGE_SIZE);
    const pages = Array.from({ length: Math.ceil(len / PAGE_SIZE) }, (_, i) => ({ page: new Uint8Array(ram, (i + 1) * PAGE_SIZE, PAGE_SIZE) }));
    copySg(bufs, offset, pages, len, true);
    const out = Buffer.concat(pages.map((p) => p.page)).subarray(0, len);
    assert.deepEqual(out, all.subarray(offset, offset + len), `to pages from ${offset}`);
    // Back again into zeroed buffers of the same shape: only [offset, offset+len) is written.
    const back = bufs.map((b) => new Uint8Array(b.length));
    copySg(back, offset, pages, len, false);
    const expect = Buffer.alloc(all.length);
    all.copy(expect, offset, offset, offset + len);
    assert.deepEqual(Buffer.concat(back), expect, `from pages to ${offset}`);
  }
});

test('copySg copies pieces shorter and longer than a native copy pays for, and leaves the rest of each page', () => {
  // Pieces of 100, 28 and 3,968 bytes: the short ones by set(), the long one by memcpy (copy.ts).
  const bufs = [bytes(100, 5), bytes(28, 6), bytes(3968, 7)];
  const ram = new SharedArrayBuffer(2 * PAGE_SIZE);
  new Uint8Array(ram).fill(0xee);
  const pages = [{ page: new Uint8Array(ram, PAGE_SIZE, PAGE_SIZE) }];
  copySg(bufs, 0, pages, 4096, true);
  assert.deepEqual(Buffer.from(pages[0]!.page), Buffer.concat(bufs));
  assert.ok(new Uint8Array(ram, 0, PAGE_SIZE).every((b) => b === 0xee), 'nothing before the page is written');
  const back = bufs.map((b) => new Uint8Array(b.length));
  // The span's pages hold the span from its start: page bytes [0, 3996) land from byte 100 on.
  copySg(back, 100, pages, 3996, false);
  assert.deepEqual(back[0], new Uint8Array(100), 'bytes before the offset are not written');
  assert.deepEqual(Buffer.concat(back.slice(1)), Buffer.concat(bufs).subarray(0, 3996));
});
