// The image file under a qcow2 disk: positioned vectored I/O with the callback fs API (one
// system call per run, several in flight on libuv's pool, as raw.ts does) and its size, which
// grows as clusters are appended. Errors name the file and the operation.
import { close, fdatasync, readv, writev } from 'node:fs';
import { promisify } from 'node:util';
import { XenError } from '../../errors.js';
import { openNamed } from '../named.js';
import { advance } from '../raw.js';
const closeP = promisify(close);
export class ImageFile {
    path;
    size;
    #fd;
    constructor(path, fd, size) {
        this.path = path;
        this.size = size;
        this.#fd = fd;
    }
    /** A regular file, opened as every named file is (named.ts: no blocking on FIFOs, kinds checked). */
    static async open(path, write) {
        const { fd, stats } = await openNamed(path, { what: 'qcow2 image', kind: 'file', write });
        return new ImageFile(path, fd, stats.size);
    }
    /** Fill `bufs` from `pos`; bytes past the end of the file read as zeros. */
    read(pos, bufs) {
        return this.#move('read', pos, bufs);
    }
    write(pos, bufs) {
        return this.#move('write', pos, bufs).then(() => {
            let end = pos;
            for (const b of bufs)
                end += b.byteLength;
            if (end > this.size)
                this.size = end;
        });
    }
    sync() {
        return new Promise((resolve, reject) => fdatasync(this.#fd, (e) => (e ? reject(this.#error('fdatasync', e)) : resolve())));
    }
    async close() {
        const fd = this.#fd;
        if (fd < 0)
            return;
        this.#fd = -1;
        await closeP(fd);
    }
    #error(op, e) {
        return new XenError(e.code === 'ENOSPC' ? 'ENOSPC' : 'EIO', `${op} ${this.path}: ${e.code ?? e.message}`);
    }
    #move(op, pos, bufs) {
        return new Promise((resolve, reject) => {
            let list = bufs;
            let left = 0;
            for (const b of list)
                left += b.byteLength;
            const step = (e, n) => {
                if (e)
                    return reject(this.#error(op, e));
                if (n === 0 && op === 'read') {
                    for (const b of list)
                        b.fill(0);
                    return resolve();
                }
                if (n === 0)
                    return reject(new XenError('EIO', `write ${this.path}: no progress`));
                left -= n;
                if (left === 0)
                    return resolve();
                pos += n;
                list = advance(list, n);
                issue();
            };
            const issue = () => {
                if (op === 'read')
                    readv(this.#fd, list, pos, step);
                else
                    writev(this.#fd, list, pos, step);
            };
            issue();
        });
    }
}
//# sourceMappingURL=file.js.map