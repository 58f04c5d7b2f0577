// A raw image file: sector n is at byte n * 512. I/O is fileio.ts's transfer (readv/writev, one
// system call per request); a read past the end of a file that shrank reads zeros. Flush is
// fdatasync.
import { close, fstatSync } from 'node:fs';
import { promisify } from 'node:util';
import { SECTOR_SIZE, checkRange, checkWritable, datasync, sgBytes, type Disk } from './disk.js';
import { transfer } from './fileio.js';
import { openNamed } from './named.js';

const closeP = promisify(close);

/** Zeros written per system call when discarding. */
const ZERO_CHUNK = 1 << 20;

const PAGE = 4096;

export class RawFile implements Disk {
  readonly sectors: number;
  readonly features = { flush: true, discard: true, secureDiscard: true } as const;
  #fd: number;
  #zeros: Uint8Array | null = null;
  /** A regular file of a page or more (a block device's st_blocks says nothing; a smaller file's data may live in its inode). */
  readonly #sparseable: boolean;
  /** Seen to hold data: kept (a discard may free blocks again, but "may hold data" is always safe). */
  #held = false;

  private constructor(readonly path: string, fd: number, sectors: number, readonly readOnly: boolean, sparseable: boolean) {
    this.#fd = fd;
    this.sectors = sectors;
    this.#sparseable = sparseable;
  }

  /**
   * Open an existing image: a regular file or a block device, opened without blocking (named.ts).
   * A size that is not whole sectors is rounded down, as blkback does.
   */
  /** `noFollow`: a chain's link, opened at the real path its walk checked (never a symbolic link swapped in since). */
  static async open(path: string, opts: { readOnly: boolean; noFollow?: boolean }): Promise<RawFile> {
    const { fd, stats: st } = await openNamed(path, { what: 'disk image', kind: 'disk', write: !opts.readOnly, noFollow: opts.noFollow });
    return new RawFile(path, fd, Math.floor(st.size / SECTOR_SIZE), opts.readOnly, st.isFile() && st.size >= PAGE);
  }

  read(sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    const bytes = sgBytes(bufs);
    checkRange(this, sector, bytes / SECTOR_SIZE);
    return transfer('read', this.#fd, this.path, bufs, sector * SECTOR_SIZE, 'zeros');
  }

  write(sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    checkWritable(this);
    const bytes = sgBytes(bufs);
    checkRange(this, sector, bytes / SECTOR_SIZE);
    return transfer('write', this.#fd, this.path, bufs, sector * SECTOR_SIZE, 'zeros');
  }

  /**
   * Whether the sectors may hold data. Node has neither lseek's SEEK_DATA/SEEK_HOLE nor FIEMAP, so
   * only a file with no block allocated at all (a fresh sparse VDI; st_blocks counts blocks
   * reserved for data not yet written back too) is known to hold none, anywhere. Asked of the
   * file (one fstat) until it holds some, as another writer may have written since; a copy asks
   * per chunk, a qcow2 over it per cluster.
   */
  holdsData(): boolean {
    this.#held ||= !this.#sparseable || fstatSync(this.#fd).blocks > 0;
    return this.#held;
  }

  flush(): Promise<void> {
    return datasync(this.#fd, this.path);
  }

  /** Without fallocate in Node, discarding writes zeros: reads then see zeros, as a secure discard requires. */
  async discard(sector: number, count: number): Promise<void> {
    checkWritable(this);
    checkRange(this, sector, count);
    this.#zeros ??= new Uint8Array(ZERO_CHUNK);
    for (let off = 0; off < count * SECTOR_SIZE; off += ZERO_CHUNK) {
      const n = Math.min(ZERO_CHUNK, count * SECTOR_SIZE - off);
      await transfer('write', this.#fd, this.path, [this.#zeros.subarray(0, n)], sector * SECTOR_SIZE + off, 'zeros');
    }
  }

  async close(): Promise<void> {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    await closeP(fd);
  }
}
