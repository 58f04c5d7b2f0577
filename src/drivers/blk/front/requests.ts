// The pure arithmetic of blkfront's data path, apart from rings and grants so it can be tested
// alone: checking a guest I/O against the device, the segments of the span one ring request
// carries and where each ends, and the scatter-gather copy between the guest's buffer list
// and a request's pages.
import { BLKIF_OP_DISCARD, BLKIF_OP_READ, BLKIF_OP_WRITE } from '../../../abi/blkif.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import { copyBytes } from '../../../hypervisor/copy.js';
import { SECTOR_SHIFT, SECTOR_SIZE } from '../../../storage/disk.js';
import { IoError, OutOfRange, ReadOnly, Unaligned, type BlockError } from './errors.js';

/** What a check needs to know about the device. */
export interface DeviceLimits {
  readonly readWrite: boolean;
  readonly sizeSectors: number;
  readonly discard: boolean;
}

/** A page of a request: only its bytes matter here. */
export interface PageBytes {
  readonly page: Uint8Array;
}

export function asList(b: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  return b instanceof Uint8Array ? [b] : b;
}

export function byteLength(bufs: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of bufs) n += b.byteLength;
  return n;
}

/**
 * Why the device refuses an I/O of `bytes` (reads, writes) or `count` sectors (discard) at
 * `sector`, or null if it takes it. Flushes carry no sectors and always pass.
 */
export function checkIo(vdev: string, dev: DeviceLimits, op: number, sector: number, bytes: number, count: number): BlockError | null {
  if (bytes % SECTOR_SIZE !== 0) return new Unaligned(`${vdev}: I/O of ${bytes} bytes is not whole ${SECTOR_SIZE}-byte sectors`);
  const sectors = op === BLKIF_OP_DISCARD ? count : bytes >> SECTOR_SHIFT;
  if (!Number.isSafeInteger(sector) || !Number.isSafeInteger(sectors) || sector < 0 || sectors < 0 || sector + sectors > dev.sizeSectors) {
    return new OutOfRange(`${vdev}: sectors ${sector}+${sectors} are outside the device (${dev.sizeSectors} sectors)`);
  }
  if ((op === BLKIF_OP_WRITE || op === BLKIF_OP_DISCARD) && !dev.readWrite) return new ReadOnly(`${vdev} is read-only`);
  if (op === BLKIF_OP_DISCARD && !dev.discard) return new IoError(`${vdev}: the backend does not discard`, true);
  return null;
}

/** A read, write or discard of nothing: done at once, nothing goes on the ring. */
export function isEmptyIo(op: number, bytes: number, count: number): boolean {
  if (op === BLKIF_OP_DISCARD) return count === 0;
  return (op === BLKIF_OP_READ || op === BLKIF_OP_WRITE) && bytes === 0;
}

/** Segments (pages) a span of `len` bytes takes. */
export function segmentCount(len: number): number {
  return Math.ceil(len / PAGE_SIZE);
}

/** last_sect of segment `i` of a span of `len` bytes; every segment starts at sector 0 of its page. */
export function lastSect(len: number, i: number): number {
  return (Math.min(PAGE_SIZE, len - i * PAGE_SIZE) >> SECTOR_SHIFT) - 1;
}

/** Sector of byte `offset` of an I/O that starts at `sector`. */
export function sectorAt(sector: number, offset: number): number {
  return sector + offset / SECTOR_SIZE;
}

/** Buffers that are whole pages of `ram` (page-aligned, all but the last a whole number of pages). */
export function inPagesOf(ram: SharedArrayBuffer, bufs: readonly Uint8Array[]): boolean {
  for (let i = 0; i < bufs.length; i++) {
    const b = bufs[i]!;
    if (b.buffer !== ram || b.byteOffset % PAGE_SIZE !== 0) return false;
    if (i < bufs.length - 1 && b.byteLength % PAGE_SIZE !== 0) return false;
  }
  return true;
}

/**
 * The byte address, within its buffer's ArrayBuffer, of each page-sized step of `nseg` pages
 * from byte `offset` of `bufs` (bufs as inPagesOf accepts them): the guest frames under a span,
 * written to `out[0..nseg)`. The caller's array is reused from one request to the next, so that
 * a request allocates none.
 */
export function pageAddresses(bufs: readonly Uint8Array[], offset: number, nseg: number, out: number[]): void {
  let bi = 0;
  let bo = offset;
  while (bo >= bufs[bi]!.byteLength) bo -= bufs[bi++]!.byteLength;
  for (let i = 0; i < nseg; i++) {
    out[i] = bufs[bi]!.byteOffset + bo;
    bo += PAGE_SIZE;
    // On to the next buffer that holds data (an empty one has no page of its own).
    while (bi < bufs.length && bo >= bufs[bi]!.byteLength) {
      bi++;
      bo = 0;
    }
  }
}

/**
 * Copy `len` bytes between the buffer list (from byte `offset`) and consecutive pages: bounce
 * pages are shared memory, so each piece is one memcpy (copyBytes), not set()'s relaxed copy.
 */
export function copySg(bufs: readonly Uint8Array[], offset: number, pages: readonly PageBytes[], len: number, toPages: boolean): void {
  let bi = 0;
  let bo = offset;
  while (bo >= bufs[bi]!.byteLength) bo -= bufs[bi++]!.byteLength;
  let pi = 0;
  let po = 0;
  while (len > 0) {
    const b = bufs[bi]!;
    const n = Math.min(len, b.byteLength - bo, PAGE_SIZE - po);
    const page = pages[pi]!.page;
    if (toPages) copyBytes(page, b.subarray(bo, bo + n), po);
    else copyBytes(b, page.subarray(po, po + n), bo);
    len -= n;
    bo += n;
    po += n;
    if (bo === b.byteLength) {
      bi++;
      bo = 0;
    }
    if (po === PAGE_SIZE) {
      pi++;
      po = 0;
    }
  }
}
