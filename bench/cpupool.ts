// Shared cpupools (issue 18) next to Pool-0 in the same run: create-to-main() latency with 0 and
// N idle guests running, memory per idle guest, and what a busy or spinning guest costs its pool
// mates (how late a mate's 10 ms timer fires; how long until the watchdog resets a spinner's pCPU).
//
//   npm run bench -- cpupool [--idle=1000] [--pool0-idle=40] [--samples=40] [--cpus=2] [--fill-seconds=60]
//   npm run bench -- cpupool --idle=10000 --cpus=4 --fill-seconds=900     # the 10,000 run
//
// The fill of --idle guests stops at --fill-seconds (a bound, for 10,000 on a loaded machine):
// the figures are then at the count reached, which the JSON line says (fill.guests). A pCPU
// thread's realms share its V8 heap (4 GiB by default here, about 0.8 MiB a realm): 10,000 idle
// guests need at least 3 pCPU threads, or each thread's heap nears its limit and every create
// waits for full GCs (where the 10,000 run on 2 pCPUs stalled).
import { fileURLToPath } from 'node:url';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { Host } from '../src/toolstack/host.js';
import { emit, numberOptions, summarize } from './support/harness.js';

const opts = numberOptions({ idle: 1000, 'pool0-idle': 40, samples: 40, cpus: 2, 'fill-seconds': 60 });
const guest = (name: string) => fileURLToPath(new URL(`../../bench/guests/${name}.ts`, import.meta.url));
let seq = 0;
const config = (kernel: string, extra = '') =>
  parseDomainConfig(`name = "g-${seq++}"\nkernel = "${guest(kernel)}"\nmemory = 16\n${extra}`, guest(kernel)).config;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function createToMain(host: Host, extra: string): Promise<{ ms: number; domid: number }> {
  const t0 = performance.now();
  const built = await host.create(config('idle', extra));
  await built.vcpu.mainCalled;
  return { ms: performance.now() - t0, domid: built.domain.domid };
}

async function samples(host: Host, extra: string, n: number, keep: boolean, pause: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    await sleep(pause);
    const r = await createToMain(host, extra);
    out.push(r.ms);
    if (!keep) await host.destroy(r.domid);
  }
  return out;
}

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const host = await Host.start({ poolSize: 4 });
await host.createCpupool('dense', opts.cpus);
const DENSE = 'pool = "dense"\n';

// ---- shared pool: create-to-main at 0 running, then fill, then at N running ----
await samples(host, DENSE, 3, false, 50); // kernel image, JIT
const shared0 = summarize(await samples(host, DENSE, opts.samples, false, 50));
const rss0 = rssMiB();
const tFill = performance.now();
const fill: number[] = [];
const fillEnd = tFill + opts['fill-seconds'] * 1000;
for (let i = 0; i < opts.idle && performance.now() < fillEnd; i++) {
  fill.push((await createToMain(host, DENSE)).ms);
  if (fill.length % 1000 === 0) console.error(`${fill.length} idle guests, ${Math.round((performance.now() - tFill) / 1000)} s`);
}
const fillS = (performance.now() - tFill) / 1000;
await sleep(1000);
const sharedPerIdle = (rssMiB() - rss0) / fill.length;
const sharedN = summarize(await samples(host, DENSE, opts.samples, true, 50));
const sharedDomids = host.hv.domains().filter((d) => d.domid !== 0).map((d) => d.domid);

// ---- Pool-0 in the same run ----
host.pool.warm({ heapMb: 12 });
await sleep(500);
await samples(host, '', 2, false, 300);
const pool0 = summarize(await samples(host, '', Math.min(opts.samples, 20), false, 300));
const rssP0 = rssMiB();
const pool0Idle: number[] = [];
for (let i = 0; i < opts['pool0-idle']; i++) pool0Idle.push((await createToMain(host, '')).domid);
await sleep(1000);
const pool0PerIdle = (rssMiB() - rssP0) / opts['pool0-idle'];
for (const d of [...pool0Idle, ...sharedDomids]) await host.destroy(d);

// ---- what a busy (yielding) and a spinning guest cost a pool mate ----
async function tickLateness(pool: string, mate?: string): Promise<{ median_ms: number; p99_ms: number; max_ms: number }> {
  const mates: number[] = [];
  if (mate) mates.push((await host.create(config(mate, `pool = "${pool}"\n`))).domain.domid);
  const t = await host.create(config('tick', `pool = "${pool}"\nextra = "ticks=200"\n`));
  const res = await host.xs.wait(`/local/domain/${t.domain.domid}/data/tick/result`, (v) => v !== undefined, { timeout: 60_000 });
  for (const d of [...mates, t.domain.domid]) await host.destroy(d);
  return JSON.parse(res!);
}
await host.createCpupool('mates', 1);
const alone = await tickLateness('mates');
const withBusy = await tickLateness('mates', 'busy');

// A spinner: how long its pool mate stalls before the watchdog resets the pCPU (it crashes with it).
await host.createCpupool('spin', 1);
const mate = await host.create(config('idle', 'pool = "spin"\non_crash = "preserve"\n'));
const crashed = new Promise<number>((resolve) => host.on('shutdown', (domid) => domid === mate.domain.domid && resolve(performance.now())));
const spinner = await host.create(config('spin', 'pool = "spin"\non_crash = "preserve"\n'));
await host.xs.wait(`/local/domain/${spinner.domain.domid}/data/spin/started`, (v) => v === '1', { timeout: 20_000 });
const spinStart = performance.now();
const stallMs = (await crashed) - spinStart;
await host.close();

emit({
  bench: 'cpupool',
  cpus: opts.cpus,
  create_to_main_ms: {
    shared: { running: 0, median: shared0.median, p99: shared0.p99 },
    shared_with_idle: { running: fill.length, median: sharedN.median, p99: sharedN.p99 },
    pool0: { running: 0, median: pool0.median, p99: pool0.p99 },
  },
  fill: { guests: fill.length, asked: opts.idle, seconds: fillS, median_ms: summarize(fill).median },
  rss_per_idle_mib: { shared: sharedPerIdle, pool0: pool0PerIdle, ratio: pool0PerIdle / sharedPerIdle },
  guests_per_24_gib: { shared: Math.floor((24 * 1024) / sharedPerIdle), pool0: Math.floor((24 * 1024) / pool0PerIdle) },
  mate_timer_lateness_ms: { alone, with_busy_mate: withBusy },
  spinner_stalls_mates_ms: stallMs,
  targets: { create_to_main_median_ms: 1, idle_guests_24_gib: 10_000 },
});
