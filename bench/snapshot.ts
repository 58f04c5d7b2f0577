// Snapshots, clones and coalescing on a VHD VDI (issue 14), in one run:
// - snapshot and clone time of a --size-gb VDI with --alloc-gb written, with no guest, and
//   under a blkbench guest doing 4 KiB random writes on it (total time, and how long its I/O
//   was paused), next to the guest's throughput in a run without snapshots;
// - coalesce rate: a leaf holding --alloc-gb of new data coalesced into its base (the garbage
//   collector at full speed), next to `cp` of the leaf's file (and its fdatasync, `sync -d`) in the same run;
// - the throttled collector (its default duty) coalescing one VDI while a guest reads another:
//   the guest's IOPS next to the same load without it (goal: at least 0.8), in --gc-rounds
//   paired rounds (alone, with; the order swapped every other round): the median of the rounds'
//   ratios and their spread. Each 'with' run starts the collector and stops it (abort) when the
//   guest's run ends; the next one takes the coalesce up from its journal, as after a crash;
// - live leaf-coalesce: the collector coalescing the leaf a guest writes to, under it: the
//   guest's IOPS next to the same load alone.
// live_paused_ms is how long a snapshot held the guest's requests back: the swap of its disk
// (requests in flight finish on the old one), not a drain. Live VDI migration is its own bench
// (vdi-migrate).
//
// Every figure comes with its limit measured in the same run: fdatasync's median (a snapshot is
// a few synchronous flushes), the guest's own throughput without the operation, `cp`.
//
//   npm run bench -- snapshot [--size-gb=8] [--alloc-gb=0.25] [--runtime=2] [--count=5] [--gc-rounds=5]
//   npm run bench -- snapshot --alloc-gb=1      # the 8 GiB VDI with 1 GiB allocated
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Host } from '../src/toolstack/host.js';
import type { Point } from './support/blkbench.js';
import { emit, numberOptions, summarize } from './support/harness.js';
import { ratioOf } from './support/rounds.js';
import { fdatasyncMs as syncIn, started as startedOn, vdiGuest, writeVdi } from './support/vdi-guest.js';

const opts = numberOptions({ 'size-gb': 8, 'alloc-gb': 0.25, runtime: 2, count: 5, 'gc-rounds': 5 });
for (const k of ['size-gb', 'count', 'gc-rounds'] as const) if (!Number.isInteger(opts[k])) throw new Error(`--${k} wants a whole number, not ${opts[k]}`);
if (!Number.isInteger(opts['alloc-gb'] * 1024) || opts['alloc-gb'] > opts['size-gb']) {
  throw new Error(`--alloc-gb wants whole MiB (a multiple of 1/1024) up to --size-gb, not ${opts['alloc-gb']}`);
}
if (opts.count > 10) throw new Error('--count is at most 10 (each live snapshot deepens the chain; the limit is 30)');
const MiB = 2 ** 20;
const ALLOC = opts['alloc-gb'] * 1024 * MiB;
const state = await mkdtemp(join(tmpdir(), 'xenode-bench-snapshot-'));
const run = promisify(execFile);

const host = await Host.start({ stateDir: state, poolSize: 1 });
const write = (name: string, bytes: number, salt: number) => writeVdi(host, state, name, bytes, salt);
const guest = (target: string, load: string, runtime = opts.runtime) => vdiGuest(host, target, load, runtime);
const started = (name: string) => startedOn(host, name);
const fdatasyncMs = () => syncIn(join(state, 'images'));
const ms = (xs: number[]) => summarize(xs);

/** A collector run at full speed, timed: total, and where its copies' bytes were moved (the rest is flushes, renames, records). */
async function timedGc(sr: Parameters<typeof host.vdis.collectGarbage>[0]): Promise<{ seconds: number; copying_seconds: number; copied_bytes: number; steps: string[] }> {
  let copying = 0;
  let copied = 0;
  let from = 0;
  let at = 0;
  const t0 = performance.now();
  // When each coalesce step ended (s from the start, and when the copy's last byte moved): where the time outside the copies goes.
  const steps: string[] = [];
  const mark = (what: string) => steps.push(`${what} ${((performance.now() - t0) / 1000).toFixed(2)}`);
  await host.vdis.collectGarbage(sr, {
    duty: 1,
    onStep: (step) => {
      if (step === 'copied') mark(`last byte copied ${((from - t0) / 1000).toFixed(2)}, flushed:`);
      mark(step);
    },
    progress: (done) => {
      const now = performance.now();
      // A new coalesce's copy starts from 0 (its first step is not counted).
      if (done > at && from !== 0) copying += now - from;
      copied += done > at ? done - at : 0;
      from = now;
      at = done;
    },
  });
  return { seconds: (performance.now() - t0) / 1000, copying_seconds: copying / 1000, copied_bytes: copied, steps };
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
      await host.vdis.destroy(v.record.uuid, { gc: false });
    }
  }
  const sr = await host.storage.resolve('default');
  await host.vdis.collectGarbage(sr, { duty: 1 });
  // Under a guest writing: the same load with and without snapshots.
  // The guest works on the allocated part of the VDI (a guest's working set), so that what it
  // writes during the bench is coalesced in minutes, not hours, on a loaded machine.
  const randwrite = `rw=randwrite bs=4096 qd=32 size=${ALLOC}`;
  const baseline = await guest('root', randwrite).done;
  const g = guest('root', randwrite, Math.max(opts.runtime, opts.count));
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
  for (const v of await host.vdis.list()) if (v.record.name_label.startsWith('live')) await host.vdis.destroy(v.record.uuid, { gc: false });
  const liveGc = await timedGc(sr);

  // Coalesce rate: a leaf with ALLOC of new data, its snapshot destroyed, coalesced at full speed; cp of the same file.
  await host.vdis.create({ sr: 'default', name: 'co', size, format: 'vhd' });
  await write('co', ALLOC, 2);
  const coSnap = await host.vdis.snapshot('co', { name: 'co-s', clone: false });
  await write('co', ALLOC, 3);
  const co = (await host.vdis.list()).find((x) => x.record.name_label === 'co')!;
  const leafFile = join(state, 'images', co.record.location);
  const leafBytes = (await stat(leafFile)).size;
  // cp and then fdatasync of the copy (`sync -d`): a coalesce ends with its parent flushed too.
  const tCp = performance.now();
  await run('cp', [leafFile, join(state, 'cp-copy')]);
  await run('sync', ['-d', join(state, 'cp-copy')]);
  const cpS = (performance.now() - tCp) / 1000;
  await rm(join(state, 'cp-copy'));
  await host.vdis.destroy(coSnap.record.uuid, { gc: false });
  const coGc = await timedGc(sr);
  const coS = coGc.seconds;

  // The throttled collector next to a guest: coalesce a second leaf while the guest reads root.
  const randread = `rw=randread bs=4096 qd=32 size=${ALLOC}`;
  await host.vdis.create({ sr: 'default', name: 'bg', size, format: 'vhd' });
  await write('bg', ALLOC, 4);
  const bgSnap = await host.vdis.snapshot('bg', { name: 'bg-s', clone: false });
  await write('bg', ALLOC, 5);
  await host.vdis.destroy(bgSnap.record.uuid, { gc: false });
  const alone: Point[] = [];
  const withGc: Point[] = [];
  for (let r = 0; r < opts['gc-rounds']; r++) {
    for (const gcOn of r % 2 === 0 ? [false, true] : [true, false]) {
      if (!gcOn) {
        alone.push(await guest('root', randread).done);
        continue;
      }
      const stop = new AbortController();
      const gc = host.vdis.collectGarbage(sr, { signal: stop.signal }).catch((e: unknown) => {
        if (!stop.signal.aborted) throw e;
      });
      const g2 = guest('root', randread);
      withGc.push(await g2.done);
      stop.abort();
      await gc;
    }
    process.stderr.write(`throttled collector, round ${r + 1}/${opts['gc-rounds']}: alone ${alone[r]!.iops}, with ${withGc[r]!.iops} IOPS\n`);
  }
  // Then to its end (the records and files left as the collector leaves them).
  const tBg = performance.now();
  await host.vdis.collectGarbage(sr, { duty: 1 });
  const bgS = (performance.now() - tBg) / 1000;
  const throttled = ratioOf(alone, withGc);

  // Live leaf-coalesce: root's leaf (a snapshot of it taken, then --alloc-gb/8 written, the
  // snapshot destroyed) coalesced by the throttled collector while a guest writes to root: the
  // guest's IOPS next to the same load alone, and the pause at the switch. The guest writes
  // 4 KiB at random in the first 64 MiB at queue depth 1: a writer the throttled copy can
  // catch up with (one that writes faster makes the collector give up and retry later, as
  // sm's does; `deferred` says so).
  const light = 'rw=randwrite bs=4096 qd=1 size=67108864';
  const lightAlone = await guest('root', light).done;
  const liveSnap = await host.vdis.snapshot('root', { name: 'lc-s', clone: false });
  await write('root', ALLOC / 8, 6);
  await host.vdis.destroy(liveSnap.record.uuid, { gc: false });
  const g4 = guest('root', light, Math.max(opts.runtime, 15));
  await started(g4.name);
  const tLc = performance.now();
  const lc = await host.vdis.collectGarbage(sr);
  const lcS = (performance.now() - tLc) / 1000;
  const duringLc = await g4.done;

  emit({
    bench: 'snapshot', size_gb: opts['size-gb'], alloc_gb: opts['alloc-gb'], runtime_s: opts.runtime, count: opts.count,
    loadavg_1m: loadavg()[0],
    // A snapshot is about 8 synchronous flushes (journal, new files, directory, the host database): its physical limit.
    fdatasync_ms: syncMs, fdatasync_after_ms: await fdatasyncMs(),
    offline_snapshot_ms: ms(offline.snapshot), offline_clone_ms: ms(offline.clone),
    offline_snapshot_in_fdatasyncs: ms(offline.snapshot).median / syncMs,
    live_snapshot_ms: ms(live.total), live_paused_ms: ms(live.paused),
    guest_randwrite_4k: { without_snapshots: baseline, with_snapshots: during, ratio_iops: during.iops / baseline.iops },
    live_chain_coalesce: liveGc,
    coalesce: { bytes: ALLOC, seconds: coS, copying_seconds: coGc.copying_seconds, steps: coGc.steps, mb_s: ALLOC / MiB / coS, cp_seconds: cpS, cp_bytes: leafBytes, cp_mb_s: leafBytes / MiB / cpS, ratio_to_cp: cpS / coS },
    throttled_gc: {
      ratio_iops: throttled.ratio, round_ratios: throttled.round_ratios, iqr: throttled.iqr, ratio_of_sums: throttled.ratio_of_sums, goal: 0.8, met: throttled.ratio >= 0.8,
      guest_randread_4k_alone: alone, guest_randread_4k_with_gc: withGc, rest_at_full_speed_seconds: bgS,
    },
    live_leaf_coalesce: {
      bytes: ALLOC / 8, seconds: lcS, live: lc.coalesced.some((c) => c.live === true), paused_ms: lc.coalesced.find((c) => c.live)?.pausedMs ?? null,
      deferred: lc.deferred, guest_light_randwrite_4k_alone: lightAlone, guest_light_randwrite_4k_during: duringLc, ratio_iops: duringLc.iops / lightAlone.iops,
    },
  });
} finally {
  await host.close();
  await rm(state, { recursive: true, force: true });
}
