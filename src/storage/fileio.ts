// Positioned vectored I/O on a storage file with the callback fs API: readv/writev, one system
// call per transfer, several in flight on libuv's pool (about twice the rate of fs.promises,
// DESIGN.md §10), every byte moved or an error that names the file (fsError). What raw files,
// VHD images and qcow2 files all do; they differ only in what a read that meets the end of
// the file means (`AtEnd`).
import { readv, writev } from 'node:fs';
import { XenError } from '../errors.js';
import { fsError } from './disk.js';

/**
 * What a read that meets the end of the file gives: zeros for the rest (a raw file that shrank,
 * a qcow2 file's clusters past its end), or an error (an image whose metadata says the data is
 * there). A write that makes no progress is an error either way.
 */
type AtEnd = 'zeros' | 'error';

/**
 * Move `bufs` to or from the file at `position`. `onEnd`, if given, is told the end position of a
 * completed transfer before the promise resolves (a file that tracks its size: no step of its own).
 * A transfer done in one system call (the usual case) allocates only its promise and callback.
 */
export function transfer(op: 'read' | 'write', fd: number, file: string, bufs: readonly Uint8Array[], position: number,
  atEnd: AtEnd, onEnd?: (end: number) => void): Promise<void> {
  let left = 0;
  for (const b of bufs) left += b.byteLength;
  if (left === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let list = bufs as Uint8Array[];
    let pos = position;
    const done = (e: NodeJS.ErrnoException | null, n: number): void => {
      if (e) return reject(fsError(op, file, e));
      if (n === 0) {
        if (op === 'write') return reject(new XenError('EIO', `write ${file} at byte ${pos}: no progress`));
        if (atEnd === 'error') return reject(new XenError('EIO', `read ${file} at byte ${pos}: the file ends there`));
        for (const b of list) b.fill(0);
        return resolve();
      }
      left -= n;
      pos += n;
      if (left === 0) {
        onEnd?.(pos);
        return resolve();
      }
      list = advance(list, n);
      if (op === 'read') readv(fd, list, pos, done);
      else writev(fd, list, pos, done);
    };
    if (op === 'read') readv(fd, list, pos, done);
    else writev(fd, list, pos, done);
  });
}

/** One buffer read from the file, the whole of it there (an image's metadata). */
export const pread = (fd: number, file: string, buf: Uint8Array, position: number) => transfer('read', fd, file, [buf], position, 'error');
export const pwrite = (fd: number, file: string, buf: Uint8Array, position: number) => transfer('write', fd, file, [buf], position, 'error');

/** The buffer list after its first `n` bytes. */
function advance(bufs: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const b of bufs) {
    if (n >= b.byteLength) {
      n -= b.byteLength;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}
