// The image file under a qcow2 disk: positioned vectored I/O with the callback fs API (one
// system call per run, several in flight on libuv's pool, as raw.ts does) and its size, which
// grows as clusters are appended. Errors name the file and the operation.
//
// A writable disk's file is extended ahead of its appends (`growAhead`, growahead.ts), as VHD's
// is. A write that would end past an extension still in flight waits for it, so no ftruncate
// ever cuts data. Close cuts the space extended ahead off again, once the last writer of the
// file in this process closes it, and never below any of their writes: a live migration opens
// its destination's leaf again while the mirror's writer still has it open, and the new one
// appends past the first one's extension (`FileGrowth`).
import { close } from 'node:fs';
import { promisify } from 'node:util';
import { datasync } from '../disk.js';
import { transfer } from '../fileio.js';
import { GrowAhead } from '../growahead.js';
import { openNamed } from '../named.js';

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
  #growth: FileGrowth | undefined;
  /** The file's size (as opened, and as writes and extensions made it); extending it ahead only once growAhead is called. */
  #grow: GrowAhead;
  /** Told the end of each completed write (made once: no allocation a write). */
  readonly #wrote = (end: number): void => this.#grow.wrote(end);

  private constructor(readonly path: string, fd: number, size: number, key: string) {
    this.#fd = fd;
    this.#key = key;
    this.#grow = new GrowAhead(fd, this, 0, size);
  }

  /** The file's size: it grows as clusters are appended. */
  get size(): number {
    return this.#grow.size;
  }

  /** Extend the file `bytes` ahead of writes that near its end (a writable disk that appends). */
  growAhead(bytes: number): void {
    if (this.#growth) return;
    const size = this.#grow.size;
    this.#grow = new GrowAhead(this.#fd, this, bytes, size);
    let g = growth.get(this.#key);
    if (!g) growth.set(this.#key, (g = { users: 0, opened: undefined, written: size }));
    g.users++;
    this.#growth = g;
  }

  /** A regular file, opened as every named file is (named.ts: no blocking on FIFOs, kinds checked). */
  static async open(path: string, write: boolean, noFollow = false): Promise<ImageFile> {
    const { fd, stats } = await openNamed(path, { what: 'qcow2 image', kind: 'file', write, noFollow });
    return new ImageFile(path, fd, stats.size, `${stats.dev}:${stats.ino}`);
  }

  /** Fill `bufs` from `pos`; bytes past the end of the file read as zeros. */
  read(pos: number, bufs: readonly Uint8Array[]): Promise<void> {
    return transfer('read', this.#fd, this.path, bufs, pos, 'zeros');
  }

  write(pos: number, bufs: readonly Uint8Array[]): Promise<void> {
    const g = this.#growth;
    if (g) {
      const grow = this.#grow;
      let end = pos;
      for (const b of bufs) end += b.byteLength;
      if (end > g.written) g.written = end;
      const wait = grow.waitFor(end);
      if (wait) return wait.then(() => this.write(pos, bufs));
      if (grow.nearing(end)) {
        // Past the furthest write issued by any writer of the file, which it therefore never cuts.
        g.opened ??= grow.size;
        grow.start(g.written + grow.ahead);
      }
    }
    return transfer('write', this.#fd, this.path, bufs, pos, 'zeros', this.#wrote);
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
    const grow = this.#grow;
    this.#growth = undefined;
    try {
      await grow.settled();
      if (g && --g.users === 0) growth.delete(this.#key);
      if (g && g.users === 0 && g.opened !== undefined) await grow.cut(Math.max(g.opened, g.written));
    } finally {
      this.#fd = -1;
      await closeP(fd);
    }
  }
}
