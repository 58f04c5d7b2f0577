// What a storage repository asks of a qcow2 image besides I/O: its sizes, and growing it. An
// image grows within the L1 table's clusters (64 KiB clusters: 4 TiB per L1 cluster); moving
// the L1 table to grow further is not supported.
import { stat } from 'node:fs/promises';
import { XenError } from '../../errors.js';
import { SECTOR_SIZE } from '../disk.js';
import { ImageFile } from './file.js';
import { MAX_CLUSTER_BITS, MAX_VIRTUAL_SIZE, parseHeader } from './header.js';
async function header(file) {
    const first = new Uint8Array(Math.min(file.size, 2 ** MAX_CLUSTER_BITS));
    await file.read(0, [first]);
    return parseHeader(file.path, first, file.size);
}
export async function qcow2Info(path) {
    const file = await ImageFile.open(path, false);
    try {
        const h = await header(file);
        return { virtualSize: h.size, physicalUtilisation: (await stat(path)).blocks * 512 };
    }
    finally {
        await file.close();
    }
}
/**
 * Point an image at another backing file (after a coalesce): the new name, stored relative to
 * the image's directory as qemu-img rebase -u does, in place of the old one and its size in one
 * header write. The name may not be longer than the old one (sm's names are all one length).
 */
export async function rebaseQcow2(path, backingName) {
    const file = await ImageFile.open(path, true);
    try {
        const h = await header(file);
        if (h.backingFile === undefined)
            throw new XenError('EINVAL', `${path}: the image has no backing file to change`);
        const name = Buffer.from(backingName, 'utf8');
        if (name.length > h.backingFileSize) {
            throw new XenError('ENOSPC', `${path}: the backing file name ${backingName} is longer than the ${h.backingFileSize} bytes the header has for it`);
        }
        const buf = new Uint8Array(h.backingFileOffset + h.backingFileSize);
        await file.read(0, [buf]);
        buf.fill(0, h.backingFileOffset);
        buf.set(name, h.backingFileOffset);
        new DataView(buf.buffer).setUint32(16, name.length);
        await file.write(0, [buf]);
        await file.sync();
    }
    finally {
        await file.close();
    }
}
/** Grow the image to `size` bytes: new L1 entries zeroed and synced, then the header's size and l1_size in one write. */
export async function resizeQcow2(path, size) {
    const file = await ImageFile.open(path, true);
    try {
        const h = await header(file);
        if (!Number.isSafeInteger(size) || size % SECTOR_SIZE !== 0 || size < h.size || size > MAX_VIRTUAL_SIZE) {
            throw new XenError('EINVAL', `${path}: cannot resize from ${h.size} to ${size} bytes (qcow2 images grow, by whole sectors)`);
        }
        const cs = 2 ** h.clusterBits;
        const l1Size = Math.max(h.l1Size, Math.ceil(size / (cs * (cs / 8))));
        const capacity = (Math.ceil((h.l1Size * 8) / cs) * cs) / 8;
        if (l1Size > capacity) {
            throw new XenError('EOPNOTSUPP', `${path}: growing to ${size} bytes needs a larger L1 table (${l1Size} entries, room for ${capacity}): not supported`);
        }
        if (l1Size > h.l1Size) {
            await file.write(h.l1TableOffset + h.l1Size * 8, [new Uint8Array((l1Size - h.l1Size) * 8)]);
            await file.sync();
        }
        const fields = new Uint8Array(16); // size at 24, crypt_method at 32, l1_size at 36
        const v = new DataView(fields.buffer);
        v.setBigUint64(0, BigInt(size));
        v.setUint32(8, h.cryptMethod);
        v.setUint32(12, l1Size);
        await file.write(24, [fields]);
        await file.sync();
    }
    finally {
        await file.close();
    }
}
//# sourceMappingURL=resize.js.map