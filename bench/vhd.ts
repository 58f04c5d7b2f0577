// VHD through blkfront: a blkbench guest (examples/blkbench) on a dynamic VHD served by dom0's
// blkback (format=vhd), next to the same load on a raw file in the same run. Figures:
// - 4 KiB random reads and writes (queue depth 32) and 1 MiB sequential reads (queue depth 8)
//   on a fully allocated dynamic VHD, as a ratio to a raw file of the same size;
// - first writes that allocate: 4 KiB random writes on a fresh, empty image of --alloc-gb
//   (almost every write lands in a block not yet allocated: the worst case) next to a fresh
//   sparse raw file, and 4 KiB sequential writes on a fresh image (every 512th allocates);
// - 4 KiB random reads through chains of 1, 5 and 30 images (the data in the base, each level
//   holding a few sectors of its own), as a ratio to the chain of 1.
// Raw and VHD runs alternate, --repeat times; the ratio is the median of the rounds' ratios (the
// machine is shared).
// `direct` is the same I/O on the disks in the bench's own thread, raw and VHD (or the three
// chains) taking turns every 50 ms: the formats' own cost, with the machine's load cancelled
// (allocating writes too, on a fresh image and a fresh sparse raw file).
//
//   npm run bench -- vhd [--runtime=1] [--disk-mb=256] [--alloc-gb=8] [--repeat=3]
import { mkdtemp, open, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawFile } from '../src/storage/raw.js';
import { VhdDisk } from '../src/storage/vhd/chain.js';
import { createDifferencing, createVhd } from '../src/storage/vhd/create.js';
import { VhdImage } from '../src/storage/vhd/image.js';
import type { Disk } from '../src/storage/disk.js';
import { Host } from '../src/toolstack/host.js';
import { medianPoint, runBlkbench, type Point } from './support/blkbench.js';
import { direct } from './support/direct.js';
import { emit, numberOptions } from './support/harness.js';

const opts = numberOptions({ runtime: 1, 'disk-mb': 256, 'alloc-gb': 8, repeat: 3 });
const MiB = 2 ** 20;
// The chains write into the first 16 blocks of 2 MiB (32 MiB); images are filled in whole MiB.
if (!Number.isInteger(opts['disk-mb']) || opts['disk-mb'] < 32) throw new Error(`--disk-mb wants a whole number of MiB from 32, not ${opts['disk-mb']}`);
if (!Number.isInteger(opts['alloc-gb'] * 1024)) throw new Error(`--alloc-gb wants a whole number of MiB (a multiple of 1/1024), not ${opts['alloc-gb']}`);
if (!Number.isInteger(opts.repeat)) throw new Error(`--repeat wants a whole number, not ${opts.repeat}`);
const DISK = opts['disk-mb'] * MiB;
const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-vhd-'));

/** Write every byte once (allocating every VHD block), in 1 MiB requests. */
async function fill(disk: Disk): Promise<void> {
  const buf = new Uint8Array(MiB).fill(0xa5);
  for (let s = 0; s < disk.sectors; s += MiB / 512) await disk.write(s, [buf]);
  await disk.flush();
  await disk.close();
}

async function rawFile(name: string, bytes: number, filled: boolean): Promise<string> {
  const path = join(dir, name);
  const fh = await open(path, 'wx');
  await fh.truncate(bytes);
  await fh.close();
  if (filled) await fill(await RawFile.open(path, { readOnly: false }));
  return path;
}

async function vhdFile(name: string, bytes: number, filled: boolean): Promise<string> {
  const path = join(dir, name);
  await createVhd(path, { type: 'dynamic', size: bytes });
  if (filled) await fill(await VhdDisk.open(path, { readOnly: false }));
  return path;
}

/**
 * A chain of `depth` on a filled base: each child holds a 4 KiB write in a few of the first
 * 16 blocks (a snapshot that changed a little), so most reads fall through to the base and
 * some are put together from several images' bitmaps.
 */
async function chainOf(depth: number, base: string): Promise<string> {
  let top = base;
  for (let i = 1; i < depth; i++) {
    const next = join(dir, `chain${depth}-${i}.vhd`);
    await createDifferencing(next, top);
    const d = await VhdDisk.open(next, { readOnly: false });
    for (let b = 0; b < 4; b++) await d.write(((i * 7 + b * 13) % 16) * 4096 + i * 8, [new Uint8Array(4096).fill(i)]);
    await d.close();
    top = next;
  }
  return top;
}

let seq = 0;
function run(host: Host, format: 'raw' | 'vhd', target: string, load: string, ramp = 0.5): Promise<Point> {
  return runBlkbench(host, { name: `vhdbench-${seq++}`, format, target, load, runtime: opts.runtime, ramp, readyTimeout: 120_000 });
}

const host = await Host.start({ poolSize: 2 });
try {
  const raw = await rawFile('raw.img', DISK, true);
  const vhd = await vhdFile('full.vhd', DISK, true);
  const chains = { 1: vhd, 5: await chainOf(5, vhd), 30: await chainOf(30, vhd) };
  // Directly, in turns: the formats' own cost with the machine's drifting load cancelled out.
  const opened = [await RawFile.open(raw, { readOnly: false }), await VhdDisk.open(vhd, { readOnly: false })];
  const chainDisks = await Promise.all([chains[1], chains[5], chains[30]].map((p) => VhdDisk.open(p, { readOnly: true })));
  const ratio = ([a, b]: number[]) => ({ raw_ops: a!, vhd_ops: b!, ratio: b! / a! });
  const directFigures = {
    randread_4k: ratio(await direct(opened, 4096, true, false, 32, 2)),
    randwrite_4k: ratio(await direct(opened, 4096, true, true, 32, 2)),
    read_1m: ratio(await direct(opened, MiB, false, false, 8, 2)),
    chain_randread_4k: await direct(chainDisks, 4096, true, false, 32, 2).then(([d1, d5, d30]) => ({
      depth_1: d1!, depth_5: d5!, depth_30: d30!, ratio_5_to_1: d5! / d1!, ratio_30_to_1: d30! / d1!,
    })),
  };
  for (const d of [...opened, ...chainDisks]) await d.close();
  // First writes that allocate, directly: a fresh sparse raw file and a fresh image of --alloc-gb.
  const allocBytes = opts['alloc-gb'] * 1024 * MiB;
  const fresh = [
    await RawFile.open(await rawFile('direct-alloc.img', allocBytes, false), { readOnly: false }),
    await VhdDisk.open(await vhdFile('direct-alloc.vhd', allocBytes, false), { readOnly: false }),
  ];
  const directAlloc = ratio(await direct(fresh, 4096, true, true, 32, 2));
  for (const d of fresh) await d.close();
  await rm(join(dir, 'direct-alloc.img'));
  await rm(join(dir, 'direct-alloc.vhd'));
  await run(host, 'vhd', vhd, 'rw=randread bs=4096 qd=8'); // warm the kernel image and JIT
  const loads = {
    randread_4k: 'rw=randread bs=4096 qd=32',
    randwrite_4k: 'rw=randwrite bs=4096 qd=32',
    read_1m: 'rw=read bs=1048576 qd=8',
  } as const;
  const samples: Record<string, { raw: Point[]; vhd: Point[] }> = {};
  const chainSamples: Record<number, Point[]> = { 1: [], 5: [], 30: [] };
  let allocations = 0;
  for (let r = 0; r < opts.repeat; r++) {
    for (const [name, load] of Object.entries(loads)) {
      const s = (samples[name] ??= { raw: [], vhd: [] });
      // Which goes first alternates, so neither always meets the page cache as the other left it.
      const pair = [async () => s.raw.push(await run(host, 'raw', raw, load)), async () => s.vhd.push(await run(host, 'vhd', vhd, load))];
      for (const go of r % 2 === 0 ? pair : pair.reverse()) await go();
    }
    // Fresh images each time: no ramp, so the measured writes are the first ones.
    const s = (samples['alloc_randwrite_4k'] ??= { raw: [], vhd: [] });
    s.raw.push(await run(host, 'raw', await rawFile(`alloc${r}.img`, allocBytes, false), loads.randwrite_4k, 0));
    const fresh = await vhdFile(`alloc${r}.vhd`, allocBytes, false);
    s.vhd.push(await run(host, 'vhd', fresh, loads.randwrite_4k, 0));
    const seqs = (samples['alloc_write_4k_sequential'] ??= { raw: [], vhd: [] });
    seqs.raw.push(await run(host, 'raw', await rawFile(`seq${r}.img`, DISK, false), 'rw=write bs=4096 qd=32', 0));
    seqs.vhd.push(await run(host, 'vhd', await vhdFile(`seq${r}.vhd`, DISK, false), 'rw=write bs=4096 qd=32', 0));
    await rm(join(dir, `seq${r}.img`));
    await rm(join(dir, `seq${r}.vhd`));
    const img = await VhdImage.open(fresh, { readOnly: true });
    allocations = Math.max(allocations, img.bat.filter((e) => e !== 0xffffffff).length);
    await img.close();
    await rm(join(dir, `alloc${r}.img`));
    await rm(fresh);
    for (const depth of [1, 5, 30] as const) chainSamples[depth]!.push(await run(host, 'vhd', chains[depth], loads.randread_4k));
  }
  // The ratio is the median of each round's own ratio (raw and VHD ran back to back there), so
  // that the machine's drift between rounds cancels out; the ratios of every round are listed.
  const figures = Object.fromEntries(Object.entries(samples).map(([k, v]) => {
    const ratios = v.raw.map((r, i) => v.vhd[i]!.iops / r.iops).sort((a, b) => a - b);
    return [k, { raw: medianPoint(v.raw), vhd: medianPoint(v.vhd), ratio_iops: ratios[(ratios.length - 1) >> 1]!, round_ratios: ratios }];
  }));
  const chain = Object.fromEntries(([1, 5, 30] as const).map((depth) => {
    const m = medianPoint(chainSamples[depth]!);
    return [`depth_${depth}`, { ...m, ratio_to_depth_1: m.iops / medianPoint(chainSamples[1]!).iops }];
  }));
  emit({
    bench: 'vhd', runtime_s: opts.runtime, disk_mb: opts['disk-mb'], alloc_gb: opts['alloc-gb'], repeat: opts.repeat,
    // The machine's load as the run ended: on a shared machine the figures are only as good as this.
    loadavg_1m: loadavg()[0],
    ...figures, alloc_blocks_allocated: allocations, chain_randread_4k: chain, direct: { ...directFigures, alloc_randwrite_4k: directAlloc },
  });
} finally {
  await host.close();
  await rm(dir, { recursive: true, force: true });
}
