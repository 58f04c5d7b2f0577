// qcow2 against raw, through the whole block path (blkbench guest, blkfront, ring, blkback in
// dom0, the image file): 4 KiB random reads and writes at queue depth 32 and 1 MiB sequential
// reads on an allocated image, and 4 KiB random first writes that allocate clusters on a fresh
// one. Each figure stands next to the same load on a raw file of the same size in the same
// run, as a ratio (issue 14's goals: at least 0.9x for reads, 0.8x for allocating writes).
// Rounds as support/rounds.ts runs them (a warm-up round left out, the order alternating, the
// ratio the median of the rounds' own ratios, the ratio of the sums and the spread beside it);
// --loads picks loads by name. The allocated files are synced, dropped from the page cache and
// read once before use (support/pagecache.ts): raw and qcow2 read from the same cache state.
// `direct` is the same I/O on the two disks in the bench's own thread, taking turns every 50 ms:
// the format's own cost (allocating writes too, on fresh images); --direct=0 leaves it out.
// Images live in the OS's temporary directory.
//
//   npm run bench -- qcow2 [--runtime=1] [--disk-mb=256] [--alloc-disk-mb=4096] [--qd=32] [--repeat=5] [--direct=1]
//                          [--loads=randread_4k,randwrite_4k,read_1m,randwrite_4k_allocating]
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQcow2 } from '../src/storage/qcow2/create.js';
import { Qcow2Disk } from '../src/storage/qcow2/qcow2.js';
import { Host } from '../src/toolstack/host.js';
import { runBlkbench, type Point } from './support/blkbench.js';
import { RawFile } from '../src/storage/raw.js';
import { direct } from './support/direct.js';
import { benchOptions, emit } from './support/harness.js';
import { sameCacheState } from './support/pagecache.js';
import { compareInRounds, goalsMet } from './support/rounds.js';

const opts = benchOptions({ runtime: 1, 'disk-mb': 256, 'alloc-disk-mb': 4096, qd: 32, repeat: 5, direct: 1 }, { loads: '' }, ['direct']);
const DISK_BYTES = opts['disk-mb'] * 2 ** 20;
const ALLOC_BYTES = opts['alloc-disk-mb'] * 2 ** 20;
type Format = 'raw' | 'qcow2';

const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-qcow2-'));
let seq = 0;

/** A raw file or qcow2 image of `bytes`, every byte written (allocated) unless `fresh`. */
async function image(format: Format, bytes: number, fresh: boolean): Promise<string> {
  const path = join(dir, `img-${seq++}.${format}`);
  const chunk = new Uint8Array(2 ** 20).fill(0xa5);
  if (format === 'raw') {
    if (fresh) {
      await writeFile(path, '');
      await truncate(path, bytes);
    } else {
      await writeFile(path, new Uint8Array(bytes).fill(0xa5));
    }
    return path;
  }
  await createQcow2(path, { size: bytes });
  if (!fresh) {
    const d = await Qcow2Disk.open(path, { readOnly: false });
    for (let off = 0; off < bytes; off += chunk.byteLength) await d.write(off / 512, [chunk]);
    await d.close();
  }
  return path;
}

function run(host: Host, format: Format, path: string, load: string, ramp: number): Promise<Point> {
  return runBlkbench(host, { name: `qcow2bench-${seq++}`, format, target: path, load, runtime: opts.runtime, ramp, readyTimeout: 60_000 });
}

const host = await Host.start({ poolSize: 4 });
try {
  const qd = opts.qd;
  const allocated = { raw: await image('raw', DISK_BYTES, false), qcow2: await image('qcow2', DISK_BYTES, false) };
  await sameCacheState([allocated.raw, allocated.qcow2]);
  /** The load on the allocated image of `format`, or on a fresh one made for the run (no ramp: the first writes), removed after. */
  const on = (format: Format, load: string, fresh = false) => async (): Promise<Point> => {
    if (!fresh) return run(host, format, allocated[format], load, 0.5);
    const path = await image(format, ALLOC_BYTES, true);
    try {
      return await run(host, format, path, load, 0);
    } finally {
      await rm(path);
    }
  };
  const pair = (load: string, fresh = false) => ({ raw: on('raw', load, fresh), qcow2: on('qcow2', load, fresh) });
  const figures = await compareInRounds([
    { name: 'randread_4k', disks: pair(`rw=randread bs=4096 qd=${qd}`) },
    { name: 'randwrite_4k', disks: pair(`rw=randwrite bs=4096 qd=${qd}`) },
    { name: 'read_1m', disks: pair('rw=read bs=1048576 qd=8') },
    { name: 'randwrite_4k_allocating', disks: pair(`rw=randwrite bs=4096 qd=${qd}`, true) },
  ], opts.repeat, opts.loads ? opts.loads.split(',') : []);
  let directFigures: object | undefined;
  if (opts.direct) {
    // Directly, in turns (support/direct.ts): the format's own cost with the machine's drifting load cancelled out.
    const files = [await image('raw', DISK_BYTES, false), await image('qcow2', DISK_BYTES, false)];
    await sameCacheState(files);
    const opened = [await RawFile.open(files[0]!, { readOnly: false }), await Qcow2Disk.open(files[1]!, { readOnly: false })];
    const ratio = ([a, b]: number[]) => ({ raw_ops: a!, qcow2_ops: b!, ratio: b! / a! });
    directFigures = {
      randread_4k: ratio(await direct(opened, 4096, true, false, qd, 2)),
      randwrite_4k: ratio(await direct(opened, 4096, true, true, qd, 2)),
      read_1m: ratio(await direct(opened, 2 ** 20, false, false, 8, 2)),
    };
    for (const d of opened) await d.close();
    // First writes that allocate, directly: a fresh sparse raw file and a fresh image.
    const fresh = [await RawFile.open(await image('raw', ALLOC_BYTES, true), { readOnly: false }), await Qcow2Disk.open(await image('qcow2', ALLOC_BYTES, true), { readOnly: false })];
    directFigures = { ...directFigures, randwrite_4k_allocating: ratio(await direct(fresh, 4096, true, true, qd, 2)) };
    for (const d of fresh) await d.close();
  }
  emit({
    bench: 'qcow2', runtime_s: opts.runtime, disk_mb: opts['disk-mb'], alloc_disk_mb: opts['alloc-disk-mb'], qd, repeat: opts.repeat,
    loadavg_1m: loadavg()[0],
    ...figures, ...(directFigures && { direct: directFigures }),
    // Issue 14's goals: reads at least 0.9x raw, first writes that allocate 0.8x.
    goals: goalsMet(figures, { randread_4k: 0.9, read_1m: 0.9, randwrite_4k_allocating: 0.8 }),
  });
} finally {
  await host.close();
  await rm(dir, { recursive: true, force: true });
}
