// How many idle guests a host holds, how fast they boot back to back, and whether a create
// costs the same with 1,000 running as with none. The issue's three figures (issue 17: 1,000
// guests in under 20 s; the median create of the last 100 within 1.5x that of the first 100,
// p99 within 2x; under 5 MiB each) are the `issue` object of the JSON line. The guests run in a
// shared cpupool of --cpus pCPU threads (a realm each, issue 18), or with --cpus=0 in Pool-0 (a
// vCPU thread each). Next to them, in the same run: --pool0 guests booted the same way in
// Pool-0, in a process of their own (this bench with --cpus=0), as the reference of a thread per
// domain; and the physical floor of that: --floor bare worker threads (no library OS) started
// back to back, their CPU and memory each.
//
//   npm run bench -- density [--guests=1000] [--cpus=2] [--memory=16] [--state=1] [--batch=100] [--seconds=100] [--floor=20] [--pool0=50]
//
// --state=1 runs the host as `xenode host` does, with a state directory (its database on disk);
// --state=0 keeps the database in memory. --pool0=0 and --floor=0 skip the references.
//
// Bounded: it stops booting at --seconds and reports what it reached.
import '../src/hypervisor/marking.js'; // V8's marking flags at the start: underDaemonAllocator runs this file again in a process of its own
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EVTCHNSTAT_closed } from '../src/abi/event_channel.js';
import { maxPorts, portState } from '../src/hypervisor/evtchn.js';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { Host } from '../src/toolstack/host.js';
import { emit, numberOptions, summarize, underDaemonAllocator } from './support/harness.js';

await underDaemonAllocator(import.meta.url);
const opts = numberOptions(
  { guests: 1000, cpus: 2, memory: 16, state: 1, batch: 100, seconds: 100, floor: 20, pool0: 50 },
  ['cpus', 'state', 'floor', 'pool0'],
);
/** The issue compares the first 100 creates with the last 100. */
const WINDOW = 100;
const KERNEL = fileURLToPath(new URL('../../bench/guests/idle.ts', import.meta.url));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const rssMib = () => process.memoryUsage().rss / 2 ** 20;
/** What the next walls are counted in (Linux): memory mappings (vm.max_map_count), file descriptors, threads. */
const walls = () => ({
  maps: readFileSync('/proc/self/maps', 'utf8').split('\n').length - 1,
  fds: readdirSync('/proc/self/fd').length,
  threads: readdirSync('/proc/self/task').length,
});

/** Bare worker threads started back to back and kept: CPU and memory each, the floor of thread-per-domain. */
async function floor(n: number): Promise<{ ms_each: number; cpu_ms_each: number; mib_each: number }> {
  const rss0 = rssMib();
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const workers: Worker[] = [];
  for (let i = 0; i < n; i++) {
    const w = new Worker('const p = require("node:worker_threads").parentPort; p.postMessage(0); p.on("message", () => {});', {
      eval: true, resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 6 },
    });
    await new Promise((r) => w.once('message', r));
    workers.push(w);
  }
  const ms = (performance.now() - t0) / n;
  const cpu = (cpuMs() - cpu0) / n;
  await sleep(2000);
  const mib = (rssMib() - rss0) / n;
  await Promise.all(workers.map((w) => w.terminate()));
  return { ms_each: ms, cpu_ms_each: cpu, mib_each: mib };
}

/** dom0's bound ports (the 2-level ABI capped them at 4,095: 2,047 guests). */
function dom0Ports(): number {
  let n = 0;
  const max = maxPorts(host.hv.dom0.view);
  for (let p = 1; p <= max; p++) if (portState(host.hv.dom0.view, p) !== EVTCHNSTAT_closed) n++;
  return n;
}

/** The same boot in Pool-0 (a vCPU thread per domain), in a process of its own so that neither run's memory counts in the other. */
async function pool0Reference(n: number): Promise<Record<string, unknown>> {
  const args = [fileURLToPath(import.meta.url), '--cpus=0', `--guests=${n}`, `--batch=${Math.min(opts.batch, n)}`, '--floor=0', '--pool0=0',
    `--state=${opts.state}`, `--memory=${opts.memory}`, `--seconds=${opts.seconds}`];
  // Its progress goes to our stderr; its result is the last line of its stdout.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the Pool-0 reference run exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

const stateDir = opts.state ? await mkdtemp(join(tmpdir(), 'xenode-bench-density-')) : undefined;
// The host's log goes to stderr: a pCPU lost or a guest crashed shows there, next to the progress.
const host = await Host.start({ poolSize: opts.cpus > 0 ? 0 : 2, ...(stateDir && { stateDir }), log: (line) => console.error(line) });
if (opts.cpus > 0) await host.createCpupool('dense', opts.cpus);
else host.pool.warm({ heapMb: 24 });
const placement = opts.cpus > 0 ? 'pool = "dense"\n' : '';
await sleep(1000);
const rss0 = rssMib();
const walls0 = walls();
const cpu0 = cpuMs();
const t0 = performance.now();
const createMs: number[] = [];
const dom0Ms: number[] = [];
const domids: number[] = [];
/** Why booting stopped before --guests, if a create failed: the wall the run reached. */
let stoppedBy: string | undefined;
/** Every 1,000 guests: the host's RSS per guest so far and the time, to see where memory and time go as it fills. */
const checkpoints: { guests: number; s: number; rss_mib_per_guest: number; dom0_ports: number }[] = [];
for (let i = 0; i < opts.guests && performance.now() - t0 < opts.seconds * 1000; i++) {
  const config = parseDomainConfig(`name = "idle-${i}"\nkernel = "${KERNEL}"\nmemory = ${opts.memory}\n${placement}`, KERNEL).config;
  const c0 = performance.now();
  let built;
  try {
    built = await host.create(config);
  } catch (e) {
    stoppedBy = `create ${i + 1} failed: ${(e as Error)?.message ?? String(e)}`;
    console.error(stoppedBy);
    break;
  }
  dom0Ms.push(performance.now() - c0);
  domids.push(built.domain.domid);
  await built.vcpu.mainCalled;
  createMs.push(performance.now() - c0);
  if (createMs.length % opts.batch === 0) console.error(`${createMs.length} guests, ${Math.round((performance.now() - t0) / 1000)} s`);
  if (createMs.length % 1000 === 0) {
    checkpoints.push({
      guests: createMs.length, s: (performance.now() - t0) / 1000, rss_mib_per_guest: (rssMib() - rss0) / createMs.length,
      dom0_ports: dom0Ports(),
    });
  }
}
const bootS = (performance.now() - t0) / 1000;
const cpuEach = (cpuMs() - cpu0) / createMs.length;
await sleep(5000); // let the guests' and dom0's garbage collection settle
const mibEach = (rssMib() - rss0) / createMs.length;
const walls1 = walls();
// The realms' own JS heap, as their pCPUs last measured it (vm.measureMemory; 0 before a measurement).
const realmHeap = opts.cpus > 0 ? domids.reduce((n, d) => n + (host.cpupools.get('dense')!.heapBytes(d) ?? 0), 0) / domids.length / 2 ** 20 : undefined;
const perGuest = (k: keyof typeof walls0) => (walls1[k] - walls0[k]) / createMs.length;
const batches: { median: number; p99: number; dom0_median: number }[] = [];
for (let i = 0; i < createMs.length; i += opts.batch) {
  const s = summarize(createMs.slice(i, i + opts.batch));
  batches.push({ median: s.median, p99: s.p99, dom0_median: summarize(dom0Ms.slice(i, i + opts.batch)).median });
}
// Destroyed one by one (what a user's `xenode destroy` does), timed, before the host closes.
const tClose = performance.now();
for (const [i, d] of domids.entries()) {
  await host.destroy(d);
  if ((i + 1) % opts.batch === 0) console.error(`${i + 1} guests destroyed, ${Math.round(performance.now() - tClose)} ms`);
}
const destroyMsEach = (performance.now() - tClose) / domids.length;
await host.close();
if (stateDir) await rm(stateDir, { recursive: true, force: true });
const bare = opts.floor > 0 ? await floor(opts.floor) : undefined;
const window = Math.min(WINDOW, Math.floor(createMs.length / 2));
const first = summarize(createMs.slice(0, window));
const last = summarize(createMs.slice(-window));
const issue = {
  guests: createMs.length,
  boot_all_s: bootS,
  window,
  first_median_ms: first.median,
  first_p99_ms: first.p99,
  last_median_ms: last.median,
  last_p99_ms: last.p99,
  last_over_first_median: last.median / first.median,
  last_over_first_p99: last.p99 / first.p99,
  rss_mib_per_guest: mibEach,
};
const pool0 = opts.cpus > 0 && opts.pool0 > 0 ? ((await pool0Reference(opts.pool0)).issue as typeof issue) : undefined;
emit({
  bench: 'density',
  guests: createMs.length,
  ...(stoppedBy !== undefined && { stopped_by: stoppedBy }),
  pool: opts.cpus > 0 ? `shared, ${opts.cpus} pCPU threads` : 'Pool-0',
  database: stateDir ? 'on disk' : 'in memory',
  issue,
  ...(pool0 && {
    pool0_reference: { ...pool0, boot_s_per_1000_guests: (pool0.boot_all_s * 1000) / pool0.guests },
    over_pool0: {
      boot_per_guest: bootS / createMs.length / (pool0.boot_all_s / pool0.guests),
      create_median: first.median / pool0.first_median_ms,
      rss_per_guest: mibEach / pool0.rss_mib_per_guest,
    },
  }),
  batches,
  // create-to-main() at 0 running (the first batch), at 1,000 and at the most reached (the last batch)
  create_to_main_median_ms: {
    at_0: first.median,
    ...(batches.length > 1000 / opts.batch && { at_1000: batches[Math.floor(1000 / opts.batch)]!.median }),
    [`at_${(batches.length - 1) * opts.batch}`]: last.median,
  },
  checkpoints,
  cpu_ms_per_guest: cpuEach,
  destroy_ms_per_guest: destroyMsEach,
  ...(realmHeap !== undefined && { realm_heap_mib_per_guest: realmHeap }),
  per_guest: { maps: perGuest('maps'), fds: perGuest('fds'), threads: perGuest('threads') },
  limits: { max_map_count: Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8')), threads_max: Number(readFileSync('/proc/sys/kernel/threads-max', 'utf8')) },
  ...(bare && {
    floor_bare_worker: bare,
    floor_boot_all_s_on_all_cores: (bare.cpu_ms_each * createMs.length) / 1000 / availableParallelism(),
  }),
  targets: { boot_all_s: 20, last_over_first_median: 1.5, last_over_first_p99: 2, rss_mib_per_guest: 5 },
});
