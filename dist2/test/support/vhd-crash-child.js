// The child of the VHD kill -9 test (test/unit/storage/vhd/chain.test.ts): a guest writes
// records through blkfront to a VHD served by blkback (format=vhd), each record allocating a new
// block of the image, flushing after each, and reports every record once its flush is
// acknowledged. The parent kills it with SIGKILL in the middle of this.
import { pathToFileURL } from 'node:url';
import { Rig } from './blk.js';
export const RECORD_STRIDE_SECTORS = 128;
/** Where record i lies: in block i of a 64 KiB-block image, at a sector that moves inside it. */
export const recordSector = (i) => i * RECORD_STRIDE_SECTORS + (i % 100);
export function record(i) {
    const rec = new Uint8Array(4096).fill((i % 250) + 1);
    new DataView(rec.buffer).setUint32(0, i, true);
    return rec;
}
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
    const image = process.argv[2];
    const rig = new Rig();
    const g = rig.guest();
    await rig.attach(g, `vdev=xvda, format=vhd, target=${image}`);
    const f = await rig.front(g);
    const blocks = f.info().sizeSectors / RECORD_STRIDE_SECTORS;
    for (let i = 0; i < blocks / 2; i++) {
        await f.write(recordSector(i), record(i));
        // An unflushed write too, into a block of its own: it may or may not be there after the kill.
        await f.write(recordSector(blocks / 2 + i), record(i));
        await f.flush();
        process.stdout.write(`flushed ${i}\n`);
    }
    process.stdout.write('done\n');
}
//# sourceMappingURL=vhd-crash-child.js.map