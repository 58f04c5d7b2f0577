// Create-to-main() through pre-built domains (shells, src/toolstack/shells.ts), as LightVM's
// split toolstack does it, through the command API as `xenode create` calls it, next to the
// same creates without shells (a vCPU thread from the pool: the warm path before shells; a
// fresh thread: cold) and in a shared cpupool (a realm parked there as a shell, with and without
// a PV disk, and a realm built at the create), with the breakdown
// of a shell's create: dom0 (the create call until the kernel's post to the shell begins),
// delivery (the post, until the parked vCPU thread has the message), the guest (its kernel run, main()
// called; the kernel a script compiled ahead from V8's code cache). create-to-main() ends at
// the guest's own mark; the API's reply comes once dom0 has heard of it.
// The physical limit measured in the same run: a message to an idle worker thread and its
// reply, which any hand-off to a waiting thread costs. Cold creates against their floor, in
// rounds with them: a bare worker thread's start to its first message, one started as a vCPU
// thread is (the pool's options: heap limits, captured stdio, workerData) on an empty
// CommonJS file (a vCPU thread's entry, dist/guest.cjs, is one), and one on the guest runtime
// until it says it is ready.
//
// Then Jitsu's summoning: a DNS query that boots its guest from a parked shell (summon.ts).
// Last, a storm: --storm creates at once from 10 clients of the command API (each succeeds or
// is refused with EAGAIN/ENOMEM), while an eleventh client times `list` (goal: within 100 ms).
//
// --running=N[,M...]: then idle guests are booted into the shared pool of parked shells (memory=16,
// so built, not claimed; 10 at a time; stopped at --fill-seconds, or when the host's available
// memory falls under --reserve-mib) up to each count in turn, and at each the shells' creates are
// timed again with them running, next to the host's RSS per idle guest (issue 18: under 1 ms at 0,
// 1,000 and 10,000 running). The pool has --parked-cpus pCPU threads: a thread's V8 heap holds
// about 4 GiB, some 5,000 idle realms, so 10,000 want at least 3.
//
//   npm run bench -- shells [--samples=30] [--gap=200] [--shells=4] [--storm=200] [--running=0] [--fill-seconds=900]
//                           [--parked-cpus=1] [--reserve-mib=3072] [--only=cold]
//
// --only=cold: the cold rounds alone (a few seconds: for paired runs of two trees).
import '../src/hypervisor/marking.js'; // V8's marking flags at the start: underDaemonAllocator runs this file again in a process of its own
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Resolver } from 'node:dns/promises';
import { Worker } from 'node:worker_threads';
import { GUEST_IMAGE } from '../src/guest/image.js';
import { VcpuPool } from '../src/hypervisor/vcpu.js';
import type { BootMarks } from '../src/hypervisor/vcpu.js';
import { memorySplit } from '../src/toolstack/builder.js';
import type { BuiltDomain } from '../src/toolstack/builder.js';
import { ToolstackApi } from '../src/toolstack/api.js';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { Host } from '../src/toolstack/host.js';
import { HostLog } from '../src/toolstack/hostlog.js';
import { benchOptions, emit, summarize, underDaemonAllocator } from './support/harness.js';

await underDaemonAllocator(import.meta.url);
const opts = benchOptions(
  { samples: 30, gap: 200, shells: 4, storm: 200, 'fill-seconds': 900, 'parked-cpus': 1, 'reserve-mib': 3072 },
  { running: '0', only: '' },
);
if (opts.only !== '' && opts.only !== 'cold') throw new Error(`--only wants cold, not ${opts.only}`);
const runningCounts = opts.running.split(',').map(Number).filter((n) => n > 0);
if (runningCounts.some((n, i) => !Number.isInteger(n) || n <= (runningCounts[i - 1] ?? 0))) {
  throw new Error(`--running wants rising counts of guests, not ${opts.running}`);
}
const KERNEL = fileURLToPath(new URL('../../bench/guests/idle.ts', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-shells-'));
const disk = join(dir, 'disk.img');
await writeFile(disk, Buffer.alloc(1 << 20));
let seq = 0;
const configText = (withDisk: boolean, pool?: string) =>
  `name = "s${seq++}"\nkernel = "${KERNEL}"\nmemory = 32\n${withDisk ? `disk = [ 'vdev=xvda, target=${disk}' ]\n` : ''}${pool ? `pool = "${pool}"\n` : ''}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const wall = () => performance.timeOrigin + performance.now();

interface Sample {
  /** The API's create call until main() is called (the guest's clock). */
  total: number;
  /** The API's create call until its reply (it replies once dom0 heard of main()). */
  api: number;
  dom0: number;
  delivery: number;
  guest: number;
  /** From the hand-over: the kernel's top level run (a script) or its import started; the kernel linked. */
  named: number;
  linked: number;
  fromShell: boolean;
}

/** One create through the command API (as `xenode create` does it), then its destroy. */
async function one(host: Host, api: ToolstackApi, withDisk: boolean, pool?: string): Promise<Sample> {
  let built: BuiltDomain | undefined;
  const take = host.create.bind(host);
  // The built domain's marks and when its kernel was posted: the API returns its domid only.
  host.create = async (...a: Parameters<Host['create']>) => (built = await take(...a));
  loopDelay.reset();
  const t0 = wall();
  try {
    await api.call('create', { file: KERNEL, text: configText(withDisk, pool) });
  } finally {
    host.create = take;
  }
  const t3 = wall();
  const marks = await built!.vcpu.mainCalled;
  const t4 = wall();
  await host.destroy(built!.domain.domid);
  const handed = marks?.handed;
  const posted = built!.postedAt;
  // A create or destroy over a second (one of 30beb81's took 129 s, cause unknown): what it was
  // waiting for, beside the host's log on stderr. A create counts until dom0 hears of its main()
  // (t4), which comes after both the API's reply (t3) and main() itself (`total`).
  if (t4 - t0 > SLOW_MS || wall() - t4 > SLOW_MS) slow(host, built!, pool, withDisk, { t0, t3, t4, marks });
  return {
    total: marks?.linked !== undefined ? marks.linked - t0 : t3 - t0,
    api: t3 - t0,
    dom0: posted !== undefined ? posted - t0 : NaN,
    delivery: handed !== undefined && posted !== undefined ? handed - posted : NaN,
    guest: handed === undefined ? NaN : marks!.linked! - handed,
    named: handed === undefined ? NaN : marks!.named! - handed,
    linked: handed === undefined ? NaN : marks!.linked! - handed,
    fromShell: handed !== undefined,
  };
}

const SLOW_MS = 1000;
let slowCreates = 0;
/** dom0's event loop, sampled every 20 ms: a slow create's longest block of dom0's thread. */
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

function slow(host: Host, built: BuiltDomain, pool: string | undefined, withDisk: boolean, t: { t0: number; t3: number; t4: number; marks: BootMarks | undefined }): void {
  slowCreates++;
  const at = (x: number | undefined) => (x === undefined ? undefined : Math.round((x - t.t0) * 100) / 100);
  console.error(`slow create: ${JSON.stringify({
    at: new Date().toISOString(), domid: built.domain.domid, pool: pool ?? 'Pool-0', disk: withDisk, load: loadavg(),
    timings: built.timings, posted: at(built.postedAt), booted: at(t.marks?.booted), handed: at(t.marks?.handed), main: at(t.marks?.linked),
    reply: at(t.t3), main_seen: at(t.t4), destroy_ms: Math.round(wall() - t.t4), dom0_loop_blocked_max_ms: Math.round(loopDelay.max / 1e6),
    pcpu_turns: pool === undefined ? undefined : host.cpupools.get(pool)?.turns(),
  })}`);
}

async function series(host: Host, withDisk: boolean, gapMs: number, pool?: string): Promise<Sample[]> {
  const api = new ToolstackApi(host, { log: new HostLog() });
  const out: Sample[] = [];
  for (let i = 0; i < 2; i++) await one(host, api, withDisk, pool); // JIT, kernel image cache
  for (let i = 0; i < opts.samples; i++) {
    await sleep(gapMs);
    out.push(await one(host, api, withDisk, pool));
  }
  return out;
}

const stats = (xs: number[]) => {
  const s = summarize(xs.filter((x) => Number.isFinite(x)));
  return { p50: s.median, p99: s.p99 };
};
const report = (samples: Sample[]) => ({
  ...stats(samples.map((s) => s.total)),
  api_reply: stats(samples.map((s) => s.api)),
  from_shell: samples.filter((s) => s.fromShell).length,
  dom0_p50: stats(samples.map((s) => s.dom0)).p50,
  delivery_p50: stats(samples.map((s) => s.delivery)).p50,
  guest_p50: stats(samples.map((s) => s.guest)).p50,
  guest_named_p50: stats(samples.map((s) => s.named)).p50,
  guest_linked_p50: stats(samples.map((s) => s.linked)).p50,
});

/** The physical limit of a hand-off: an idle worker thread gets a message and replies. */
async function handoffRoundTrip(n: number): Promise<number[]> {
  const w = new Worker('const p = require("node:worker_threads").parentPort; p.on("message", (m) => p.postMessage(m));', { eval: true });
  const out: number[] = [];
  for (let i = 0; i < n + 2; i++) {
    await sleep(Math.min(opts.gap, 50)); // let it go idle, as a parked shell is
    const t0 = performance.now();
    await new Promise((r) => {
      w.once('message', r);
      w.postMessage(i);
    });
    if (i >= 2) out.push(performance.now() - t0);
  }
  await w.terminate();
  return out;
}

/**
 * Cold creates against their floor, in rounds: each round starts a bare worker thread, one
 * with a vCPU thread's options on an empty CommonJS file and one on the guest runtime (each until
 * its first message, then terminated), and makes one cold create, in an order reversed every
 * other round, so that the machine's drift falls on all alike. The ratios are the median of
 * the rounds' own.
 */
async function coldAgainstFloor(host: Host, n: number) {
  const api = new ToolstackApi(host, { log: new HostLog() });
  const empty = join(dir, 'empty.cjs');
  await writeFile(empty, "require('node:worker_threads').parentPort.postMessage({ type: 'ready' });\n");
  const heap = { heapMb: memorySplit(32).heapMb };
  const thread = (image: URL) => async () => {
    const { worker, ready } = new VcpuPool({ size: 0, image }).take(heap);
    await ready;
    return () => worker.terminate();
  };
  const kinds = {
    bare: async () => {
      const worker = new Worker('require("node:worker_threads").parentPort.postMessage(0);', { eval: true });
      await new Promise((r) => worker.once('message', r));
      return () => worker.terminate();
    },
    vcpu_options_empty_script: thread(pathToFileURL(empty)),
    runtime_ready: thread(GUEST_IMAGE),
  };
  const names = [...Object.keys(kinds), 'cold'] as (keyof typeof kinds | 'cold')[];
  const ms = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<(typeof names)[number], number[]>;
  const cold: Sample[] = [];
  for (let i = -2; i < n; i++) {
    for (const k of i % 2 === 0 ? names : [...names].reverse()) {
      await sleep(50);
      if (k === 'cold') {
        const sample = await one(host, api, false);
        if (i >= 0) cold.push(sample);
        if (i >= 0) ms.cold.push(sample.total);
        continue;
      }
      const t0 = performance.now();
      const stop = await kinds[k]();
      if (i >= 0) ms[k].push(performance.now() - t0);
      await stop();
    }
  }
  const ratio = (k: keyof typeof kinds) => summarize(ms.cold.map((c, i) => c / ms[k][i]!)).median;
  return {
    cold,
    floor: Object.fromEntries(Object.keys(kinds).map((k) => [k, stats(ms[k as keyof typeof kinds])])),
    cold_over_bare: ratio('bare'),
    cold_minus_bare: summarize(ms.cold.map((c, i) => c - ms.bare[i]!)).median,
    cold_over_runtime_ready: ratio('runtime_ready'),
    cold_over_vcpu_options: ratio('vcpu_options_empty_script'),
  };
}

/** --storm creates from 10 clients at once, `list` timed throughout; every domain destroyed after. */
async function storm(host: Host): Promise<{ created: number; refused: Record<string, number>; list_ms: { p50: number; p99: number; max: number; n: number } }> {
  const api = new ToolstackApi(host, { log: new HostLog() });
  const listMs: number[] = [];
  let going = true;
  const lister = (async () => {
    while (going) {
      const t0 = performance.now();
      await api.call('list', {});
      listMs.push(performance.now() - t0);
      await sleep(5);
    }
  })();
  const refused: Record<string, number> = {};
  const ids: number[] = [];
  const perClient = Math.ceil(opts.storm / 10);
  await Promise.all(Array.from({ length: 10 }, (_, c) => Promise.all(Array.from({ length: perClient }, async (_, i) => {
    try {
      const text = `name = "storm-${c}-${i}"\nkernel = "${KERNEL}"\nmemory = 32\n`;
      ids.push((await api.call('create', { file: KERNEL, text })).domid);
    } catch (e) {
      const errno = (e as { errno?: string }).errno ?? String(e);
      refused[errno] = (refused[errno] ?? 0) + 1;
    }
  }))));
  going = false;
  await lister;
  await Promise.all(ids.map((id) => host.destroy(id)));
  const s = summarize(listMs);
  return { created: ids.length, refused, list_ms: { p50: s.median, p99: s.p99, max: Math.max(...listMs), n: s.n } };
}

/**
 * Jitsu's summoning: a summoned name's first DNS query boots its guest from a shell parked in
 * the pool and is answered once main() runs; the next query is answered at once. Each name is
 * summoned, asked twice, and its guest destroyed, --samples/5 times.
 */
async function summon(host: Host): Promise<{ first_query_ms: { p50: number; p99: number }; running_query_ms: { p50: number; p99: number } }> {
  const { address, port } = await host.summoner.listen();
  // c-ares waits at most 5 s per try whatever `timeout` says; three tries wait about 30 s.
  const resolver = new Resolver({ timeout: 5_000, tries: 3 });
  resolver.setServers([`${address}:${port}`]);
  const first: number[] = [];
  const again: number[] = [];
  for (let i = 0; i < Math.max(3, Math.round(opts.samples / 5)); i++) {
    await sleep(opts.gap);
    const name = `app${i}.summon.test`;
    const config = parseDomainConfig(`name = "app${i}"\nkernel = "${KERNEL}"\nmemory = 32\npool = "parked"\nvif = [ 'bridge=xenbr0,ip=10.0.0.9' ]\n`, KERNEL).config;
    host.summoner.add(name, config);
    let t0 = performance.now();
    await resolver.resolve4(name);
    first.push(performance.now() - t0);
    t0 = performance.now();
    await resolver.resolve4(name);
    again.push(performance.now() - t0);
    host.summoner.remove(name);
    await host.destroy(host.domains().find((d) => d.name === `app${i}`)!.domid);
  }
  return { first_query_ms: stats(first), running_query_ms: stats(again) };
}

/** The host's available memory (MemAvailable), in MiB. */
const availableMib = () => Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024;
const rssMib = () => process.memoryUsage().rss / 2 ** 20;

interface Checkpoint {
  running: number;
  fillS: number;
  /** The host's RSS over its RSS before the fill, per idle guest, after the series. */
  rssMibPerGuest: number;
  stoppedBy?: string;
  samples: Sample[];
}

/**
 * Idle guests booted into the pool of parked shells (memory=16: no shell fits them, so each is
 * built), 10 at a time, up to each of `counts` in turn, the shells' series run at each. Bounded:
 * it stops at --fill-seconds, at a failed create, or when the host's available memory falls
 * under --reserve-mib, and runs the series at what it reached.
 */
async function withRunning(host: Host, counts: number[]): Promise<Checkpoint[]> {
  const t0 = performance.now();
  const rss0 = rssMib();
  const out: Checkpoint[] = [];
  let running = 0;
  let stoppedBy: string | undefined;
  for (const n of counts) {
    while (running < n && !stoppedBy) {
      if (performance.now() - t0 > opts['fill-seconds'] * 1000) stoppedBy = `--fill-seconds=${opts['fill-seconds']}`;
      else if (availableMib() < opts['reserve-mib']) stoppedBy = `host memory available under ${opts['reserve-mib']} MiB`;
      if (stoppedBy) break;
      const batch = Math.min(10, n - running);
      const made = await Promise.allSettled(Array.from({ length: batch }, async (_, i) => {
        const config = parseDomainConfig(`name = "idle-${running + i}"\nkernel = "${KERNEL}"\nmemory = 16\npool = "parked"\n`, KERNEL).config;
        await (await host.create(config)).vcpu.mainCalled;
      }));
      const failed = made.find((m) => m.status === 'rejected');
      running += made.filter((m) => m.status === 'fulfilled').length;
      if (failed) stoppedBy = `a create failed: ${String((failed as PromiseRejectedResult).reason?.message ?? failed.reason)}`;
      if (running % 500 < batch) console.error(`${running} guests running, ${Math.round((performance.now() - t0) / 1000)} s, RSS ${Math.round(rssMib())} MiB`);
    }
    const fillS = (performance.now() - t0) / 1000;
    await sleep(2000); // the pool's shells refilled, its spare realms made
    const samples = await series(host, false, opts.gap, 'parked');
    out.push({ running, fillS, rssMibPerGuest: (rssMib() - rss0) / Math.max(1, running), ...(stoppedBy && { stoppedBy }), samples });
    if (stoppedBy) break;
  }
  return out;
}

/** The cold rounds and their floor, as the whole run reports them. */
async function coldReport() {
  const cold = await Host.start({ poolSize: 0, log: (line) => console.error(line) });
  const rounds = await coldAgainstFloor(cold, opts.samples);
  await cold.close();
  return {
    cold_ms: report(rounds.cold),
    worker_floor_ms: rounds.floor,
    cold_over_bare: rounds.cold_over_bare,
    cold_minus_bare_ms: rounds.cold_minus_bare,
    cold_over_runtime_ready: rounds.cold_over_runtime_ready,
    cold_over_vcpu_options: rounds.cold_over_vcpu_options,
  };
}

/** Every series of the bench, then its one line. */
async function everyFigure() {
  // The host's log goes to stderr: a pCPU reset or a guest crashed during the fill shows there.
  const shelled = await Host.start({ poolSize: 2, shells: { count: opts.shells, memory: 32 }, log: (line) => console.error(line) });
  await sleep(2000);
  const warm = await series(shelled, false, opts.gap);
  const disked = await series(shelled, true, opts.gap);
  const stormed = await storm(shelled);

  // A shared cpupool (issue 18): a realm on a pCPU thread; with shells parked there, and without
  // (the pCPU's spare realm, the library OS loaded, the domain built at the create).
  await shelled.createCpupool('parked', opts['parked-cpus'], 'credit', { shells: { count: opts.shells, memory: 32 } });
  await shelled.createCpupool('dense', 1);
  await sleep(1000);
  const sharedShells = await series(shelled, false, opts.gap, 'parked');
  const sharedShellsDisk = await series(shelled, true, opts.gap, 'parked');
  const shared = await series(shelled, false, opts.gap, 'dense');
  const summoned = await summon(shelled);
  const running = runningCounts.length > 0 ? await withRunning(shelled, runningCounts) : undefined;
  // With the running guests: their destroys, and their pCPU threads' exits (bounded, logged).
  const closing = performance.now();
  await shelled.close();
  const closeS = (performance.now() - closing) / 1000;

  const pooled = await Host.start({ poolSize: 2, log: (line) => console.error(line) });
  pooled.pool.warm({ heapMb: 24 });
  await sleep(1000);
  const threadPool = await series(pooled, false, opts.gap);
  await pooled.close();

  const cold = await coldReport();

  const limit = stats(await handoffRoundTrip(opts.samples));
  const w = report(warm);
  emit({
    bench: 'shells',
    samples: opts.samples,
    shells: opts.shells,
    warm_ms: w,
    warm_disk_ms: report(disked),
    shared_pool_shells_ms: report(sharedShells),
    shared_pool_shells_disk_ms: report(sharedShellsDisk),
    shared_pool_ms: report(shared),
    ...(running && {
      shared_pool_shells_running_ms: running.map((c) => ({
        running: c.running, fill_s: c.fillS, rss_mib_per_guest: c.rssMibPerGuest, ...(c.stoppedBy && { stopped_by: c.stoppedBy }),
        ...report(c.samples),
        over_0_p50: stats(c.samples.map((x) => x.total)).p50 / stats(sharedShells.map((x) => x.total)).p50,
      })),
      host_close_s: closeS,
    }),
    summon: summoned,
    thread_pool_ms: report(threadPool),
    ...cold,
    limit_handoff_roundtrip_ms: limit,
    warm_over_limit_p50: w.p50 / limit.p50,
    storm: { creates: opts.storm, clients: 10, ...stormed },
    slow_creates: slowCreates,
    targets: { warm_p50_ms: 2, warm_disk_p50_ms: 3, cold_p50_ms: 40, shared_pool_p50_ms: 1, storm_list_max_ms: 100 },
  });
}

try {
  if (opts.only === 'cold') emit({ bench: 'shells', only: 'cold', samples: opts.samples, ...(await coldReport()), slow_creates: slowCreates, targets: { cold_p50_ms: 40 } });
  else await everyFigure();
} finally {
  await rm(dir, { recursive: true, force: true });
}
