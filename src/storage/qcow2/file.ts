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
// Close cuts the space extended ahead off again, once the last writer of the file in this
// process closes it, and never below any of their writes: a live migration opens its
// destination's leaf again while the mirror's writer still has it open, and the new one appends
// past the first one's extension (`FileGrowth`).
import { close, ftruncate, readv, writev } from 'node:fs';
import { promisify } from 'node:util';
import { XenError } from '../../errors.js';
import { datasync, fsError, truncate } from '../disk.js';
import { openNamed } from '../named.js';
import { advance } from '../raw.js';

const closeP = promisify(close);

/** What the writers of one file (by device and inode) in this process share. */
interface FileGrowth {
  users: number;
  /** The size before the first extension (undefined: never extended), which the last close keeps at least. */
  opened: number | undefined;
  /** The end of the furthest write any of them issued. */
  written: number;
}
const growth = new Map<string, FileGrowth>();

export class ImageFile {
  #fd: number;
  readonly #key: string;
  /** Bytes to extend ahead by (0: never); the file's writers' shared record once set. */
  #ahead = 0;
  #growth: FileGrowth | undefined;
  /** What the file is, or is being, extended to; the ftruncate in flight; whether one failed (then writes extend the file themselves). */
  #extendedTo: number;
  #extending: Promise<void> | undefined;
  #extendFailed = false;

  private constructor(readonly path: string, fd: number, public size: number, key: string) {
    this.#fd = fd;
    this.#key = key;
    this.#extendedTo = size;
  }

  /** Extend the file `bytes` ahead of writes that near its end (a writable disk that appends). */
  growAhead(bytes: number): void {
    if (this.#growth) return;
    this.#ahead = bytes;
    let g = growth.get(this.#key);
    if (!g) growth.set(this.#key, (g = { users: 0, opened: undefined, written: this.size }));
    g.users++;
    this.#growth = g;
  }

  /** A regular file, opened as every named file is (named.ts: no blocking on FIFOs, kinds checked). */
  static async open(path: string, write: boolean): Promise<ImageFile> {
    const { fd, stats } = await openNamed(path, { what: 'qcow2 image', kind: 'file', write });
    return new ImageFile(path, fd, stats.size, `${stats.dev}:${stats.ino}`);
  }

  /** Fill `bufs` from `pos`; bytes past the end of the file read as zeros. */
  read(pos: number, bufs: readonly Uint8Array[]): Promise<void> {
    return this.#move('read', pos, bufs);
  }

  write(pos: number, bufs: readonly Uint8Array[]): Promise<void> {
    const g = this.#growth;
    if (g) {
      let end = pos;
      for (const b of bufs) end += b.byteLength;
      if (end > g.written) g.written = end;
      if (this.#extending) {
        if (end > this.#extendedTo) return this.#extending.then(() => this.write(pos, bufs));
      } else if (!this.#extendFailed && end > this.#extendedTo - this.#ahead / 2) this.#extend();
    }
    return this.#move('write', pos, bufs);
  }

  /** ftruncate to `#ahead` past the furthest write issued (by any writer), which it therefore never cuts. */
  #extend(): void {
    const g = this.#growth!;
    const to = g.written + this.#ahead;
    g.opened ??= this.size;
    this.#extendedTo = to;
    this.#extending = new Promise<void>((resolve) => ftruncate(this.#fd, to, (e) => {
      this.#extending = undefined;
      if (e) this.#extendFailed = true; // a write past the end still extends the file: slower, not wrong
      else if (to > this.size) this.size = to;
      resolve();
    }));
  }

  sync(): Promise<void> {
    return datasync(this.#fd, this.path);
  }

  /**
   * Close; the last writer first cuts off the space extended ahead and never written (the file
   * ends where it would have without it).
   */
  async close(): Promise<void> {
    const fd = this.#fd;
    if (fd < 0) return;
    const g = this.#growth;
    this.#growth = undefined;
    try {
      await this.#extending;
      if (g && --g.users === 0) growth.delete(this.#key);
      if (g && g.users === 0 && g.opened !== undefined) {
        const end = Math.max(g.opened, g.written);
        await truncate(fd, this.path, end);
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

