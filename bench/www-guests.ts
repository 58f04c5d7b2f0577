// HTTP requests per second and p99 latency guest to guest: a load-generator guest
// (bench/guests/httpload.ts, a wrk-like keep-alive client over its own TCP/IP stack) against the
// www unikernel (examples/www) on one bridge, each a domain with its own vCPU thread; next to
// Node's own `http` server on loopback driven by the same client code over node:net, server and
// client each in a worker thread of a light module (one thread each, as the guests have, and at
// their priority; bench/support/http-load-worker.ts).
//
// The two sides run in paired rounds, the order swapped every other round, all four programs
// started once and kept warm (`--warmup` rounds of each first, not counted): the machine's drift
// falls on both sides of a round alike, and the figure is the median of the rounds' own ratios
// (bench/support/rounds.ts). Each round also gives every thread's busy share (event-loop
// utilisation over the measured seconds): dom0 (netback and the bridge), the two vCPUs, Node's
// server and client, which names the thread a side is bound by; and for the busiest threads
// their CPU share and how many times per request each got a CPU (`slices_per_request`: a
// thread's wake-ups, which is what a request/response exchange costs in hops).
//
//   npm run bench -- www-guests [--rounds=7] [--warmup=2] [--seconds=4] [--connections=30] [--ramp=0.5]
//
// A guest that shuts down meanwhile ends the bench at once with its console's last lines.
//
// The last line is JSON.
import { loadavg, tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GUEST_NICE } from '../src/hypervisor/sched.js';
import { formatIpv4 } from '../src/tcpip/addr.js';
import { startLocalHost } from '../src/toolstack/local.js';
import { GuestGuard } from './support/guest-guard.js';
import { emit, numberOptions } from './support/harness.js';
import type { LoadOptions, LoadResult } from './support/http-load.js';
import type { HttpLoadJob } from './support/http-load-worker.js';
import { roundRatio } from './support/rounds.js';
import { threadCpuNs, threadCpuSince, threadSlices } from './support/threads.js';

/** The guest programs, run as kernels (not imported). */
const WWW = fileURLToPath(new URL('../../examples/www/www.ts', import.meta.url));
const LOAD = fileURLToPath(new URL('../../bench/guests/httpload.ts', import.meta.url));
const WWW_MAC = '00:16:3e:77:77:01';
const NODE_SIDE = fileURLToPath(new URL('./support/http-load-worker.js', import.meta.url));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;

/**
 * One side's round: its result, each of its threads' busy share (event-loop utilisation: wall
 * time, so it counts a thread that is runnable but preempted as busy), the CPU share of the
 * process's busiest threads (Linux's per-task counters, by CPU, the main thread dom0's first:
 * the CPU each really got), the times each of those threads got a CPU per request (its
 * wake-ups, and its returns after a preemption), and the process's CPU per request.
 */
interface Round { readonly result: LoadResult; readonly busy: Record<string, number>; readonly cpu: number[]; readonly slices: number[]; readonly cpuUsPerRequest: number }

/** A thread of Node's side, at the priority the guests' vCPU threads have. */
function worker(job: Omit<HttpLoadJob, 'nice'>): Worker {
  return new Worker(NODE_SIDE, { workerData: { ...job, nice: GUEST_NICE } satisfies HttpLoadJob });
}

/** Busy shares of the threads named in `elu` (each: its active milliseconds so far) while `run` runs. */
async function measured(elu: Record<string, () => number>, run: () => Promise<LoadResult>): Promise<Round> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const before = Object.fromEntries(Object.entries(elu).map(([k, f]) => [k, f()]));
  const cpu0ns = threadCpuNs();
  const slices0 = threadSlices(cpu0ns.keys());
  const result = await run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const slices1 = threadSlices(cpu0ns.keys());
  const ticks = [...threadCpuSince(cpu0ns)].map(([tid, s]) => ({
    main: tid === process.pid, share: round2(s / (ms / 1000)),
    slices: round2(((slices1.get(tid)?.slices ?? 0) - (slices0.get(tid)?.slices ?? 0)) / ((result.rps * ms) / 1000)),
  }));
  const listed = [ticks.find((t) => t.main) ?? { share: 0, slices: 0 }, ...ticks.filter((t) => !t.main).sort((a, b) => b.share - a.share).slice(0, 3)];
  const threads = listed.map((t) => t.share);
  // The whole round's CPU (ramp and wind-down too) over its length at the measured rate.
  const cpuUsPerRequest = Math.round(((cpu.user + cpu.system) / ((result.rps * ms) / 1000)) * 10) / 10;
  return { result, busy: Object.fromEntries(Object.entries(elu).map(([k, f]) => [k, round2((f() - before[k]!) / ms)])), cpu: threads, slices: listed.map((t) => t.slices), cpuUsPerRequest };
}

async function main(): Promise<void> {
  const opts = numberOptions({ rounds: 7, warmup: 2, seconds: 4, connections: 30, ramp: 0.5 }, ['warmup']);
  const load0 = loadavg();
  const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-www-guests-'));
  const local = await startLocalHost({ stateDir: join(dir, 'state'), poolSize: 2 });
  const workers: Worker[] = [];
  const guard = new GuestGuard(local.host);
  try {
    const host = local.host;
    const www = await local.api.call('create', {
      file: join(dir, 'www.cfg'),
      text: `name = "www"\nkernel = "${WWW}"\nmemory = 64\nvif = [ 'mac=${WWW_MAC},bridge=xenbr0' ]\nextra = "port=80"\n`,
    });
    guard.watch(www.domid);
    const gw = host.gateway('xenbr0');
    const deadline = Date.now() + 60_000;
    let ip: number | undefined;
    while ((ip = gw.leaseFor(WWW_MAC)) === undefined) {
      if (Date.now() > deadline) throw new Error('www got no DHCP lease');
      await guard.race(sleep(50));
    }
    const extra = `target=${formatIpv4(ip)}:80 connections=${opts.connections} path=/hello ramp=${opts.ramp} runtime=${opts.seconds}`;
    const gen = await local.api.call('create', {
      file: join(dir, 'httpload.cfg'),
      text: `name = "httpload"\nkernel = "${LOAD}"\nmemory = 64\nvif = [ 'bridge=xenbr0' ]\nextra = "${extra}"\n`,
    });
    guard.watch(gen.domid);
    const node = (k: string) => `/local/domain/${gen.domid}/data/httpload/${k}`;
    await guard.race(host.xs.wait(node('ready'), (v) => v !== undefined, { timeout: 60_000 }));
    const cpuMs = (domid: number) => () => local.api.call('listColumns', { domains: [String(domid)] }).then((c) => c.cpuSeconds[0]! * 1000);
    // listColumns is asynchronous; the figures are read before and after, close enough at seconds.
    const vcpu = { www: 0, httpload: 0 };
    const readVcpus = async () => {
      vcpu.www = await cpuMs(www.domid)();
      vcpu.httpload = await cpuMs(gen.domid)();
    };
    const roundTimeout = (opts.seconds + opts.ramp) * 4000 + 60_000;
    let asked = 0;
    const guestRound = async (): Promise<Round> => {
      await readVcpus();
      const r = await measured({ dom0: () => performance.eventLoopUtilization().active, www: () => vcpu.www, httpload: () => vcpu.httpload }, async () => {
        const n = ++asked;
        await host.xs.write(node('go'), String(n));
        const out = JSON.parse((await guard.race(host.xs.wait(node('result'), (v) => v !== undefined && (JSON.parse(v) as { round: number }).round === n, { timeout: roundTimeout })))!) as LoadResult & { round?: number };
        await readVcpus();
        delete out.round;
        return out;
      });
      return r;
    };

    const server = worker({ role: 'serve' });
    workers.push(server);
    const port = await new Promise<number>((ok, fail) => server.once('message', ok).once('error', fail));
    const client = worker({ role: 'load', port });
    workers.push(client);
    const load: LoadOptions = { connections: opts.connections, path: '/hello', host: '127.0.0.1', rampMs: opts.ramp * 1000, runtimeMs: opts.seconds * 1000 };
    const nodeRound = () => measured({
      dom0: () => performance.eventLoopUtilization().active,
      server: () => server.performance.eventLoopUtilization().active, client: () => client.performance.eventLoopUtilization().active,
    }, () => {
      client.postMessage(load);
      return new Promise<LoadResult>((ok, fail) => client.once('message', ok).once('error', fail));
    });

    const sides = { guests: guestRound, node: nodeRound };
    const rounds: { guests: Round[]; node: Round[] } = { guests: [], node: [] };
    for (let r = 0; r < opts.warmup + opts.rounds; r++) {
      const order = r % 2 === 0 ? (['guests', 'node'] as const) : (['node', 'guests'] as const);
      const got: Partial<Record<'guests' | 'node', Round>> = {};
      for (const side of order) got[side] = await sides[side]();
      const counted = r >= opts.warmup;
      if (counted) {
        rounds.guests.push(got.guests!);
        rounds.node.push(got.node!);
      }
      process.stderr.write(`${counted ? `round ${r - opts.warmup + 1}/${opts.rounds}` : 'warm-up'}: guests ${got.guests!.result.rps.toFixed(0)} req/s ${got.guests!.cpuUsPerRequest} CPU-us/req busy ${JSON.stringify(got.guests!.busy)} cpu ${got.guests!.cpu.join('/')} slices/req ${got.guests!.slices.join('/')}, ` +
        `node ${got.node!.result.rps.toFixed(0)} req/s ${got.node!.cpuUsPerRequest} CPU-us/req busy ${JSON.stringify(got.node!.busy)} cpu ${got.node!.cpu.join('/')} slices/req ${got.node!.slices.join('/')}, load ${round2(loadavg()[0]!)}\n`);
    }
    const side = (rs: readonly Round[]) => ({
      rps: median(rs.map((x) => x.result.rps)), p50_ms: median(rs.map((x) => x.result.p50_ms)), p99_ms: median(rs.map((x) => x.result.p99_ms)),
      errors: rs.reduce((n, x) => n + x.result.errors, 0), cpu_us_per_request: median(rs.map((x) => x.cpuUsPerRequest)),
      busy: Object.fromEntries(Object.keys(rs[0]!.busy).map((k) => [k, median(rs.map((x) => x.busy[k]!))])),
      cpu_main_then_busiest: rs[0]!.cpu.map((_, i) => median(rs.map((x) => x.cpu[i] ?? 0))),
      slices_per_request_main_then_busiest: rs[0]!.slices.map((_, i) => median(rs.map((x) => x.slices[i] ?? 0))),
    });
    const ratio = roundRatio(rounds.node.map((x) => x.result.rps), rounds.guests.map((x) => x.result.rps));
    emit({
      bench: 'www-guests', connections: opts.connections, seconds: opts.seconds, rounds: opts.rounds, warmup: opts.warmup,
      path: 'httpload guest -> its tcpip -> netfront -> netback -> xenbr0 -> netback -> netfront -> www guest tcpip -> examples/www',
      www_guest_to_guest: side(rounds.guests), node_http_loopback: side(rounds.node),
      rps_ratio: round2(ratio.ratio), rps_ratio_of_sums: round2(ratio.ratio_of_sums), round_ratios: ratio.round_ratios.map(round2),
      p99_ratio: round2(median(rounds.guests.map((x, i) => x.result.p99_ms / rounds.node[i]!.result.p99_ms))),
      loadavg_start: load0.map(round2), loadavg_end: loadavg().map(round2),
    });
  } finally {
    guard.stop();
    await Promise.all(workers.map((w) => w.terminate()));
    await local.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
