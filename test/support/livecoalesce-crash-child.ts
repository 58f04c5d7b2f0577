// The child of the live leaf-coalesce kill -9 test: a guest writes to a VDI (live-vdi-child.ts);
// a live snapshot, its record destroyed, then the garbage collector coalesces the leaf under
// the guest and asks to be killed at step `k` (0 copied: before the pause; 1 renamed: after the
// switch; 2 recorded). argv: state dir, k, format (vhd or qcow2).
import { collectGarbage } from '../../src/storage/gc.js';
import { srPath } from '../../src/storage/sr.js';
import { askToBeKilled, liveVdi } from './live-vdi-child.js';

const [state, kArg, format] = process.argv.slice(2) as [string, string, string];
const steps = ['copied', 'renamed', 'recorded'];
const { db, storage, vdis, live, users } = await liveVdi(state, undefined, format);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
await wait(100);
const snap = await vdis.snapshot('root', { name: 's', clone: false });
await wait(100);
await db.transaction((tx) => tx.VDI.destroy(tx.VDI.getByUuid(snap.record.uuid)));
const sr = await storage.resolve('default');
let reached = false;
await collectGarbage(db, sr, (await db.read((tx) => srPath(tx, sr)))!, {
  duty: 0.5, users, live,
  onStep: async (step) => {
    if (step !== steps[Number(kArg)]) return;
    reached = true;
    await askToBeKilled();
  },
});
// The collector ended without the step (it coalesced offline, or put the leaf off): the test would prove nothing.
if (!reached) {
  process.stderr.write(`the live leaf-coalesce never reached step ${steps[Number(kArg)]}\n`);
  process.exit(3);
}
await askToBeKilled();
