// A raw image file: sector n is at byte n * 512. I/O uses the callback fs API with readv and
// writev (one system call per request, several requests in flight on libuv's pool: about
// twice the rate of fs.promises, DESIGN.md §10); flush is fdatasync.
import { close, fdatasync, readv, writev } from 'node:fs';
import { promisify } from 'node:util';
import { XenError } from '../errors.js';
import { SECTOR_SIZE, checkRange, checkWritable, sgBytes } from './disk.js';
import { openNamed } from './named.js';
const closeP = promisify(close);
/** Zeros written per system call when discarding. */
const ZERO_CHUNK = 1 << 20;
function ioError(op, path, e) {
    return new XenError('EIO', `${op} ${path}: ${e.code ?? e.message}`);
}
export class RawFile {
    path;
    readOnly;
    sectors;
    features = { flush: true, discard: true, secureDiscard: true };
    #fd;
    #zeros = null;
    constructor(path, fd, sectors, readOnly) {
        this.path = path;
        this.readOnly = readOnly;
        this.#fd = fd;
        this.sectors = sectors;
    }
    /**
     * Open an existing image: a regular file or a block device, opened without blocking (named.ts).
     * A size that is not whole sectors is rounded down, as blkback does.
     */
    static async open(path, opts) {
        const { fd, stats: st } = await openNamed(path, { what: 'disk image', kind: 'disk', write: !opts.readOnly });
        return new RawFile(path, fd, Math.floor(st.size / SECTOR_SIZE), opts.readOnly);
    }
    read(sector, bufs) {
        const bytes = sgBytes(bufs);
        checkRange(this, sector, bytes / SECTOR_SIZE);
        return this.#transfer('read', bufs, sector * SECTOR_SIZE, bytes);
    }
    write(sector, bufs) {
        checkWritable(this);
        const bytes = sgBytes(bufs);
        checkRange(this, sector, bytes / SECTOR_SIZE);
        return this.#transfer('write', bufs, sector * SECTOR_SIZE, bytes);
    }
    /** readv/writev until every byte moved; a read that meets the end of a shrunken file reads zeros. */
    #transfer(op, bufs, position, bytes) {
        return new Promise((resolve, reject) => {
            let list = bufs;
            let pos = position;
            let left = bytes;
            const step = () => {
                const done = (e, n) => {
                    if (e)
                        return reject(ioError(op, this.path, e));
                    if (n === 0 && op === 'read') {
                        for (const b of list)
                            b.fill(0);
                        return resolve();
                    }
                    left -= n;
                    pos += n;
                    if (left === 0)
                        return resolve();
                    list = advance(list, n);
                    step();
                };
                if (op === 'read')
                    readv(this.#fd, list, pos, done);
                else
                    writev(this.#fd, list, pos, done);
            };
            step();
        });
    }
    flush() {
        return new Promise((resolve, reject) => {
            fdatasync(this.#fd, (e) => (e ? reject(ioError('fdatasync', this.path, e)) : resolve()));
        });
    }
    /** Without fallocate in Node, discarding writes zeros: reads then see zeros, as a secure discard requires. */
    async discard(sector, count) {
        checkWritable(this);
        checkRange(this, sector, count);
        this.#zeros ??= new Uint8Array(ZERO_CHUNK);
        for (let off = 0; off < count * SECTOR_SIZE; off += ZERO_CHUNK) {
            const n = Math.min(ZERO_CHUNK, count * SECTOR_SIZE - off);
            await this.#transfer('write', [this.#zeros.subarray(0, n)], sector * SECTOR_SIZE + off, n);
        }
    }
    async close() {
        const fd = this.#fd;
        if (fd < 0)
            return;
        this.#fd = -1;
        await closeP(fd);
    }
}
/** The buffer list after its first `n` bytes. */
export function advance(bufs, n) {
    const out = [];
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
//# sourceMappingURL=raw.js.map