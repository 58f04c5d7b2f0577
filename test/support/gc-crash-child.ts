// The child of the coalesce kill -9 test: builds a chain (root over two bases, or root over one
// base when its snapshot is destroyed), then runs the garbage collector, printing "flushed 0"
// and stopping at step `k` (0 copied, 1 renamed/relinked, 2 recorded) to be killed there.
// argv: state dir, format, leaf case (true/false), k.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { collectGarbage } from '../../src/storage/gc.js';
import { imageFormat } from '../../src/storage/open.js';
import { Storage, srPath } from '../../src/storage/sr.js';
import { Vdis } from '../../src/storage/vdi.js';
import { SqliteHostDb } from '../../src/toolstack/db/sqlite.js';

const [state, format, leafArg, kArg] = process.argv.slice(2) as [string, string, string, string];
const leafCase = leafArg === 'true';
const k = Number(kArg);

function fill(sector: number, sectors: number, salt: number): Uint8Array {
  const b = new Uint8Array(sectors * 512);
  const v = new DataView(b.buffer);
  for (let s = 0; s < sectors; s++) for (let i = 0; i < 512; i += 8) {
    v.setUint32(s * 512 + i, sector + s, true);
    v.setUint32(s * 512 + i + 4, salt, true);
  }
  return b;
}

mkdirSync(state, { recursive: true });
const db = SqliteHostDb.open(join(state, 'host.db'));
const storage = new Storage(db, join(state, 'images'));
const vdis = new Vdis(storage, async () => []);
const write = async (name: string, sector: number, data: Uint8Array) => {
  const v = (await vdis.list()).find((x) => x.record.name_label === name)!;
  const d = await imageFormat(format).open(join(state, 'images', v.record.location), { readOnly: false });
  await d.write(sector, [data]);
  await d.close();
};
await vdis.create({ sr: 'default', name: 'root', size: '16M', format });
await write('root', 0, fill(0, 16, 1));
const s1 = await vdis.snapshot('root', { name: 's1', clone: false });
await write('root', 8, fill(8, 16, 2));
if (!leafCase) await vdis.snapshot('root', { name: 's2', clone: false });
await write('root', 16, fill(16, 16, 3));
// The destroy's own background run is not wanted here: the test's run is.
const sr = await storage.resolve('default');
await db.transaction((tx) => {
  const ref = tx.VDI.getByUuid(s1.record.uuid);
  tx.VDI.destroy(ref);
});
const dir = (await db.read((tx) => srPath(tx, sr)))!;
const steps = ['copied', leafCase ? 'renamed' : 'relinked', 'recorded'];
await collectGarbage(db, sr, dir, {
  duty: 1,
  onStep: async (step) => {
    if (step !== steps[k]) return;
    process.stdout.write('flushed 0\n');
    await new Promise(() => {}); // wait for the kill
  },
});
process.stdout.write('flushed 0\n');
await new Promise(() => {});
