// Copying a disk's contents into a fresh image, for vdi-import and vdi-export: the source is
// read through its Disk (so a backing chain is flattened and the copy references no file
// outside its SR), in fixed-size chunks (memory stays bounded whatever the size), and runs of
// zero sectors are not written, so the new image stays sparse.
import { open, rm, stat } from 'node:fs/promises';
import { XenError } from '../errors.js';
import { SECTOR_SIZE } from './disk.js';
import { imageFormat } from './open.js';
/** Bytes read per step of a copy. */
export const COPY_CHUNK_BYTES = 1 << 20;
const VHD_COOKIE = Buffer.from('conectix');
const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);
/** The format of an image file from its own marks: a VHD footer cookie (at the end, or its copy at the start), qcow2's magic, else raw. */
export async function detectFormat(path) {
    const fh = await open(path, 'r');
    try {
        const { size } = await fh.stat();
        const head = Buffer.alloc(SECTOR_SIZE);
        await fh.read(head, 0, SECTOR_SIZE, 0);
        if (head.subarray(0, 4).equals(QCOW2_MAGIC))
            return 'qcow2';
        if (head.subarray(0, 8).equals(VHD_COOKIE))
            return 'vhd';
        if (size >= SECTOR_SIZE) {
            const tail = Buffer.alloc(SECTOR_SIZE);
            await fh.read(tail, 0, SECTOR_SIZE, size - SECTOR_SIZE);
            if (tail.subarray(0, 8).equals(VHD_COOKIE))
                return 'vhd';
        }
        return 'raw';
    }
    finally {
        await fh.close();
    }
}
/** A source image to copy from: a regular file, of the format given (checked against its marks) or found; opened read-only. */
export async function openSource(path, format) {
    const st = await stat(path).catch((e) => {
        throw new XenError(e.code === 'ENOENT' ? 'ENOENT' : 'EACCES', `${path}: ${e.message}`);
    });
    if (!st.isFile())
        throw new XenError('EINVAL', `${path} is not a regular file`);
    const found = await detectFormat(path);
    if (format !== undefined && format !== found)
        throw new XenError('EINVAL', `${path} is a ${found} image, not ${format}`);
    return { format: found, disk: await imageFormat(found).open(path, { readOnly: true }) };
}
function isZero(b) {
    for (let i = 0; i < b.length; i++)
        if (b[i] !== 0)
            return false;
    return true;
}
/**
 * Copy every sector of `src` to `dst` (at least as large), writing only runs of sectors that
 * are not all zeros (the destination is new, so it reads zeros there already), then flush.
 */
export async function copyDisk(src, dst, ctl = {}) {
    const { progress, signal } = ctl;
    if (dst.sectors < src.sectors)
        throw new XenError('EINVAL', `the destination (${dst.sectors} sectors) is smaller than the source (${src.sectors})`);
    const perChunk = COPY_CHUNK_BYTES / SECTOR_SIZE;
    const buf = new Uint8Array(COPY_CHUNK_BYTES);
    for (let at = 0; at < src.sectors; at += perChunk) {
        signal?.throwIfAborted();
        const n = Math.min(perChunk, src.sectors - at);
        const chunk = buf.subarray(0, n * SECTOR_SIZE);
        await src.read(at, [chunk]);
        let run = -1;
        for (let s = 0; s <= n; s++) {
            const zero = s === n || isZero(chunk.subarray(s * SECTOR_SIZE, (s + 1) * SECTOR_SIZE));
            if (!zero && run < 0)
                run = s;
            if (zero && run >= 0) {
                await dst.write(at + run, [chunk.slice(run * SECTOR_SIZE, s * SECTOR_SIZE)]);
                run = -1;
            }
        }
        progress?.(Math.min((at + n) * SECTOR_SIZE, src.sectors * SECTOR_SIZE), src.sectors * SECTOR_SIZE);
    }
    await dst.flush();
}
/** A new image of `format` at `path` (which must not exist) holding a copy of `src`; the partial file is removed on failure. */
export async function writeImage(src, path, format, ctl = {}) {
    const f = imageFormat(format);
    await f.create(path, src.sectors * SECTOR_SIZE);
    try {
        const dst = await f.open(path, { readOnly: false });
        try {
            await copyDisk(src, dst, ctl);
        }
        finally {
            await dst.close();
        }
    }
    catch (e) {
        await rm(path, { force: true });
        throw e;
    }
}
//# sourceMappingURL=copy.js.map