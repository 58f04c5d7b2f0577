// Positioned I/O on an image file with the callback fs API (readv/writev: one system call per
// transfer, several in flight on libuv's pool, as raw.ts does), every byte or an error that
// names the file. A read past the end of the file is an error here: the image's metadata says
// the data is there.
import { fdatasync, ftruncate, readv, writev } from 'node:fs';
import { XenError } from '../../errors.js';
import { advance } from '../raw.js';
export function fsError(op, file, e) {
    // A file that cannot grow (ENOSPC, or EFBIG past RLIMIT_FSIZE) is a full disk to the guest.
    const errno = e.code === 'ENOSPC' || e.code === 'EFBIG' || e.code === 'EDQUOT' ? 'ENOSPC' : 'EIO';
    return new XenError(errno, `${op} ${file}: ${e.code ?? e.message}`);
}
export function transfer(op, fd, file, bufs, position) {
    let left = 0;
    for (const b of bufs)
        left += b.byteLength;
    return new Promise((resolve, reject) => {
        let list = bufs;
        let pos = position;
        const step = () => {
            const done = (e, n) => {
                if (e)
                    return reject(fsError(op, file, e));
                if (n === 0)
                    return reject(new XenError('EIO', `${op} ${file} at byte ${pos}: the file ends there`));
                left -= n;
                pos += n;
                if (left === 0)
                    return resolve();
                list = advance(list, n);
                step();
            };
            if (op === 'read')
                readv(fd, list, pos, done);
            else
                writev(fd, list, pos, done);
        };
        if (left === 0)
            resolve();
        else
            step();
    });
}
export const pread = (fd, file, buf, position) => transfer('read', fd, file, [buf], position);
export const pwrite = (fd, file, buf, position) => transfer('write', fd, file, [buf], position);
export function datasync(fd, file) {
    return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(fsError('fdatasync', file, e)) : resolve())));
}
export function truncate(fd, file, bytes) {
    return new Promise((resolve, reject) => ftruncate(fd, bytes, (e) => (e ? reject(fsError('ftruncate', file, e)) : resolve())));
}
//# sourceMappingURL=io.js.map