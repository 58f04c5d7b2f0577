// The image file under a qcow2 disk: positioned vectored I/O with the callback fs API (one
// system call per run, several in flight on libuv's pool, as raw.ts does) and its size, which
// grows as clusters are appended. Errors name the file and the operation.
import { close, fdatasync, readv, writev } from 'node:fs';
import { promisify } from 'node:util';
import { XenError } from '../../errors.js';
import { fsError } from '../disk.js';
import { openNamed } from '../named.js';
import { advance } from '../raw.js';

const closeP = promisify(close);

export class ImageFile {
  #fd: number;
  private constructor(readonly path: string, fd: number, public size: number) {
    this.#fd = fd;
  }

  /** A regular file, opened as every named file is (named.ts: no blocking on FIFOs, kinds checked). */
  static async open(path: string, write: boolean): Promise<ImageFile> {
    const { fd, stats } = await openNamed(path, { what: 'qcow2 image', kind: 'file', write });
    return new ImageFile(path, fd, stats.size);
  }

  /** Fill `bufs` from `pos`; bytes past the end of the file read as zeros. */
  read(pos: number, bufs: readonly Uint8Array[]): Promise<void> {
    return this.#move('read', pos, bufs);
  }

  write(pos: number, bufs: readonly Uint8Array[]): Promise<void> {
    return this.#move('write', pos, bufs);
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.#fd, (e) => (e ? reject(this.#error('fdatasync', e)) : resolve())));
  }

  async close(): Promise<void> {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    await closeP(fd);
  }

  #error(op: string, e: NodeJS.ErrnoException): XenError {
    return fsError(op, this.path, e);
  }

  #move(op: 'read' | 'write', pos: number, bufs: readonly Uint8Array[]): Promise<void> {
    return new Promise((resolve, reject) => {
      let list = bufs as Uint8Array[];
      let left = 0;
      for (const b of list) left += b.byteLength;
      const step = (e: NodeJS.ErrnoException | null, n: number): void => {
        if (e) return reject(this.#error(op, e));
        if (n === 0 && op === 'read') {
          for (const b of list) b.fill(0);
          return resolve();
        }
        if (n === 0) return reject(new XenError('EIO', `write ${this.path}: no progress`));
        left -= n;
        pos += n;
        if (left === 0) {
          // The file grows as clusters are appended (noted here, not in a step of its own: one per request).
          if (op === 'write' && pos > this.size) this.size = pos;
          return resolve();
        }
        list = advance(list, n);
        issue();
      };
      const issue = (): void => {
        if (op === 'read') readv(this.#fd, list, pos, step);
        else writev(this.#fd, list, pos, step);
      };
      issue();
    });
  }
}

