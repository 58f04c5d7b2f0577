// Live VDI migration (Storage XenMotion within a host, issue 14): a --size-gb VHD VDI with
// --alloc-gb written (a fresh one each round), moved to a second directory SR, --rounds times,
// while a blkbench guest does 4 KiB random writes (queue depth 32) on it. Each round is a pair:
// `cp` of the files the migration is about to copy (the VDI's chain), then the migration. Figures,
// each next to its limit:
// - the copy's rate (the base chain, flattened into the destination) next to `cp` of the same
//   files and their fdatasync (`sync -d`) in the same round (goal: at least 0.7x); the median of
//   the rounds' ratios, and their spread. Both are counted in the bytes the files hold on disk
//   (st_blocks): cp skips holes (SEEK_DATA), as the copy skips unallocated blocks, and a VHD's
//   apparent size counts the holes that align its blocks (an eighth of a block). cp runs with no
//   guest load (the harder baseline), the copy under the guest's writes and their mirror;
// - total time of vdi-migrate;
// - the guest's write rate over the migration (the bytes the mirror took, 4 KiB each, over the
//   migration's time: a lower bound, the mirror starts after the snapshot) next to the same load
//   alone before (`--runtime` s); its IOPS and p99 over its whole run (started as the migration
//   starts, --runtime + 10 s so that it outlasts the migration: it covers what follows too);
// - the longest pause of the guest's I/O (the switch to the destination is a swap: requests in
//   flight finish on the old disk; goal under 50 ms).
//
//   npm run bench -- vdi-migrate [--size-gb=1] [--alloc-gb=1] [--runtime=3] [--rounds=3]
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PARENT_KEY } from '../src/storage/snapshot.js';
import { Host } from '../src/toolstack/host.js';
import { medianPoint, type Point } from './support/blkbench.js';
import { emit, numberOptions, summarize } from './support/harness.js';
import { roundRatio } from './support/rounds.js';
import { started, vdiGuest, writeVdi } from './support/vdi-guest.js';

const opts = numberOptions({ 'size-gb': 1, 'alloc-gb': 1, runtime: 3, rounds: 3 });
if (!Number.isInteger(opts['alloc-gb'] * 1024) || opts['alloc-gb'] > opts['size-gb']) {
  throw new Error(`--alloc-gb wants whole MiB (a multiple of 1/1024) up to --size-gb, not ${opts['alloc-gb']}`);
}
if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new Error(`--rounds wants a whole number of rounds, not ${opts.rounds}`);
const MiB = 2 ** 20;
const run = promisify(execFile);
const state = await mkdtemp(join(tmpdir(), 'xenode-bench-vdi-migrate-'));
const host = await Host.start({ stateDir: state, poolSize: 1 });
const srDirs: Record<string, string> = { default: join(state, 'images'), fast: join(state, 'fast') };
const randwrite = 'rw=randwrite bs=4096 qd=32';

/** The files of VDI `name`'s chain (its image and its parents'), where they are now. */
async function chainFiles(name: string): Promise<string[]> {
  const all = await host.vdis.list();
  const files: string[] = [];
  for (let v = all.find((x) => x.record.name_label === name); v; v = all.find((x) => x.record.uuid === v!.record.sm_config[PARENT_KEY])) {
    files.push(join(srDirs[v.srName]!, v.record.location));
  }
  return files;
}

let cpCopies = 0;

/** cp of each file to the same file system and its fdatasync: seconds, and the bytes the files hold. */
async function cp(files: readonly string[]): Promise<{ seconds: number; bytes: number }> {
  let bytes = 0;
  for (const f of files) bytes += (await stat(f)).blocks * 512;
  const copies = files.map(() => join(state, `cp-copy-${cpCopies++}`));
  const t0 = performance.now();
  for (const [i, f] of files.entries()) {
    await run('cp', [f, copies[i]!]);
    await run('sync', ['-d', copies[i]!]); // the migration's copy is flushed too
  }
  // The copies stay until the end: an unlink of 1 GiB took 40-100 s here (the file system is
  // mounted with `discard`; ext4 discards the freed blocks synchronously), which the next
  // round would run beside.
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

try {
  // A fresh VDI each round, written whole: moving one VDI there and back migrated a chain whose
  // leaf the guest had scattered with 4 KiB writes (hundreds per block at a quiet machine's rate),
  // a different copy each round (0.18 and 0.065 of cp after 1.19 in the first, at load 1.8).
  const fresh = async (name: string) => {
    await host.vdis.create({ sr: 'default', name, size: `${Math.round(opts['size-gb'] * 1024)}M`, format: 'vhd' });
    await writeVdi(host, state, name, opts['alloc-gb'] * 1024 * MiB, 1);
  };
  await fresh('root');
  await host.storage.create({ name: 'fast', type: 'file', path: srDirs['fast']! });
  const before = await vdiGuest(host, 'root', randwrite, opts.runtime).done;
  const rounds: { cp_mb_s: number; copy_mb_s: number; ratio_to_cp: number; total_seconds: number; copy: object; cp: object; mirror_window_iops: number; max_paused_ms: number; guest: Point }[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const vdi = `root${r}`;
    await fresh(vdi);
    const files = await chainFiles(vdi);
    const c = await cp(files);
    const g = vdiGuest(host, vdi, randwrite, opts.runtime + 10);
    await started(host, g.name);
    const t0 = performance.now();
    const moved = await host.vdis.migrate(vdi, 'fast');
    const migS = (performance.now() - t0) / 1000;
    const tMoved = performance.now();
    const guest = await g.done;
    if (performance.now() < tMoved + 100) process.stderr.write(`round ${r + 1}: the guest's load ended before the migration did: its rate over the migration is too low\n`);
    const copyS = moved.copyMs / 1000;
    rounds.push({
      cp_mb_s: c.bytes / MiB / c.seconds, copy_mb_s: moved.copiedBytes / MiB / copyS,
      ratio_to_cp: (moved.copiedBytes / copyS) / (c.bytes / c.seconds), total_seconds: migS,
      copy: { bytes: moved.copiedBytes, seconds: copyS }, cp: { bytes: c.bytes, seconds: c.seconds },
      mirror_window_iops: moved.mirroredBytes / 4096 / migS, max_paused_ms: moved.maxPausedMs, guest,
    });
    // The source's collector deletes what the migration left there (an unlink of 1 GiB took
    // 40-100 s here: ext4 with `discard` discards synchronously, holding one of libuv's threads
    // and the device): the next round starts once it is done, not beside it.
    await host.vdis.collectGarbage(await host.storage.resolve('default'));
    process.stderr.write(`round ${r + 1}/${opts.rounds}: copy ${rounds[r]!.copy_mb_s.toFixed(0)} MB/s, cp ${rounds[r]!.cp_mb_s.toFixed(0)} MB/s, ratio ${rounds[r]!.ratio_to_cp.toFixed(3)}; guest ${guest.iops} IOPS\n`);
  }
  const median = (xs: number[]) => summarize(xs).median;
  const ratio = roundRatio(rounds.map((x) => x.cp_mb_s), rounds.map((x) => x.copy_mb_s));
  const during = medianPoint(rounds.map((x) => x.guest));
  emit({
    bench: 'vdi-migrate', size_gb: opts['size-gb'], alloc_gb: opts['alloc-gb'], runtime_s: opts.runtime, rounds: opts.rounds, loadavg_1m: loadavg()[0],
    copy: { ratio_to_cp: ratio.ratio, round_ratios: ratio.round_ratios, iqr: ratio.iqr, ratio_of_sums: ratio.ratio_of_sums, goal: 0.7, met: ratio.ratio >= 0.7,
      mb_s: median(rounds.map((x) => x.copy_mb_s)), cp_mb_s: median(rounds.map((x) => x.cp_mb_s)) },
    total_seconds: median(rounds.map((x) => x.total_seconds)),
    max_paused_ms: Math.max(...rounds.map((x) => x.max_paused_ms)),
    guest_randwrite_4k: {
      before, during_migration: during, ratio_iops: during.iops / before.iops, ratio_p99: during.p99_us / before.p99_us,
      mirror_window_iops: median(rounds.map((x) => x.mirror_window_iops)), ratio_mirror_window_iops: median(rounds.map((x) => x.mirror_window_iops)) / before.iops,
    },
    per_round: rounds,
  });
} finally {
  await host.close();
  await rm(state, { recursive: true, force: true });
}
