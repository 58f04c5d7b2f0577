// The child of durability.test.ts: a guest writes records through blkfront and blkback to a
// qcow2 image, each into a cluster not yet allocated, flushing after each, and reports every
// record once its flush is acknowledged. The parent kills it with SIGKILL in the middle of this.
import { Rig } from '../../../support/blk.js';
const image = process.argv[2];
const rig = new Rig();
const g = rig.guest();
await rig.attach(g, `vdev=xvda, format=qcow2, target=${image}`);
const f = await rig.front(g);
for (let i = 0;; i++) {
    const rec = new Uint8Array(4096).fill((i % 250) + 1);
    new DataView(rec.buffer).setUint32(0, i, true);
    // Record i in cluster 2i (64 KiB clusters are 128 sectors), at an offset inside it that varies.
    await f.write(recordSector(i), rec);
    // Unflushed writes too, in the cluster between: those may or may not be there after the kill.
    await f.write(recordSector(i) + 128, rec);
    await f.flush();
    process.stdout.write(`flushed ${i}\n`);
}
function recordSector(i) {
    return i * 256 + (i % 15) * 8;
}
//# sourceMappingURL=durable-child.js.map