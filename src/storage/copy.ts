// Copying a disk's contents into a fresh image, for vdi-import and vdi-export: the source is
// read through its Disk (so a backing chain is flattened and the copy references no file
// outside its SR), in fixed-size chunks (memory stays bounded whatever the size), chunks its
// block map has unallocated are not read, and runs of zeros are not written, so the new image
// stays sparse.
import { open, rm, stat } from 'node:fs/promises';
import { XenError } from '../errors.js';
import { alignedBuffer } from './direct.js';
import { SECTOR_SIZE, type Disk } from './disk.js';
import { imageFormat } from './open.js';

/**
 * Bytes read per step of a copy: a VHD block (2 MiB), so that two steps never allocate the same
 * destination block, and half the round trips through an event loop a guest's I/O keeps busy.
 */
export const COPY_CHUNK_BYTES = 2 << 20;

const VHD_COOKIE = Buffer.from('conectix');
const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

/** The format of an image file from its own marks: a VHD footer cookie (at the end, or its copy at the start), qcow2's magic, else raw. */
export async function detectFormat(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(SECTOR_SIZE);
    await fh.read(head, 0, SECTOR_SIZE, 0);
    if (head.subarray(0, 4).equals(QCOW2_MAGIC)) return 'qcow2';
    if (head.subarray(0, 8).equals(VHD_COOKIE)) return 'vhd';
    if (size >= SECTOR_SIZE) {
      const tail = Buffer.alloc(SECTOR_SIZE);
      await fh.read(tail, 0, SECTOR_SIZE, size - SECTOR_SIZE);
      if (tail.subarray(0, 8).equals(VHD_COOKIE)) return 'vhd';
    }
    return 'raw';
  } finally {
    await fh.close();
  }
}

/** A source image to copy from: a regular file, of the format given (checked against its marks) or found; opened read-only. */
export async function openSource(path: string, format?: string): Promise<{ format: string; disk: Disk }> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new XenError(e.code === 'ENOENT' ? 'ENOENT' : 'EACCES', `${path}: ${e.message}`);
  });
  if (!st.isFile()) throw new XenError('EINVAL', `${path} is not a regular file`);
  const found = await detectFormat(path);
  if (format !== undefined && format !== found) throw new XenError('EINVAL', `${path} is a ${found} image, not ${format}`);
  return { format: found, disk: await imageFormat(found).open(path, { readOnly: true }) };
}

const ZERO_CHUNK = Buffer.alloc(COPY_CHUNK_BYTES);

/**
 * Zeros are looked for in pieces of this size (a qcow2 cluster; a sixteenth of a chunk): what
 * keeps the copy sparse, at a cost of 16 native compares a chunk, not one a sector.
 */
const ZERO_PIECE_BYTES = 64 << 10;

/** A buffer (of at most a chunk) of all zeros? A native compare: a byte loop in JS costs about a second per GiB. */
function isZero(b: Uint8Array): boolean {
  return ZERO_CHUNK.subarray(0, b.byteLength).equals(b);
}

/** How a long copy reports and is stopped: bytes done of the total after each chunk; an aborted signal stops it between chunks. */
export interface CopyControl {
  readonly progress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/**
 * Chunks a copy has in flight: one is read while the other is written. A write around the page
 * cache (direct.ts) holds one of libuv's four threads for the device's time, and a live
 * migration's guest shares that pool (its 32 requests and their mirrored copies): two leave it
 * two threads. With 8 in flight the guest's writes nearly stopped during a migration's copy.
 * A raw or qcow2 destination, written through the page cache, holds a thread longer still per
 * byte (the kernel's copy: 1.7-2.3 s of CPU per GiB here), so the same two hold for it; 8 in
 * flight copied 256 MiB into it no faster (docs/PERFORMANCE.md, issue 14, fix10).
 */
const COPY_IN_FLIGHT = 2;

/**
 * Copy every sector of `src` to `dst` (at least as large), writing only runs of 64 KiB pieces
 * that are not all zeros (the destination is new, so it reads zeros there already), then flush.
 * Chunks are copied COPY_IN_FLIGHT at a time (each to its own sectors).
 */
export async function copyDisk(src: Disk, dst: Disk, ctl: CopyControl = {}): Promise<void> {
  const { progress, signal } = ctl;
  if (dst.sectors < src.sectors) throw new XenError('EINVAL', `the destination (${dst.sectors} sectors) is smaller than the source (${src.sectors})`);
  const perChunk = COPY_CHUNK_BYTES / SECTOR_SIZE;
  const total = src.sectors * SECTOR_SIZE;
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    // Aligned: a destination opened with directWrites (writeImage) writes it around the page cache.
    const buf = alignedBuffer(COPY_CHUNK_BYTES);
    while (next < src.sectors && !failed) {
      signal?.throwIfAborted();
      const at = next;
      next += perChunk;
      const n = Math.min(perChunk, src.sectors - at);
      const chunk = buf.subarray(0, n * SECTOR_SIZE);
      // Where the source's block map says zeros, nothing is read (only allocated blocks are copied).
      const data = src.holdsData?.(at, n) ?? true;
      if (data) await src.read(at, [chunk]);
      if (data && !isZero(chunk)) {
        // Runs of pieces that hold data, each in one write.
        const bytes = chunk.byteLength;
        let run = -1;
        for (let p = 0; p < bytes + ZERO_PIECE_BYTES; p += ZERO_PIECE_BYTES) {
          const zero = p >= bytes || isZero(chunk.subarray(p, Math.min(p + ZERO_PIECE_BYTES, bytes)));
          if (!zero && run < 0) run = p;
          if (zero && run >= 0) {
            await dst.write(at + run / SECTOR_SIZE, [chunk.subarray(run, Math.min(p, bytes))]);
            run = -1;
          }
        }
      }
      // A chunk in flight when the copy was stopped ends it: no progress after a stop.
      signal?.throwIfAborted();
      done += n * SECTOR_SIZE;
      progress?.(done, total);
    }
  };
  // Every worker stopped before the caller may close the disks; then the first failure.
  const ends = await Promise.allSettled(Array.from({ length: COPY_IN_FLIGHT }, () => worker().catch((e: unknown) => {
    failed = true;
    throw e;
  })));
  for (const e of ends) if (e.status === 'rejected') throw e.reason;
  await dst.flush();
}

/** A new image of `format` at `path` (which must not exist) holding a copy of `src`; the partial file is removed on failure. */
export async function writeImage(src: Disk, path: string, format: string, ctl: CopyControl = {}): Promise<void> {
  const f = imageFormat(format);
  await f.create(path, src.sectors * SECTOR_SIZE);
  try {
    const dst = await f.open(path, { readOnly: false, directWrites: true });
    try {
      await copyDisk(src, dst, ctl);
    } finally {
      await dst.close();
    }
  } catch (e) {
    await rm(path, { force: true });
    throw e;
  }
}
