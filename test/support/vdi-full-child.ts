// The child of the disk-full tests of snapshots and live migrations (test/unit/storage/full.test.ts),
// run in a mount namespace of its own where FULL is a small tmpfs. A guest writes tagged runs
// through blkfront to a VDI `root` while the file system FULL fills up:
//   snapshot: FULL holds the SR `default` (the VDI's own SR), filled to a page of room: the
//             snapshot's journal fits, its new leaf does not;
//   migrate:  FULL holds the destination SR `fast`; it is filled to the size of a new leaf and
//             64 KiB more, so the migration gets as far as copying the base, which does not fit.
// The operation must fail with a clean error; the guest writes on (in place: its runs lie in an
// allocated block, so they need no room), flushes and reads back every acknowledged run; once the
// garbage collector has removed what the operation left in the source, the records and files are
// as before (no snapshot, nothing in the destination), and the image, reopened after the guest
// went, holds every acknowledged run.
// Prints one JSON line. argv: state dir, FULL, snapshot|migrate, vhd|qcow2.
import { open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { imageFormat } from '../../src/storage/open.js';
import { Vdis } from '../../src/storage/vdi.js';
import { vdiLiveDisks } from '../../src/toolstack/devices.js';
import { Rig } from './blk.js';
import { guestWriter, storageRig, tagged } from './storage.js';

const [state, full, op, format] = process.argv.slice(2) as [string, string, 'snapshot' | 'migrate', string];
const SPAN = 4096;
const FILLER = '.filler';

/** Fill the file system of `dir` until `room` bytes are left (tmpfs counts whole pages). */
async function fill(dir: string, room: number): Promise<void> {
  const fh = await open(join(dir, FILLER), 'w');
  const chunk = new Uint8Array(1 << 16).fill(0xee);
  let size = 0;
  try {
    for (;;) {
      const { bytesWritten } = await fh.write(chunk, 0, chunk.byteLength, size);
      size += bytesWritten;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
  await fh.truncate(Math.max(0, size - room));
  await fh.close();
}

const r = storageRig(state);
if (op === 'migrate') await r.storage.create({ name: 'fast', type: 'file', path: full });
const root = await r.vdis.create({ sr: 'default', name: 'root', size: '16M', format });
const srcPath = join(r.images, root.record.location);
const d = await imageFormat(format).open(srcPath, { readOnly: false });
for (let s = 0; s < SPAN; s += 8) await d.write(s, [tagged(s, 8, 1)]);
await d.close();

// Room for a new leaf in the destination (made and removed here, to measure it), not for the base's copy.
let room = op === 'snapshot' ? 4096 : 0;
if (op === 'migrate') {
  const probe = join(full, 'probe');
  await imageFormat(format).layers!.createChild(probe, srcPath);
  room = (await stat(probe)).blocks * 512 + (64 << 10);
  await rm(probe);
}
const rig = new Rig();
const g = rig.guest();
await rig.attach(g, `vdev=xvda, format=${format}, target=${srcPath}`);
const f = await rig.front(g);
// The guest counts as the VDI's user (as the host's running domains do): the collector coalesces under it, live.
const live = (v: { uuid: string; path: string | null }) => vdiLiveDisks(rig.host, v);
const vdis = new Vdis(r.storage, async (v) => ((await live(v)).live.length ? ['the guest'] : []), live);
const w = guestWriter(f, SPAN, 1);
await w.more(50);
await fill(full, room);
const steps: string[] = [];
const out: Record<string, unknown> = { op, format, room };
try {
  if (op === 'snapshot') await vdis.snapshot('root', { name: 'before', clone: false });
  else await vdis.migrate('root', 'fast', { onStep: (s) => void steps.push(s) });
  out['error'] = 'none';
} catch (e) {
  out['error'] = (e as { errno?: string }).errno ?? (e as NodeJS.ErrnoException).code ?? 'unknown';
  out['message'] = (e as Error).message;
}
out['steps'] = steps;
// The guest runs on: more writes, a flush, and every acknowledged run reads back.
await w.more(50);
// What the operation left (a migration's snapshot) is coalesced away under the guest.
await vdis.collectGarbage(await r.storage.resolve('default'), { duty: 1 });
await w.more(50);
await w.stop();
await f.flush();
const bad: number[] = [];
const check = async (read: (sector: number, b: Uint8Array) => Promise<void>): Promise<void> => {
  for (const [sector, gen] of w.acked) {
    const b = new Uint8Array(8 * 512);
    await read(sector, b);
    if (!Buffer.from(b).equals(tagged(sector, 8, gen))) bad.push(sector);
  }
};
await check((s, b) => f.read(s, [b]));
out['acked'] = w.acked.size;
out['writes'] = w.gen - 1;
out['guestBad'] = bad.length;
const list = await vdis.list();
out['vdis'] = list.map((v) => `${v.record.name_label}@${v.srName}`).sort();
out['fullFiles'] = (await readdir(full)).filter((n) => n !== FILLER && !n.startsWith('.')).sort();
out['srcFiles'] = (await readdir(r.images)).filter((n) => n !== FILLER && !n.startsWith('.')).sort();
await rig.close();
// The image itself (the guest flushed) holds every acknowledged run.
bad.length = 0;
const image = await imageFormat(format).open(join(r.images, list.find((v) => v.record.name_label === 'root')!.record.location), { readOnly: true });
await check((s, b) => image.read(s, [b]) as Promise<void>);
await image.close();
out['imageBad'] = bad.length;
// And the SR is usable again once there is room.
await rm(join(full, FILLER));
out['retry'] = op === 'snapshot' ? (await vdis.snapshot('root', { name: 'after', clone: false })).record.name_label : (await vdis.migrate('root', 'fast')).srName;
await r.db.close();
console.log(JSON.stringify(out));
process.exit(0);
