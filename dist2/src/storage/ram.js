// A RAM disk (Linux's brd): sectors in one private buffer of the backend's thread. Every
// operation completes synchronously.
import { XenError } from '../errors.js';
import { SECTOR_SIZE, checkRange, checkWritable, sgBytes } from './disk.js';
/** One typed array cannot exceed 2^32 elements (DESIGN.md §10); 4 GiB is plenty for a RAM disk. */
const MAX_BYTES = 2 ** 32 - SECTOR_SIZE;
export class RamDisk {
    sectors;
    readOnly = false;
    features = { flush: true, discard: true, secureDiscard: true };
    #data;
    constructor(bytes) {
        if (!Number.isInteger(bytes) || bytes < SECTOR_SIZE || bytes % SECTOR_SIZE !== 0 || bytes > MAX_BYTES) {
            throw new XenError('EINVAL', `a RAM disk is a whole number of ${SECTOR_SIZE}-byte sectors up to 4 GiB, not ${bytes} bytes`);
        }
        this.#data = new Uint8Array(bytes);
        this.sectors = bytes / SECTOR_SIZE;
    }
    read(sector, bufs) {
        let off = sector * SECTOR_SIZE;
        if (bufs.length === 1) {
            // The common case (one segment): no range arithmetic beyond the check.
            const b = bufs[0];
            checkRange(this, sector, b.byteLength / SECTOR_SIZE);
            b.set(this.#data.subarray(off, off + b.byteLength));
            return;
        }
        checkRange(this, sector, sgBytes(bufs) / SECTOR_SIZE);
        for (const b of bufs) {
            b.set(this.#data.subarray(off, off + b.byteLength));
            off += b.byteLength;
        }
    }
    write(sector, bufs) {
        checkWritable(this);
        checkRange(this, sector, sgBytes(bufs) / SECTOR_SIZE);
        let off = sector * SECTOR_SIZE;
        for (const b of bufs) {
            this.#data.set(b, off);
            off += b.byteLength;
        }
    }
    flush() { }
    discard(sector, count) {
        checkWritable(this);
        checkRange(this, sector, count);
        this.#data.fill(0, sector * SECTOR_SIZE, (sector + count) * SECTOR_SIZE);
    }
    async close() { }
}
//# sourceMappingURL=ram.js.map