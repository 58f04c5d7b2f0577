// qcow2 against raw, through the whole block path (blkbench guest, blkfront, ring, blkback in
// dom0, the image file): 4 KiB random reads and writes at queue depth 32 and 1 MiB sequential
// reads on an allocated image, and 4 KiB random first writes that allocate clusters on a fresh
// one. Each figure stands next to the same load on a raw file of the same size in the same
// run, as a ratio (issue 14's goals: at least 0.9x for reads, 0.8x for allocating writes).
// Formats alternate run by run, and the ratio reported is the median over --repeat rounds of
// the ratio within a round, so drift in the machine hits both alike. `direct` is the same I/O
// on the two disks in the bench's own thread, taking turns every 50 ms: the format's own cost
// (allocating writes too, on fresh images). Images live in the OS's temporary directory.
//
//   npm run bench -- qcow2 [--runtime=1] [--disk-mb=256] [--alloc-disk-mb=4096] [--qd=32] [--repeat=5]
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQcow2 } from '../src/storage/qcow2/create.js';
import { Qcow2Disk } from '../src/storage/qcow2/qcow2.js';
import { Host } from '../src/toolstack/host.js';
import { medianPoint, runBlkbench, type Point } from './support/blkbench.js';
import { RawFile } from '../src/storage/raw.js';
import { direct } from './support/direct.js';
import { emit, numberOptions } from './support/harness.js';

const opts = numberOptions({ runtime: 1, 'disk-mb': 256, 'alloc-disk-mb': 4096, qd: 32, repeat: 5 });
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

/** Medians by throughput of raw and qcow2 runs, alternating, and qcow2's ratio to raw. */
async function compare(name: string, load: string, fresh: boolean): Promise<{ raw: Point; qcow2: Point; ratio: number; ratios: number[] }> {
  const runs: Record<Format, Point[]> = { raw: [], qcow2: [] };
  const bytes = fresh ? ALLOC_BYTES : DISK_BYTES;
  const allocated: Partial<Record<Format, string>> = {};
  for (let i = 0; i < opts.repeat; i++) {
    // Each format goes first in every other round: on a busy machine the second run of a pair
    // tends to differ from the first.
    for (const format of i % 2 === 0 ? ['raw', 'qcow2'] as const : ['qcow2', 'raw'] as const) {
      // First writes need a fresh image every run; the other loads share one allocated image.
      const path = fresh ? await image(format, bytes, true) : (allocated[format] ??= await image(format, bytes, false));
      runs[format].push(await run(host, format, path, load, fresh ? 0 : 0.5));
      if (fresh) await rm(path);
    }
  }
  // The ratio is the median of the rounds' ratios (each round's pair ran back to back).
  const ratios = runs.raw.map((r, i) => runs.qcow2[i]!.iops / r.iops).sort((a, b) => a - b);
  const raw = medianPoint(runs.raw);
  const qcow2 = medianPoint(runs.qcow2);
  const ratio = ratios[(ratios.length - 1) >> 1]!;
  process.stderr.write(`${name}: raw ${raw.iops} IOPS, qcow2 ${qcow2.iops} IOPS, ratios ${ratios.map((x) => x.toFixed(2)).join(' ')}\n`);
  return { raw, qcow2, ratio, ratios };
}

const host = await Host.start({ poolSize: 4 });
try {
  const qd = opts.qd;
  const randread = await compare('4k randread', `rw=randread bs=4096 qd=${qd}`, false);
  const randwrite = await compare('4k randwrite (allocated)', `rw=randwrite bs=4096 qd=${qd}`, false);
  const seqread = await compare('1m read', 'rw=read bs=1048576 qd=8', false);
  const allocwrite = await compare('4k randwrite (allocating)', `rw=randwrite bs=4096 qd=${qd}`, true);
  // Directly, in turns (support/direct.ts): the format's own cost with the machine's drifting load cancelled out.
  const opened = [await RawFile.open(await image('raw', DISK_BYTES, false), { readOnly: false }), await Qcow2Disk.open(await image('qcow2', DISK_BYTES, false), { readOnly: false })];
  const pair = ([a, b]: number[]) => ({ raw_ops: a!, qcow2_ops: b!, ratio: b! / a! });
  const directFigures = {
    randread_4k: pair(await direct(opened, 4096, true, false, qd, 2)),
    randwrite_4k: pair(await direct(opened, 4096, true, true, qd, 2)),
    read_1m: pair(await direct(opened, 2 ** 20, false, false, 8, 2)),
  };
  for (const d of opened) await d.close();
  // First writes that allocate, directly: a fresh sparse raw file and a fresh image.
  const fresh = [await RawFile.open(await image('raw', ALLOC_BYTES, true), { readOnly: false }), await Qcow2Disk.open(await image('qcow2', ALLOC_BYTES, true), { readOnly: false })];
  const directAlloc = pair(await direct(fresh, 4096, true, true, qd, 2));
  for (const d of fresh) await d.close();
  emit({
    bench: 'qcow2', runtime_s: opts.runtime, disk_mb: opts['disk-mb'], alloc_disk_mb: opts['alloc-disk-mb'], qd, repeat: opts.repeat,
    randread_4k: randread, randwrite_4k: randwrite, read_1m: seqread, randwrite_4k_allocating: allocwrite, direct: { ...directFigures, randwrite_4k_allocating: directAlloc },
    goals: { reads_0_9x: randread.ratio >= 0.9 && seqread.ratio >= 0.9, allocating_writes_0_8x: allocwrite.ratio >= 0.8 },
  });
} finally {
  await host.close();
  await rm(dir, { recursive: true, force: true });
}
