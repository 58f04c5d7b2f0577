// A RAM disk (Linux's brd): sectors in one private buffer of the backend's thread. Every
// operation completes synchronously.
import { XenError } from '../errors.js';
import { copyBytes } from '../hypervisor/copy.js';
import { SECTOR_SIZE, checkRange, checkWritable, sgBytes, type Disk } from './disk.js';

/** One typed array cannot exceed 2^32 elements (DESIGN.md §10); 4 GiB is plenty for a RAM disk. */
const MAX_BYTES = 2 ** 32 - SECTOR_SIZE;

export class RamDisk implements Disk {
  readonly sectors: number;
  readonly readOnly = false;
  readonly features = { flush: true, discard: true, secureDiscard: true } as const;
  readonly #data: Uint8Array;

  constructor(bytes: number) {
    if (!Number.isInteger(bytes) || bytes < SECTOR_SIZE || bytes % SECTOR_SIZE !== 0 || bytes > MAX_BYTES) {
      throw new XenError('EINVAL', `a RAM disk is a whole number of ${SECTOR_SIZE}-byte sectors up to 4 GiB, not ${bytes} bytes`);
    }
    this.#data = new Uint8Array(bytes);
    this.sectors = bytes / SECTOR_SIZE;
  }

  read(sector: number, bufs: readonly Uint8Array[]): void {
    let off = sector * SECTOR_SIZE;
    if (bufs.length === 1) {
      // The common case (one segment): no range arithmetic beyond the check.
      const b = bufs[0]!;
      checkRange(this, sector, b.byteLength / SECTOR_SIZE);
      // A guest's granted page is shared memory: copyBytes, not set() (V8's relaxed copy, copy.ts).
      copyBytes(b, this.#data.subarray(off, off + b.byteLength));
      return;
    }
    checkRange(this, sector, sgBytes(bufs) / SECTOR_SIZE);
    for (const b of bufs) {
      copyBytes(b, this.#data.subarray(off, off + b.byteLength));
      off += b.byteLength;
    }
  }

  write(sector: number, bufs: readonly Uint8Array[]): void {
    checkWritable(this);
    checkRange(this, sector, sgBytes(bufs) / SECTOR_SIZE);
    let off = sector * SECTOR_SIZE;
    for (const b of bufs) {
      copyBytes(this.#data, b, off);
      off += b.byteLength;
    }
  }

  flush(): void {}

  discard(sector: number, count: number): void {
    checkWritable(this);
    checkRange(this, sector, count);
    this.#data.fill(0, sector * SECTOR_SIZE, (sector + count) * SECTOR_SIZE);
  }

  async close(): Promise<void> {}
}
