// Positioned I/O on an image file with the callback fs API (readv/writev: one system call per
// transfer, several in flight on libuv's pool, as raw.ts does), every byte or an error that
// names the file. A read past the end of the file is an error here: the image's metadata says
// the data is there.
import { readv, writev } from 'node:fs';
import { XenError } from '../../errors.js';
import { datasync, fsError, truncate } from '../disk.js';
import { advance } from '../raw.js';

export { datasync, fsError, truncate };

export function transfer(op: 'read' | 'write', fd: number, file: string, bufs: readonly Uint8Array[], position: number): Promise<void> {
  let left = 0;
  for (const b of bufs) left += b.byteLength;
  return new Promise((resolve, reject) => {
    let list = bufs;
    let pos = position;
    const step = (): void => {
      const done = (e: NodeJS.ErrnoException | null, n: number): void => {
        if (e) return reject(fsError(op, file, e));
        if (n === 0) return reject(new XenError('EIO', `${op} ${file} at byte ${pos}: the file ends there`));
        left -= n;
        pos += n;
        if (left === 0) return resolve();
        list = advance(list, n);
        step();
      };
      if (op === 'read') readv(fd, list as Uint8Array[], pos, done);
      else writev(fd, list as Uint8Array[], pos, done);
    };
    if (left === 0) resolve();
    else step();
  });
}

export const pread = (fd: number, file: string, buf: Uint8Array, position: number) => transfer('read', fd, file, [buf], position);
export const pwrite = (fd: number, file: string, buf: Uint8Array, position: number) => transfer('write', fd, file, [buf], position);

