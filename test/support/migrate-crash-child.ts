// The child of the vdi-migrate kill -9 test: a guest writes to a VHD VDI (live-vdi-child.ts)
// while it migrates live to the SR `fast`; at step `k` of the migration (mirroring, copied,
// composed, moved, switched) it asks to be killed. argv: state dir, k.
import { join } from 'node:path';
import { askToBeKilled, liveVdi } from './live-vdi-child.js';

const [state, kArg] = process.argv.slice(2) as [string, string];
const steps = ['mirroring', 'copied', 'composed', 'moved', 'switched'];
const { vdis } = await liveVdi(state, async (r) => void await r.storage.create({ name: 'fast', type: 'file', path: join(state, 'fast') }));
await new Promise((r) => setTimeout(r, 100));
await vdis.migrate('root', 'fast', { onStep: async (step) => void (step === steps[Number(kArg)] && await askToBeKilled()) });
await askToBeKilled();
