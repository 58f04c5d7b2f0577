// Snapshots, clones and coalescing on a VHD VDI (issue 14), in one run:
// - snapshot and clone time of a --size-gb VDI with --alloc-gb written, with no guest, and
//   under a blkbench guest doing 4 KiB random writes on it (total time, and how long its I/O
//   was paused), next to the guest's throughput in a run without snapshots;
// - coalesce rate: a leaf holding --alloc-gb of new data coalesced into its base (the garbage
//   collector at full speed), next to `cp` of the leaf's file in the same run;
// - the throttled collector (its default duty) coalescing one VDI while a guest reads another:
//   the guest's IOPS next to the same load without it (goal: at least 0.8);
// - live leaf-coalesce: the collector coalescing the leaf a guest writes to, under it: the
//   guest's IOPS next to the same load alone.
// live_paused_ms is how long a snapshot held the guest's requests back: the swap of its disk
// (requests in flight finish on the old one), not a drain.
//
// Every figure comes with its limit measured in the same run: fdatasync's median (a snapshot is
// a few synchronous flushes), the guest's own throughput without the operation, `cp`.
//
//   npm run bench -- snapshot [--size-gb=8] [--alloc-gb=1] [--runtime=3] [--count=5]
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { imageFormat } from '../src/storage/open.js';
import { Host } from '../src/toolstack/host.js';
import { runBlkbench, type Point } from './support/blkbench.js';
import { emit, numberOptions, summarize } from './support/harness.js';

const opts = numberOptions({ 'size-gb': 8, 'alloc-gb': 1, runtime: 3, count: 5 });
for (const k of ['size-gb', 'count'] as const) if (!Number.isInteger(opts[k])) throw new Error(`--${k} wants a whole number, not ${opts[k]}`);
if (!Number.isInteger(opts['alloc-gb'] * 1024) || opts['alloc-gb'] > opts['size-gb']) {
  throw new Error(`--alloc-gb wants whole MiB (a multiple of 1/1024) up to --size-gb, not ${opts['alloc-gb']}`);
}
if (opts.count > 10) throw new Error('--count is at most 10 (each live snapshot deepens the chain; the limit is 30)');
const MiB = 2 ** 20;
const ALLOC = opts['alloc-gb'] * 1024 * MiB;
const state = await mkdtemp(join(tmpdir(), 'xenode-bench-snapshot-'));
const run = promisify(execFile);

const host = await Host.start({ stateDir: state, poolSize: 1 });

/** Write `bytes` from the start of a VDI's image (whole 1 MiB requests), salted. */
async function write(name: string, bytes: number, salt: number): Promise<void> {
  const v = (await host.vdis.list()).find((x) => x.record.name_label === name)!;
  const d = await imageFormat('vhd').open(join(state, 'images', v.record.location), { readOnly: false });
  const buf = new Uint8Array(MiB).fill(salt);
  for (let s = 0; s < bytes / 512; s += MiB / 512) await d.write(s, [buf]);
  await d.flush();
  await d.close();
}

let seq = 0;
function guest(target: string, load: string, runtime = opts.runtime): { name: string; done: Promise<Point> } {
  const name = `snapbench-${seq++}`;
  return { name, done: runBlkbench(host, { name, format: 'vhd', target: `vdi:${target}`, load, runtime, ramp: 0.5, readyTimeout: 120_000 }) };
}

/** Until the named guest's load has started (its `go` node), then its ramp. */
async function started(name: string): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    const d = host.hv.domains().find((x) => x.name === name);
    if (d && (await host.xs.readOptional(`/local/domain/${d.domid}/data/blkbench/go`)) === '1') {
      await new Promise((r) => setTimeout(r, 700));
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`guest ${name} never started its load`);
}

const ms = (xs: number[]) => summarize(xs);

/** The machine's limit for these operations: the median fdatasync of a small file in the SR's directory, now. */
async function fdatasyncMs(): Promise<number> {
  const fh = await open(join(state, 'images', '.probe'), 'w');
  const t: number[] = [];
  for (let i = 0; i < 20; i++) {
    await fh.write('x');
    const t0 = performance.now();
    await fh.datasync();
    t.push(performance.now() - t0);
  }
  await fh.close();
  await rm(join(state, 'images', '.probe'));
  return summarize(t).median;
}

try {
  const size = `${opts['size-gb']}G`;
  await host.vdis.create({ sr: 'default', name: 'root', size, format: 'vhd' });
  await write('root', ALLOC, 1);
  const syncMs = await fdatasyncMs();
  // No guest: files and records only.
  const offline = { snapshot: [] as number[], clone: [] as number[] };
  for (let i = 0; i < opts.count; i++) {
    for (const clone of [false, true]) {
      const t0 = performance.now();
      const v = await host.vdis.snapshot('root', { name: `off-${clone ? 'c' : 's'}${i}`, clone });
      offline[clone ? 'clone' : 'snapshot'].push(performance.now() - t0);
      await host.vdis.destroy(v.record.uuid);
    }
  }
  const sr = await host.storage.resolve('default');
  await host.vdis.collectGarbage(sr, { duty: 1 });
  // Under a guest writing: the same load with and without snapshots.
  const randwrite = 'rw=randwrite bs=4096 qd=32';
  const baseline = await guest('root', randwrite).done;
  const g = guest('root', randwrite, Math.max(opts.runtime, opts.count * 2));
  await started(g.name);
  const live = { total: [] as number[], paused: [] as number[] };
  for (let i = 0; i < opts.count; i++) {
    const t0 = performance.now();
    const v = await host.vdis.snapshot('root', { name: `live${i}`, clone: false });
    live.total.push(performance.now() - t0);
    live.paused.push(v.pausedMs);
    await new Promise((r) => setTimeout(r, 100));
  }
  const during = await g.done;
  for (const v of await host.vdis.list()) if (v.record.name_label.startsWith('live')) await host.vdis.destroy(v.record.uuid);
  const tGc = performance.now();
  await host.vdis.collectGarbage(sr, { duty: 1 });
  const liveGcMs = performance.now() - tGc;

  // Coalesce rate: a leaf with ALLOC of new data, its snapshot destroyed, coalesced at full speed; cp of the same file.
  await host.vdis.create({ sr: 'default', name: 'co', size, format: 'vhd' });
  await write('co', ALLOC, 2);
  const coSnap = await host.vdis.snapshot('co', { name: 'co-s', clone: false });
  await write('co', ALLOC, 3);
  const co = (await host.vdis.list()).find((x) => x.record.name_label === 'co')!;
  const leafFile = join(state, 'images', co.record.location);
  const leafBytes = (await stat(leafFile)).size;
  const tCp = performance.now();
  await run('cp', [leafFile, join(state, 'cp-copy')]);
  const cpS = (performance.now() - tCp) / 1000;
  await rm(join(state, 'cp-copy'));
  await host.db.transaction((tx) => tx.VDI.destroy(tx.VDI.getByUuid(coSnap.record.uuid)));
  const tCo = performance.now();
  await host.vdis.collectGarbage(sr, { duty: 1 });
  const coS = (performance.now() - tCo) / 1000;

  // The throttled collector next to a guest: coalesce a second leaf while the guest reads root.
  const randread = 'rw=randread bs=4096 qd=32';
  await host.vdis.create({ sr: 'default', name: 'bg', size, format: 'vhd' });
  await write('bg', ALLOC, 4);
  const bgSnap = await host.vdis.snapshot('bg', { name: 'bg-s', clone: false });
  await write('bg', ALLOC, 5);
  await host.db.transaction((tx) => tx.VDI.destroy(tx.VDI.getByUuid(bgSnap.record.uuid)));
  const alone = await guest('root', randread).done;
  const g2 = guest('root', randread);
  await started(g2.name);
  const tBg = performance.now();
  const gc = host.vdis.collectGarbage(sr);
  const withGc = await g2.done;
  await gc;
  const bgS = (performance.now() - tBg) / 1000;

  // Live leaf-coalesce: root's leaf (a snapshot of it taken, then --alloc-gb/8 written, the
  // snapshot destroyed) coalesced by the throttled collector while a guest writes to root: the
  // guest's IOPS next to the same load alone (`baseline`), and the pause at the switch.
  const liveSnap = await host.vdis.snapshot('root', { name: 'lc-s', clone: false });
  await write('root', ALLOC / 8, 6);
  await host.db.transaction((tx) => tx.VDI.destroy(tx.VDI.getByUuid(liveSnap.record.uuid)));
  const g4 = guest('root', randwrite, Math.max(opts.runtime, 8));
  await started(g4.name);
  const tLc = performance.now();
  const lc = await host.vdis.collectGarbage(sr);
  const lcS = (performance.now() - tLc) / 1000;
  const duringLc = await g4.done;

  // Live migration of root (a chain coalesced back to one image of ALLOC) under the guest's
  // random writes: total time, the copy's rate next to cp of the base, the guest's IOPS and p99
  // during it next to before, the longest pause.
  await host.storage.create({ name: 'fast', type: 'file', path: join(state, 'fast') });
  const rootNow = (await host.vdis.list()).find((x) => x.record.name_label === 'root')!;
  const rootFile = join(state, 'images', rootNow.record.location);
  const rootBytes = (await stat(rootFile)).blocks * 512;
  const tCp2 = performance.now();
  await run('cp', [rootFile, join(state, 'cp-root')]);
  const cpRootS = (performance.now() - tCp2) / 1000;
  await rm(join(state, 'cp-root'));
  const beforeMig = await guest('root', randwrite).done;
  const g3 = guest('root', randwrite, Math.max(opts.runtime, 6));
  await started(g3.name);
  const tMig = performance.now();
  const moved = await host.vdis.migrate('root', 'fast');
  const migS = (performance.now() - tMig) / 1000;
  const duringMig = await g3.done;

  emit({
    bench: 'snapshot', size_gb: opts['size-gb'], alloc_gb: opts['alloc-gb'], runtime_s: opts.runtime, count: opts.count,
    loadavg_1m: loadavg()[0],
    // A snapshot is about 8 synchronous flushes (journal, new files, directory, the host database): its physical limit.
    fdatasync_ms: syncMs, fdatasync_after_ms: await fdatasyncMs(),
    offline_snapshot_ms: ms(offline.snapshot), offline_clone_ms: ms(offline.clone),
    offline_snapshot_in_fdatasyncs: ms(offline.snapshot).median / syncMs,
    live_snapshot_ms: ms(live.total), live_paused_ms: ms(live.paused),
    guest_randwrite_4k: { without_snapshots: baseline, with_snapshots: during, ratio_iops: during.iops / baseline.iops },
    live_chain_coalesce_ms: liveGcMs,
    coalesce: { bytes: ALLOC, seconds: coS, mb_s: ALLOC / MiB / coS, cp_seconds: cpS, cp_bytes: leafBytes, cp_mb_s: leafBytes / MiB / cpS, ratio_to_cp: cpS / coS },
    throttled_gc: {
      guest_randread_4k_alone: alone, guest_randread_4k_with_gc: withGc, ratio_iops: withGc.iops / alone.iops,
      gc_seconds: bgS,
    },
    live_leaf_coalesce: {
      bytes: ALLOC / 8, seconds: lcS, live: lc.coalesced.some((c) => c.live === true), paused_ms: lc.coalesced.find((c) => c.live)?.pausedMs ?? null,
      guest_randwrite_4k_alone: baseline, guest_randwrite_4k_during: duringLc, ratio_iops: duringLc.iops / baseline.iops,
    },
    migrate: {
      seconds: migS, copied_bytes: moved.copiedBytes, mirrored_bytes: moved.mirroredBytes, copy_mb_s: moved.copiedBytes / MiB / migS,
      cp_seconds: cpRootS, cp_bytes: rootBytes, ratio_to_cp: (moved.copiedBytes / migS) / (rootBytes / cpRootS),
      max_paused_ms: moved.maxPausedMs, guest_randwrite_4k_before: beforeMig, guest_randwrite_4k_during: duringMig,
      ratio_iops: duringMig.iops / beforeMig.iops,
    },
  });
} finally {
  await host.close();
  await rm(state, { recursive: true, force: true });
}
