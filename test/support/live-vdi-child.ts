// What the live kill -9 children share (livecoalesce-crash-child.ts, migrate-crash-child.ts):
// a VDI `root` of 16 MiB (VHD, or qcow2) whose first SPAN sectors hold generation 1, served by blkback to a
// guest that writes tagged 8-sector runs over them, flushing after each and printing
// "acked <sector> <generation>" (test/support/kill-child.ts killWhenAsked reads them).
import { join } from 'node:path';
import { imageFormat } from '../../src/storage/open.js';
import { Vdis } from '../../src/storage/vdi.js';
import { vdiLiveDisks } from '../../src/toolstack/devices.js';
import { Rig } from './blk.js';
import { storageRig, tagged } from './storage.js';

export const SPAN = 4096;

export async function liveVdi(state: string, before?: (r: ReturnType<typeof storageRig>) => Promise<void>, format = 'vhd') {
  const r = storageRig(state);
  await before?.(r);
  const root = await r.vdis.create({ sr: 'default', name: 'root', size: '16M', format });
  const path = join(state, 'images', root.record.location);
  const d = await imageFormat(format).open(path, { readOnly: false });
  for (let s = 0; s < SPAN; s += 8) await d.write(s, [tagged(s, 8, 1)]);
  await d.flush();
  await d.close();
  const rig = new Rig();
  const g = rig.guest();
  await rig.attach(g, `vdev=xvda, format=${format}, target=${path}`);
  const f = await rig.front(g);
  const live = (v: { uuid: string; path: string | null }) => vdiLiveDisks(rig.host, v);
  const users = async (v: { uuid: string; path: string | null }) => ((await live(v)).live.length ? ['the guest'] : []);
  const vdis = new Vdis(r.storage, users, live);
  let gen = 1;
  void (async () => {
    for (let i = 0; i < 100_000; i++) {
      const sector = (i * 8 * 37) % SPAN;
      const gn = ++gen;
      await f.write(sector, tagged(sector, 8, gn));
      await f.flush();
      process.stdout.write(`acked ${sector} ${gn}\n`);
    }
  })();
  return { ...r, vdis, live, users };
}

/** Say "flushed 0" (the parent kills us then) after a little more writing; never returns. */
export async function askToBeKilled(): Promise<never> {
  await new Promise((r) => setTimeout(r, 50));
  process.stdout.write('flushed 0\n');
  return new Promise(() => setInterval(() => {}, 60_000));
}
