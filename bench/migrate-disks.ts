// Live migration with its disk (xenode migrate --with-disks) between two hosts in this process
// over loopback TCP, each with its own state dir and SR: a guest (bench/guests/diskload.ts)
// writing 4 KiB blocks at random (qd 8) on a --size-gb VDI (--format, vhd by default) whose
// first --fill-gb are written, moved while it writes. Figures: the migration's total time and
// the bytes its disk copy sent (zero chunks skip), the guest's I/O stall at the switch (its last
// completed write at the source to its first at the destination) and its longest gap otherwise
// (the mirror's switch included), its writes per second over the run. Same-run limits: `cp` of
// the filled image on the same file system, writing it in the first place through the format's
// code (what the receiver does), the sender's downtime, and the same guest's writes per second
// for --seconds on host A alone.
//
//   npm run bench -- migrate-disks [--size-gb=1] [--fill-gb=1] [--seconds=3] [--format=vhd]
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, parseArgs } from 'node:util';
import { MigrationReceiver } from '../src/migration/receive.js';
import { migrateDomain } from '../src/migration/migrate.js';
import { imageFormat, parseParams } from '../src/storage/open.js';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { Host } from '../src/toolstack/host.js';
import { emit } from './support/harness.js';

const { values } = parseArgs({ options: { 'size-gb': { type: 'string' }, 'fill-gb': { type: 'string' }, seconds: { type: 'string' }, format: { type: 'string' } }, strict: true });
const num = (k: 'size-gb' | 'fill-gb' | 'seconds', d: number) => {
  const n = Number(values[k] ?? d);
  if (!(n > 0)) throw new Error(`--${k} wants a positive number, not ${values[k]}`);
  return n;
};
const sizeGb = num('size-gb', 1);
const fillGb = Math.min(num('fill-gb', 1), sizeGb);
const seconds = num('seconds', 3);
const format = values.format ?? 'vhd';
imageFormat(format);
const MiB = 2 ** 20;
const KERNEL = fileURLToPath(new URL('../../bench/guests/diskload.ts', import.meta.url));
const run = promisify(execFile);
const load0 = loadavg()[0];

const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-migdisk-'));
const a = await Host.start({ stateDir: join(dir, 'a'), poolSize: 1 });
const b = await Host.start({ stateDir: join(dir, 'b'), poolSize: 1 });
const tokenFile = join(dir, 'token');
const receiver = await MigrationReceiver.listen(b, { address: '127.0.0.1', port: 0, tokenFile, log: () => {} });
const token = (await readFile(tokenFile, 'utf8')).trim();

async function defaultSr(h: Host): Promise<string> {
  const ref = await h.storage.defaultSr();
  return h.storage.db.read((tx) => tx.SR.get(ref).uuid);
}

/** A new VDI on A with its first `fill` bytes written (1 MiB at a time, salted), its image's path, and how long the writes took. */
async function filledVdi(name: string): Promise<{ uuid: string; path: string; ms: number }> {
  const v = await a.vdis.create({ sr: await defaultSr(a), name, size: `${sizeGb * 1024}M`, format });
  const path = parseParams((await a.vdis.diskParams(v.record.uuid, 'rw')).params).target;
  const t = performance.now();
  const d = await imageFormat(format).open(path, { readOnly: false });
  const buf = new Uint8Array(MiB);
  for (let s = 0, i = 0; s < (fillGb * 1024 * MiB) / 512; s += MiB / 512, i++) {
    buf.fill(i & 0xff | 1);
    await d.write(s, [buf]);
  }
  await d.flush();
  await d.close();
  return { uuid: v.record.uuid, path, ms: performance.now() - t };
}

const node = (domid: number, k: string) => `/local/domain/${domid}/data/diskload/${k}`;

async function guest(name: string, vdi: string): Promise<number> {
  const cfg = `name = "${name}"\nkernel = "${KERNEL}"\nmemory = 32\ndisk = [ 'vdev=xvda, target=vdi:${vdi}' ]\nextra = "qd=8"\n`;
  const { domain } = await a.create(parseDomainConfig(cfg, KERNEL).config);
  await a.xs.wait(node(domain.domid, 'ready'), (v) => v === 'started', { timeout: 60_000 });
  return domain.domid;
}

interface Result { ops: number; max_gap_ms: number; switch_gap_ms: number; iops: number }

async function result(h: Host, domid: number): Promise<Result> {
  await h.xs.write(node(domid, 'stop'), '1');
  const r = await h.xs.wait(node(domid, 'result'), (v) => v !== undefined, { timeout: 60_000 });
  await h.destroy(domid);
  return JSON.parse(r!) as Result;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The limits, on the VDI that then moves: cp of its image, and the same guest's writes alone.
const moving = await filledVdi('moving');
const t0 = performance.now();
await run('cp', ['--sparse=always', moving.path, join(dir, 'copy')]);
const cpMs = performance.now() - t0;
await rm(join(dir, 'copy'));
const aloneDomid = await guest('diskload-alone', moving.uuid);
await pause(seconds * 1000);
const aloneResult = await result(a, aloneDomid);

// The migration, with the guest writing for `seconds` before and after.
const domid = await guest('diskload', moving.uuid);
await pause((seconds * 1000) / 2);
const m = await migrateDomain(a, domid, `127.0.0.1:${receiver.port}`, { token, withDisks: true });
const copied = Number(/([0-9]+) bytes copied/.exec(m.messages.find((l) => /bytes copied/.test(l)) ?? '')?.[1] ?? 0);
const there = b.hv.domains().find((d) => d.name === 'diskload')!;
await b.xs.wait(node(there.domid, 'ready'), (v) => v === 'resumed', { timeout: 60_000 });
await pause((seconds * 1000) / 2);
const moved = await result(b, there.domid);

await receiver.close();
await a.close();
await b.close();
await rm(dir, { recursive: true, force: true });
emit({
  bench: 'migrate-disks', format, size_gb: sizeGb, filled_gb: fillGb, load_average: [load0, loadavg()[0]],
  total_ms: m.totalMs, disk_copied_mb: copied / MiB, disk_copy_mb_s: copied / MiB / (m.totalMs / 1000), limit_cp_mb_s: (fillGb * 1024) / (cpMs / 1000),
  limit_format_write_mb_s: (fillGb * 1024) / (moving.ms / 1000),
  io_stall_at_switch_ms: moved.switch_gap_ms, sender_downtime_ms: m.downtimeMs, downtime_parts_ms: m.downtimePartsMs,
  longest_other_gap_ms: moved.max_gap_ms, guest_write_iops: moved.iops, limit_guest_write_iops_alone: aloneResult.iops,
});
