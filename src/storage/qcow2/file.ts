// The image file under a qcow2 disk: positioned vectored I/O with the callback fs API (one
// system call per run, several in flight on libuv's pool, as raw.ts does) and its size, which
// grows as clusters are appended. Errors name the file and the operation.
//
// A writable disk's file is extended ahead of its appends (`growAhead`), as VHD's is: on ext4
// a write that starts past the end of the file (a new cluster's 4 KiB at a random offset in it)
// zeroes the partial block, grows the file and marks the inode dirty (in a journal handle on a
// journalled file system), all under the inode lock every write of the file takes: about three
// inode updates per allocating write were counted, where a write inside the file makes none.
// An extension is one ftruncate, issued beyond every write issued so far, and a write that
// would end past an extension still in flight waits for it: so no ftruncate ever cuts data.
// Close cuts the space extended ahead off again.
import { close, fdatasync, ftruncate, readv, writev } from 'node:fs';
import { promisify } from 'node:util';
import { XenError } from '../../errors.js';
import { fsError } from '../disk.js';
import { openNamed } from '../named.js';
import { advance } from '../raw.js';

const closeP = promisify(close);

export class ImageFile {
  #fd: number;
  /** Bytes to extend ahead by (0: never), and the end of the furthest write issued. */
  #ahead = 0;
  #written: number;
  /** What the file is, or is being, extended to; the ftruncate in flight; whether one failed (then writes extend the file themselves). */
  #extendedTo: number;
  #extending: Promise<void> | undefined;
  #extendFailed = false;
  /** The size before the first extension (undefined: never extended), which close keeps at least. */
  #opened: number | undefined;

  private constructor(readonly path: string, fd: number, public size: number) {
    this.#fd = fd;
    this.#written = size;
    this.#extendedTo = size;
  }

  /** Extend the file `bytes` ahead of writes that near its end (a writable disk that appends). */
  growAhead(bytes: number): void {
    this.#ahead = bytes;
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
    if (this.#ahead > 0) {
      let end = pos;
      for (const b of bufs) end += b.byteLength;
      if (end > this.#written) this.#written = end;
      if (this.#extending) {
        if (end > this.#extendedTo) return this.#extending.then(() => this.write(pos, bufs));
      } else if (!this.#extendFailed && end > this.#extendedTo - this.#ahead / 2) this.#extend();
    }
    return this.#move('write', pos, bufs);
  }

  /** ftruncate to `#ahead` past the furthest write issued, which it therefore never cuts. */
  #extend(): void {
    const to = this.#written + this.#ahead;
    this.#opened ??= this.size;
    this.#extendedTo = to;
    this.#extending = new Promise<void>((resolve) => ftruncate(this.#fd, to, (e) => {
      this.#extending = undefined;
      if (e) this.#extendFailed = true; // a write past the end still extends the file: slower, not wrong
      else if (to > this.size) this.size = to;
      resolve();
    }));
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.#fd, (e) => (e ? reject(this.#error('fdatasync', e)) : resolve())));
  }

  /** Close; space extended ahead and never written is cut off first (the file ends where it would have without it). */
  async close(): Promise<void> {
    const fd = this.#fd;
    if (fd < 0) return;
    try {
      await this.#extending;
      if (this.#opened !== undefined) {
        const end = Math.max(this.#opened, this.#written);
        await new Promise<void>((resolve, reject) => ftruncate(fd, end, (e) => (e ? reject(this.#error('ftruncate', e)) : resolve())));
        this.size = end;
      }
    } finally {
      this.#fd = -1;
      await closeP(fd);
    }
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

