// The child of durability.test.ts: a machine whose guest writes records to a raw image through
// blkfront and blkback, flushing after each, and reports every record once its flush is
// acknowledged. The parent kills it with SIGKILL in the middle of this.
import { RawFile } from '../../src/storage/raw.js';
import { Rig } from './blk.js';
const image = process.argv[2];
const rig = new Rig();
const g = rig.guest();
await rig.attach(g, `vdev=xvda, target=${image}`, await RawFile.open(image, { readOnly: false }));
const f = await rig.front(g);
for (let i = 0;; i++) {
    const rec = new Uint8Array(4096).fill((i % 250) + 1);
    new DataView(rec.buffer).setUint32(0, i, true);
    await f.write(i * 8, rec);
    // Unflushed writes too: those may or may not be there after the kill.
    await f.write(i * 8 + 4096, rec);
    await f.flush();
    process.stdout.write(`flushed ${i}\n`);
}
//# sourceMappingURL=blk-durable-child.js.map