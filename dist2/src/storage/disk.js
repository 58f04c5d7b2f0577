// Disk backends behind one interface: what a block backend reads and writes. Sector numbers
// and counts are in 512-byte units (blkif's sector unit); buffers are whole sectors. A method
// may complete synchronously (returns undefined), which lets a backend answer a RAM disk's
// request in the same pass that read it, or return a promise (file I/O, later VHD).
import { XenError } from '../errors.js';
/** The sector unit of blkif (sector_number, first_sect/last_sect, `sectors`) and of every disk: 512 bytes. */
export const SECTOR_SHIFT = 9;
export const SECTOR_SIZE = 1 << SECTOR_SHIFT;
/** Total bytes of a buffer list, checked to be whole sectors. */
export function sgBytes(bufs) {
    let n = 0;
    for (const b of bufs)
        n += b.byteLength;
    if (n % SECTOR_SIZE !== 0)
        throw new XenError('EINVAL', `I/O of ${n} bytes is not a whole number of ${SECTOR_SIZE}-byte sectors`);
    return n;
}
/** Range check every backend repeats (the block backend checks first; this is the last line). */
export function checkRange(disk, sector, count) {
    if (!Number.isSafeInteger(sector) || !Number.isSafeInteger(count) || sector < 0 || count < 0 || sector > disk.sectors - count) {
        throw new XenError('ERANGE', `sectors ${sector}+${count} are outside the disk (${disk.sectors} sectors)`);
    }
}
export function checkWritable(disk) {
    if (disk.readOnly)
        throw new XenError('EROFS', 'the disk is read-only');
}
//# sourceMappingURL=disk.js.map