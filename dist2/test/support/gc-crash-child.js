// The child of the coalesce kill -9 test: builds a chain (root over two bases, or root over one
// base when its snapshot is destroyed), then runs the garbage collector, printing "flushed 0"
// and stopping at step `k` (0 copied, 1 renamed/relinked, 2 recorded) to be killed there.
// argv: state dir, format, leaf case (true/false), k.
import { join } from 'node:path';
import { collectGarbage } from '../../src/storage/gc.js';
import { imageFormat } from '../../src/storage/open.js';
import { srPath } from '../../src/storage/sr.js';
import { storageRig, tagged } from './storage.js';
const [state, format, leafArg, kArg] = process.argv.slice(2);
const leafCase = leafArg === 'true';
const k = Number(kArg);
const fill = tagged;
/** A timer keeps the process alive (a bare pending promise would let it exit with 13). */
function waitForKill() {
    return new Promise(() => setInterval(() => { }, 60_000));
}
const { db, storage, vdis } = storageRig(state);
const write = async (name, sector, data) => {
    const v = (await vdis.list()).find((x) => x.record.name_label === name);
    const d = await imageFormat(format).open(join(state, 'images', v.record.location), { readOnly: false });
    await d.write(sector, [data]);
    await d.close();
};
await vdis.create({ sr: 'default', name: 'root', size: '16M', format });
await write('root', 0, fill(0, 16, 1));
const s1 = await vdis.snapshot('root', { name: 's1', clone: false });
await write('root', 8, fill(8, 16, 2));
if (!leafCase)
    await vdis.snapshot('root', { name: 's2', clone: false });
await write('root', 16, fill(16, 16, 3));
// The destroy's own background run is not wanted here: the test's run is.
const sr = await storage.resolve('default');
await db.transaction((tx) => {
    const ref = tx.VDI.getByUuid(s1.record.uuid);
    tx.VDI.destroy(ref);
});
const dir = (await db.read((tx) => srPath(tx, sr)));
const steps = ['copied', leafCase ? 'renamed' : 'relinked', 'recorded'];
await collectGarbage(db, sr, dir, {
    duty: 1,
    onStep: async (step) => {
        if (step !== steps[k])
            return;
        process.stdout.write('flushed 0\n');
        await waitForKill();
    },
});
process.stdout.write('flushed 0\n');
await waitForKill();
//# sourceMappingURL=gc-crash-child.js.map