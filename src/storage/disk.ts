// Disk backends behind one interface: what a block backend reads and writes. Sector numbers
// and counts are in 512-byte units (blkif's sector unit); buffers are whole sectors. A method
// may complete synchronously (returns undefined), which lets a backend answer a RAM disk's
// request in the same pass that read it, or return a promise (file I/O, later VHD).
import { fdatasync, ftruncate } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { XenError } from '../errors.js';

/** The sector unit of blkif (sector_number, first_sect/last_sect, `sectors`) and of every disk: 512 bytes. */
export const SECTOR_SHIFT = 9;
export const SECTOR_SIZE = 1 << SECTOR_SHIFT;

export interface DiskFeatures {
  /** flush() makes acknowledged writes durable (FLUSH_DISKCACHE, barriers). */
  readonly flush: boolean;
  readonly discard: boolean;
  /** discard(..., secure) renders the data unrecoverable. */
  readonly secureDiscard: boolean;
}

export interface Disk {
  /** Size in 512-byte sectors. */
  readonly sectors: number;
  readonly readOnly: boolean;
  readonly features: DiskFeatures;
  /** Fill `bufs`, in order, from the sectors starting at `sector`. */
  read(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void;
  /** Write `bufs`, in order, to the sectors starting at `sector`. */
  write(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void;
  /** Make every completed write durable. */
  flush(): Promise<void> | void;
  /** The sectors read as zeros afterwards. */
  discard(sector: number, count: number, secure: boolean): Promise<void> | void;
  /**
   * Whether sectors [sector, sector+count) may hold anything but zeros, from what the disk
   * knows at once (an image's block map): false means they read as zeros, so a copy skips them
   * without reading. A disk that cannot tell leaves it out.
   */
  holdsData?(sector: number, count: number): boolean;
  close(): Promise<void>;
}

/** A disk made of layers (a VHD chain, a qcow2 image over its backing file): what its top layer holds. */
export interface LayeredDisk extends Disk {
  /** Runs of sectors [first, count) whose data is in the top layer itself, in order: what a coalesce copies down. */
  leafExtents(): AsyncIterable<readonly [number, number]>;
}

/** Total bytes of a buffer list, checked to be whole sectors. */
export function sgBytes(bufs: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of bufs) n += b.byteLength;
  if (n % SECTOR_SIZE !== 0) throw new XenError('EINVAL', `I/O of ${n} bytes is not a whole number of ${SECTOR_SIZE}-byte sectors`);
  return n;
}

/** Range check every backend repeats (the block backend checks first; this is the last line). */
export function checkRange(disk: Disk, sector: number, count: number): void {
  if (!Number.isSafeInteger(sector) || !Number.isSafeInteger(count) || sector < 0 || count < 0 || sector > disk.sectors - count) {
    throw new XenError('ERANGE', `sectors ${sector}+${count} are outside the disk (${disk.sectors} sectors)`);
  }
}

/**
 * A failed system call on a storage file as a XenError naming the operation and the file: a file
 * that cannot grow (ENOSPC, EDQUOT, or EFBIG past RLIMIT_FSIZE) is a full disk, anything else EIO.
 * An error that is a XenError already passes through; `cause` is the system call's error.
 */
export function fsError(op: string, file: string, e: unknown): XenError {
  if (e instanceof XenError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const errno = code === 'ENOSPC' || code === 'EFBIG' || code === 'EDQUOT' ? 'ENOSPC' : 'EIO';
  const err = new XenError(errno, `${op} ${file}: ${code ?? (e as Error).message}`);
  err.cause = e; // the system's own code, for a caller that can recover from one (direct.ts)
  return err;
}

/** fdatasync of a storage file, failing as fsError says. */
export function datasync(fd: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(fsError('fdatasync', file, e)) : resolve())));
}

/** ftruncate of a storage file, failing as fsError says. */
export function truncate(fd: number, file: string, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => ftruncate(fd, bytes, (e) => (e ? reject(fsError('ftruncate', file, e)) : resolve())));
}

/** Whether `path` lies inside `dir` (both real paths): how a chain's parents are confined to an SR. */
export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export function checkWritable(disk: Disk): void {
  if (disk.readOnly) throw new XenError('EROFS', 'the disk is read-only');
}
