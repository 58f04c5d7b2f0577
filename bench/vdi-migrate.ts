// Live VDI migration (Storage XenMotion within a host, issue 14): a --size-gb VHD VDI with
// --alloc-gb written, moved to a second directory SR while a blkbench guest does 4 KiB random
// writes (queue depth 32) on it. Figures, each next to its limit in the same run:
// - total time of vdi-migrate;
// - the copy's rate (the base chain, flattened into the destination) next to `cp` of the
//   same file and its fdatasync (`sync -d`; goal: at least 0.7x);
// - the guest's IOPS and p99 during the migration next to the same load just before it;
// - the longest pause of the guest's I/O (the switch to the destination is a swap: requests in
//   flight finish on the old disk; goal under 50 ms).
//
//   npm run bench -- vdi-migrate [--size-gb=1] [--alloc-gb=1] [--runtime=3]
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Host } from '../src/toolstack/host.js';
import { emit, numberOptions } from './support/harness.js';
import { started, vdiGuest, writeVdi } from './support/vdi-guest.js';

const opts = numberOptions({ 'size-gb': 1, 'alloc-gb': 1, runtime: 3 });
if (!Number.isInteger(opts['alloc-gb'] * 1024) || opts['alloc-gb'] > opts['size-gb']) {
  throw new Error(`--alloc-gb wants whole MiB (a multiple of 1/1024) up to --size-gb, not ${opts['alloc-gb']}`);
}
const MiB = 2 ** 20;
const state = await mkdtemp(join(tmpdir(), 'xenode-bench-vdi-migrate-'));
const host = await Host.start({ stateDir: state, poolSize: 1 });
const randwrite = 'rw=randwrite bs=4096 qd=32';
try {
  await host.vdis.create({ sr: 'default', name: 'root', size: `${Math.round(opts['size-gb'] * 1024)}M`, format: 'vhd' });
  await writeVdi(host, state, 'root', opts['alloc-gb'] * 1024 * MiB, 1);
  await host.storage.create({ name: 'fast', type: 'file', path: join(state, 'fast') });
  const root = (await host.vdis.list()).find((x) => x.record.name_label === 'root')!;
  const file = join(state, 'images', root.record.location);
  const fileBytes = (await stat(file)).size;
  // cp of the same file, to the same file system, in the same run: the copy's physical limit.
  const tCp = performance.now();
  await promisify(execFile)('cp', [file, join(state, 'cp-copy')]);
  await promisify(execFile)('sync', ['-d', join(state, 'cp-copy')]); // the migration's copy is flushed too
  const cpS = (performance.now() - tCp) / 1000;
  await rm(join(state, 'cp-copy'));
  const before = await vdiGuest(host, 'root', randwrite, opts.runtime).done;
  // The guest runs until well after the migration (its runtime covers it on a loaded machine).
  const g = vdiGuest(host, 'root', randwrite, Math.max(opts.runtime, 30 * opts['alloc-gb']));
  await started(host, g.name);
  const t0 = performance.now();
  const moved = await host.vdis.migrate('root', 'fast');
  const migS = (performance.now() - t0) / 1000;
  const tMoved = performance.now();
  const during = await g.done;
  const outlived = performance.now() > tMoved + 100; // its load still ran when the migration ended
  const copyS = moved.copyMs / 1000;
  emit({
    bench: 'vdi-migrate', size_gb: opts['size-gb'], alloc_gb: opts['alloc-gb'], runtime_s: opts.runtime, loadavg_1m: loadavg()[0],
    total_seconds: migS,
    copy: { bytes: moved.copiedBytes, seconds: copyS, mb_s: moved.copiedBytes / MiB / copyS, cp_bytes: fileBytes, cp_seconds: cpS, cp_mb_s: fileBytes / MiB / cpS, ratio_to_cp: (moved.copiedBytes / copyS) / (fileBytes / cpS) },
    mirrored_bytes: moved.mirroredBytes,
    max_paused_ms: moved.maxPausedMs,
    guest_randwrite_4k: { before, during_migration: during, ratio_iops: during.iops / before.iops, ratio_p99: during.p99_us / before.p99_us },
    guest_load_outlived_migration: outlived,
  });
} finally {
  await host.close();
  await rm(state, { recursive: true, force: true });
}
