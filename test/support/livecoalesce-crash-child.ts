// The child of the live leaf-coalesce kill -9 test: a guest writes tagged 8-sector runs to a
// VHD VDI through blkfront, flushing after each and printing "acked <sector> <generation>";
// a live snapshot, its record destroyed, then the garbage collector coalesces the leaf under
// the guest and stops at step `k` (0 copied: before the pause; 1 renamed: after the switch;
// 2 recorded), lets the guest write a little more, prints "flushed 0" and waits to be killed.
// argv: state dir, k.
import { join } from 'node:path';
import { collectGarbage } from '../../src/storage/gc.js';
import { imageFormat } from '../../src/storage/open.js';
import { srPath } from '../../src/storage/sr.js';
import { vdiLiveDisks } from '../../src/toolstack/devices.js';
import { Vdis } from '../../src/storage/vdi.js';
import { Rig } from './blk.js';
import { storageRig, tagged } from './storage.js';

const [state, kArg] = process.argv.slice(2) as [string, string];
const steps = ['copied', 'renamed', 'recorded'];
const k = Number(kArg);
export const SPAN = 4096;

const { db, storage, vdis: plain } = storageRig(state);
const root = await plain.create({ sr: 'default', name: 'root', size: '16M', format: 'vhd' });
const path = join(state, 'images', root.record.location);
const d = await imageFormat('vhd').open(path, { readOnly: false });
for (let s = 0; s < SPAN; s += 8) await d.write(s, [tagged(s, 8, 1)]);
await d.flush();
await d.close();
const rig = new Rig();
const g = rig.guest();
await rig.attach(g, `vdev=xvda, format=vhd, target=${path}`);
const f = await rig.front(g);
const live = (v: { uuid: string; path: string | null }) => vdiLiveDisks(rig.host, v);
const vdis = new Vdis(storage, async (v) => ((await live(v)).live.length ? ['the guest'] : []), live);
let gen = 1;
const writer = (async () => {
  for (let i = 0; i < 100_000; i++) {
    const sector = (i * 8 * 37) % SPAN;
    const gn = ++gen;
    await f.write(sector, tagged(sector, 8, gn));
    await f.flush();
    process.stdout.write(`acked ${sector} ${gn}\n`);
  }
})();
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
await wait(100);
const snap = await vdis.snapshot('root', { name: 's', clone: false });
await wait(100);
await db.transaction((tx) => tx.VDI.destroy(tx.VDI.getByUuid(snap.record.uuid)));
const sr = await storage.resolve('default');
await collectGarbage(db, sr, (await db.read((tx) => srPath(tx, sr)))!, {
  duty: 0.5,
  users: async (v) => ((await live(v)).live.length ? ['the guest'] : []),
  live,
  onStep: async (step) => {
    if (step !== steps[k]) return;
    await wait(50);
    process.stdout.write('flushed 0\n');
    await new Promise(() => setInterval(() => {}, 60_000));
  },
});
process.stdout.write('flushed 0\n');
await writer;
