// TCP stream throughput through the real data path, next to the host's own loopback in the
// same run:
// - guest to guest: a source guest pumps bytes to a sink guest on one bridge (bench/guests/
//   tcppump.ts, each a domain with its own vCPU thread and TCP/IP stack): source stack ->
//   netfront -> netback -> xenbr0 -> netback -> netfront -> sink stack;
// - host to guest: a host program (node:net, in a worker thread) pumps into the sink guest
//   through a host port forward: loopback -> dom0's gateway (its TCP/IP stack splices the
//   host socket to a guest connection) -> netback -> netfront -> sink stack;
// - guest to host (`g2h`, only when `--sides` names it): the source guest pumps into Node's sink
//   on the host through the gateway's NAT (10.0.2.2:PORT is the host's 127.0.0.1:PORT):
//   source stack -> netfront -> netback -> dom0 gateway tcpip -> loopback -> node:net (worker);
// - the peers: Node `net` over loopback (the same pump code, client and sink each in a worker
//   thread of this process, as the two guests are, and at their priority; its sink reads into
//   one buffer, as the sink guest reads views of its pages: bench/support/tcp-pump-worker.ts)
//   and, when installed, iperf3 over loopback (Debian's iperf3).
// Each stream is `--mib` MiB on one connection, timed from the first write to the sink's
// count of every byte (bench/support/tcp-pump.ts). The three kinds run in paired rounds, one
// stream of each a round, the order reversed every other round (`--warmup` rounds first, not
// counted: they measure V8 compiling the stacks), so that the machine's drift falls on each
// alike; a ratio is the median of the rounds' own ratios to Node `net` (bench/support/rounds.ts).
// Each stream also gives the CPU seconds per GiB of each thread that moved it, from Linux's
// per-thread counters (bench/support/threads.ts): the source and sink (the guests' vCPU
// threads, or Node's workers, or the host's client), dom0's main thread (netback, the bridge,
// the gateway), and the rest of the process (V8's helper threads); and, per GiB, how many times
// each named thread got a CPU (`sched_per_gib`: `_slices`, its wake-ups and its returns after a
// preemption; `_sleeps` and `_preempted` count the two kinds of leaving a CPU apart, Linux's
// voluntary and involuntary context switches) and the ms it waited for one while runnable
// (`_wait_ms`). The offloads the guests'
// vifs negotiated are reported (checksums left blank, GSO super-frames). Each guest-to-guest
// stream's TCP counters are listed with it (`streams`: the source guest's retransmissions,
// timeouts, duplicate ACKs, ..., and the sink guest's out-of-order arrivals, ACKs and zero
// windows; counters at 0 are left out), so that a slow round says why.
//
// Then, guest to guest: connections per second (`--cps` exchanges of connect, a 64-byte request,
// a 64-byte answer, close; 16 at a time), next to the same over Node `net` between the two
// workers, in paired rounds as the streams (`--warmup` not counted, then `--rounds`), each with
// the CPU microseconds per connection of each thread; and `--idle` connections opened by the
// source and held by the sink, a 64 MiB guest, with its JS heap before and after (no forced GC:
// an upper bound per connection).
//
// `--sides` picks the streams: any of guests, node, host and g2h (default guests,node,host). The
// ratios are to `node`, so a run without it has none; `--sides=guests --iperf=0` runs the guests
// alone, for quick A/B runs of the guest path.
//
//   npm run bench -- tcp-guests [--mib=128] [--rounds=5] [--warmup=3] [--iperf=3 (0: none)] [--cps=2000] [--idle=10000]
//                               [--sides=guests,node,host]
//
// A guest that shuts down meanwhile ends the bench at once with its console's last lines.
//
// The last line is JSON.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { GUEST_NICE } from '../src/hypervisor/sched.js';
import { formatIpv4 } from '../src/tcpip/addr.js';
import { startLocalHost } from '../src/toolstack/local.js';
import { benchOptions, emit } from './support/harness.js';
import { GuestGuard } from './support/guest-guard.js';
import { freePort } from './support/ports.js';
import { CPS_PARALLEL, type PumpResult } from './support/tcp-pump.js';
import type { ClientRequest, PumpJob, WorkerReady } from './support/tcp-pump-worker.js';
import { roundRatio } from './support/rounds.js';
import { threadCpuNs, threadCpuSince, threadSlices } from './support/threads.js';

/** The guest program, run as a kernel (not imported). */
const PUMP = fileURLToPath(new URL('../../bench/guests/tcppump.ts', import.meta.url));
const SINK_MAC = '00:16:3e:70:70:01';
const SINK_PORT = 5001;
const IPERF3 = '/usr/bin/iperf3';
const run = promisify(execFile);

/** The host's programs, in worker threads of their own light module, at the guests' priority. */
const WORKER = fileURLToPath(new URL('./support/tcp-pump-worker.js', import.meta.url));

async function startWorker(role: PumpJob['role']): Promise<{ worker: Worker } & WorkerReady> {
  const worker = new Worker(WORKER, { workerData: { role, nice: GUEST_NICE } satisfies PumpJob });
  const ready = await new Promise<WorkerReady>((ok, fail) => worker.once('message', ok).once('error', fail));
  return { worker, ...ready };
}

/** A client worker's answer to one request. */
function ask<T>(worker: Worker, req: ClientRequest): Promise<T> {
  return new Promise<T>((ok, fail) => {
    const onError = (e: Error) => fail(e);
    worker.once('error', onError).once('message', (m: T) => {
      worker.off('error', onError);
      ok(m);
    });
    worker.postMessage(req);
  });
}

/** iperf3 over loopback for `seconds`: received Gb/s, or undefined without iperf3 or with `--iperf=0`. */
async function iperf3(seconds: number): Promise<number | undefined> {
  if (seconds === 0 || !existsSync(IPERF3)) return undefined;
  const port = await freePort();
  const server = spawn(IPERF3, ['-s', '-1', '-B', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      try {
        const { stdout } = await run(IPERF3, ['-c', '127.0.0.1', '-p', String(port), '-t', String(seconds), '-J'], { timeout: (seconds + 20) * 1000 });
        return (JSON.parse(stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9;
      } catch (e) {
        if (i > 20) throw e;
        await new Promise((r) => setTimeout(r, 100)); // the server is not listening yet
      }
    }
  } finally {
    server.kill();
  }
}

/** A sink connection's counters as the sink guest reports them (bench/guests/tcppump.ts). */
type SinkTcp = Readonly<Record<string, number>>;

const round2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * A side's run of a round: its result and the CPU each named thread (and the rest) used meanwhile,
 * per unit of work; and each named thread's times on a CPU (wake-ups and returns from preemption)
 * and ms runnable but waiting, per the same unit.
 */
interface Counted<T> { readonly result: T; readonly cpu: Record<string, number>; readonly sched: Record<string, number> }
/** A stream's CPU is in seconds per GiB moved. */
type Stream = Counted<PumpResult>;

/**
 * Run `work` and count the CPU each thread in `threads` (name -> thread id) used meanwhile, in
 * seconds over `units` of its result (GiB moved, or millionths of the connections made).
 */
async function counted<T>(threads: Readonly<Record<string, number | undefined>>, units: (r: T) => number, work: () => Promise<T>): Promise<Counted<T>> {
  const tids = Object.values(threads).filter((t): t is number => t !== undefined);
  const s0 = threadSlices(tids);
  const t0 = threadCpuNs();
  const result = await work();
  const used = threadCpuSince(t0);
  const s1 = threadSlices(tids);
  const per = units(result);
  const sched: Record<string, number> = {};
  for (const [name, tid] of Object.entries(threads)) {
    const a = tid === undefined ? undefined : s0.get(tid);
    const b = tid === undefined ? undefined : s1.get(tid);
    if (!a || !b) continue;
    sched[`${name}_slices`] = Math.round((b.slices - a.slices) / per);
    sched[`${name}_wait_ms`] = Math.round((b.waitNs - a.waitNs) / 1e6 / per);
    sched[`${name}_sleeps`] = Math.round((b.sleeps - a.sleeps) / per);
    sched[`${name}_preempted`] = Math.round((b.preempted - a.preempted) / per);
  }
  const cpu: Record<string, number> = {};
  let named = 0;
  for (const [name, tid] of Object.entries(threads)) {
    const s = tid === undefined ? 0 : used.get(tid) ?? 0;
    named += s;
    cpu[name] = round2(s / per);
  }
  const all = [...used.values()].reduce((a, b) => a + b, 0);
  cpu['other'] = round2((all - named) / per);
  cpu['all'] = round2(all / per);
  return { result, cpu, sched };
}

const perGiB = (r: PumpResult) => r.bytes / 2 ** 30;

/** The median of each thread's figure (`of`: CPU or scheduler counts) over the rounds of a side that have the thread. */
const medianPerThread = (runs: readonly Counted<unknown>[], of: 'cpu' | 'sched' = 'cpu') =>
  Object.fromEntries([...new Set(runs.flatMap((s) => Object.keys(s[of])))]
    .map((k) => [k, round2(median(runs.flatMap((s) => (s[of][k] === undefined ? [] : [s[of][k]]))))]));

/** A side's figures over its counted streams: median and spread of Gb/s, median CPU per GiB of each thread. */
function side(streams: readonly Stream[]): { gbps: number; all_gbps: number[]; cpu_s_per_gib: Record<string, number>; sched_per_gib: Record<string, number> } {
  return {
    gbps: round2(median(streams.map((s) => s.result.gbps))),
    all_gbps: streams.map((s) => round2(s.result.gbps)),
    cpu_s_per_gib: medianPerThread(streams),
    sched_per_gib: medianPerThread(streams, 'sched'),
  };
}

async function main(): Promise<void> {
  const opts = benchOptions({ mib: 128, rounds: 5, warmup: 3, iperf: 3, cps: 2000, idle: 10000 }, { sides: 'guests,node,host' }, ['iperf', 'warmup']);
  const SIDES = ['guests', 'node', 'host', 'g2h'] as const;
  const chosen = new Set(opts.sides.split(','));
  const unknown = [...chosen].filter((k) => !(SIDES as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`--sides: no side ${unknown.join(', ')} (known: ${SIDES.join(', ')})`);
  const names = SIDES.filter((k) => chosen.has(k));
  const bytes = Math.round(opts.mib * (1 << 20));
  const load0 = loadavg();
  const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-tcp-guests-'));
  const local = await startLocalHost({ stateDir: join(dir, 'state'), poolSize: 2 });
  const workers: Worker[] = [];
  const guard = new GuestGuard(local.host);
  try {
    const { host, api } = local;
    const forwardPort = await freePort();
    const sink = await api.call('create', {
      file: join(dir, 'sink.cfg'),
      text: `name = "tcp-sink"\nkernel = "${PUMP}"\nmemory = 64\nvif = [ 'mac=${SINK_MAC},bridge=xenbr0' ]\n`
        + `forward = [ 'tcp:${forwardPort}:${SINK_PORT}' ]\nextra = "role=sink port=${SINK_PORT} idle=${opts.idle}"\n`,
    });
    guard.watch(sink.domid);
    // Every wait on a guest (a key it writes, a stream into it) ends as soon as either guest dies.
    const wait = (path: string, done: (v: string | undefined) => boolean, timeout: number) => guard.race(host.xs.wait(path, done, { timeout }));
    const ready = (domid: number) => wait(`/local/domain/${domid}/data/tcppump/ready`, (v) => !!v, 60_000);
    const sinkAddress = (await ready(sink.domid))!;
    const source = await api.call('create', {
      file: join(dir, 'source.cfg'),
      text: `name = "tcp-source"\nkernel = "${PUMP}"\nmemory = 128\nvif = [ 'bridge=xenbr0' ]\n`
        + `extra = "role=source target=${sinkAddress}:${SINK_PORT} mib=${opts.mib} cps=${opts.cps} idle=${opts.idle}"\n`,
    });
    guard.watch(source.domid);
    const sourceAddress = (await ready(source.domid))!;
    const tid = async (domid: number) => Number(await host.xs.read(`/local/domain/${domid}/data/tcppump/tid`)) || undefined;
    const guestThreads = { source: await tid(source.domid), sink: await tid(sink.domid), dom0: process.pid };

    // Node's sink takes the node and g2h streams; a client each pumps the node and host streams.
    const [nodeSink, nodeClient, hostClient] = await Promise.all([
      chosen.has('node') || chosen.has('g2h') ? startWorker('sink') : undefined,
      chosen.has('node') ? startWorker('client') : undefined,
      chosen.has('host') ? startWorker('client') : undefined,
    ]);
    for (const w of [nodeSink, nodeClient, hostClient]) if (w) workers.push(w.worker);
    const nodeThreads = { client: nodeClient?.tid, sink: nodeSink?.tid, dom0: process.pid };

    const node = (k: string) => `/local/domain/${source.domid}/data/tcppump/${k}`;
    const sinkTcpDir = `/local/domain/${sink.domid}/data/tcppump/sink-tcp`;
    const sourcePeer = sourceAddress.replaceAll('.', '-');
    // The sink's counters of its `n`th stream from `peer` (written as the stream ends, maybe just after the source's result).
    const sinkCounters = async (peer: string | undefined, n: number): Promise<SinkTcp | undefined> => {
      if (peer === undefined) return undefined;
      const path = `${sinkTcpDir}/${peer}`;
      const v = await wait(path, (v) => !!v && (JSON.parse(v) as SinkTcp)['n']! >= n, 10_000).catch(() => host.xs.readOptional(path));
      return v ? JSON.parse(v) as SinkTcp : undefined;
    };
    let asked = 0;
    let g2gStreams = 0;
    const g2gSinks: (SinkTcp | undefined)[] = [];
    // A stream from the source guest, to the sink guest or to `to` (ADDRESS:PORT).
    const fromSource = (threads: Readonly<Record<string, number | undefined>>, to?: string) => counted(threads, perGiB, async () => {
      const n = ++asked;
      await host.xs.write(node('go'), to === undefined ? String(n) : `${n} ${to}`);
      const r = JSON.parse((await wait(node('result'), (v) => !!v && (JSON.parse(v) as { round: number }).round === n, opts.mib * 1000 + 60_000))!) as PumpResult & { round?: number };
      delete r.round;
      if (to === undefined) g2gSinks.push(await sinkCounters(sourcePeer, ++g2gStreams));
      return r;
    });
    const guests = () => fromSource(guestThreads);
    const nodeNet = () => counted(nodeThreads, perGiB, () => ask<PumpResult>(nodeClient!.worker, { port: nodeSink!.port!, bytes }));
    const hostToGuest = () => counted({ client: hostClient!.tid, sink: guestThreads.sink, dom0: process.pid }, perGiB,
      () => guard.race(ask<PumpResult>(hostClient!.worker, { port: forwardPort, bytes })));
    const gatewayAddress = formatIpv4(host.gateway('xenbr0').address);
    const guestToHost = () => fromSource({ source: guestThreads.source, sink: nodeSink?.tid, dom0: process.pid }, `${gatewayAddress}:${nodeSink!.port!}`);
    // Connections per second, CPU in microseconds per connection.
    let cpsSource: Record<string, number> = {};
    const perConn = () => opts.cps / 1e6;
    const guestsCps = () => counted(guestThreads, perConn, async () => {
      const n = ++asked;
      await host.xs.write(node('go'), `${n}:cps`);
      const v = await wait(node('cps'), (v) => !!v && (JSON.parse(v) as { round: number }).round === n, opts.cps * 100 + 60_000);
      const got = JSON.parse(v!) as { rate: number; tcp: Record<string, number> };
      cpsSource = got.tcp;
      return got.rate;
    });
    const nodeCps = () => counted(nodeThreads, perConn, () => ask<number>(nodeClient!.worker, { port: nodeSink!.port!, cps: opts.cps }));

    /**
     * Paired rounds, the order reversed every other round, so that the machine's drift falls on
     * every side alike; `show` puts a run's figure in the progress line.
     */
    async function inRounds<T>(sides: Record<string, () => Promise<Counted<T>>>, show: (r: T) => string, dropped: () => void = () => {}) {
      const names = Object.keys(sides);
      const rounds: Record<string, Counted<T>[]> = Object.fromEntries(names.map((k) => [k, []]));
      for (let r = 0; r < opts.warmup + opts.rounds; r++) {
        const got: Record<string, Counted<T>> = {};
        for (const k of r % 2 === 0 ? names : [...names].reverse()) got[k] = await sides[k]!();
        const isCounted = r >= opts.warmup;
        if (isCounted) for (const k of names) rounds[k]!.push(got[k]!);
        else dropped();
        process.stderr.write(`${isCounted ? `round ${r - opts.warmup + 1}/${opts.rounds}` : 'warm-up'}: ` +
          names.map((k) => `${k} ${show(got[k]!.result)} cpu ${JSON.stringify(got[k]!.cpu)} sched ${JSON.stringify(got[k]!.sched)}`).join(', ') + `, load ${round2(loadavg()[0]!)}\n`);
      }
      return rounds;
    }

    const streams = { guests, node: nodeNet, host: hostToGuest, g2h: guestToHost };
    const rounds = await inRounds(Object.fromEntries(names.map((k) => [k, streams[k]])), (r) => `${r.gbps.toFixed(2)} Gb/s`,
      () => { if (chosen.has('guests')) g2gSinks.pop(); });
    const gatewayPeer = (await host.xs.directory(sinkTcpDir).catch(() => [])).find((p) => p !== sourcePeer);
    const hostSink = chosen.has('host') ? await sinkCounters(gatewayPeer, 0) : undefined;
    const cpsRounds = await inRounds(chosen.has('node') ? { guests: guestsCps, node: nodeCps } : { guests: guestsCps }, (r) => `${Math.round(r)} conn/s`);

    await host.xs.write(node('go'), 'rest');
    const idleOpen = Number(await wait(node('idle-open'), (v) => !!v, opts.idle * 20 + 60_000));
    const idleHeld = JSON.parse((await wait(`/local/domain/${sink.domid}/data/tcppump/idle`, (v) => !!v, 60_000))!) as
      { conns: number; heap_before_mib: number; heap_mib: number; heap_limit_mib: number };
    const iperf = await iperf3(opts.iperf);

    const gbps = (k: string) => rounds[k]?.map((s) => s.result.gbps);
    const withRatio = (ref: readonly number[] | undefined, ours: readonly number[] | undefined) => {
      if (!ref || !ours) return {};
      const r = roundRatio(ref, ours);
      return { ratio: round2(r.ratio), ratio_of_sums: round2(r.ratio_of_sums), round_ratios: r.round_ratios.map(round2) };
    };
    const cpsOf = (k: string) => cpsRounds[k]?.map((s) => s.result) ?? [];
    // The gateway's retransmissions: of its connections released so far and of those still open (in TIME-WAIT, say).
    const gwTcp = host.gateway('xenbr0').main.stack.tcpLayer;
    const gw = { retransmits: gwTcp.counters.retransmits, timeouts: gwTcp.counters.timeouts };
    for (const c of gwTcp.connections()) {
      gw.retransmits += c.stats.retransmits;
      gw.timeouts += c.stats.timeouts;
    }
    const offloads = async (domid: number) => JSON.parse((await host.xs.read(`/local/domain/${domid}/data/tcppump/offloads`)) ?? 'null') as unknown;
    // A side left out by --sides reports null; without `node`, no side has a ratio.
    const figures = (k: string) => (rounds[k] ? { ...side(rounds[k]), ...withRatio(gbps('node'), gbps(k)) } : null);
    const g2g = figures('guests');
    const h2g = figures('host');
    const g2h = figures('g2h');
    emit({
      bench: 'tcp-guests', mib: opts.mib, rounds: opts.rounds, warmup: opts.warmup, sides: names,
      guest_to_guest: g2g && { ...g2g, path: 'source guest tcpip -> netfront -> netback -> xenbr0 -> netback -> netfront -> sink guest tcpip',
        streams: rounds['guests']!.map((s, i) => ({ gbps: round2(s.result.gbps), source: s.result.tcp, sink: g2gSinks[i] })) },
      host_to_guest: h2g && { ...h2g, path: 'node:net (worker) -> loopback -> forward -> dom0 gateway tcpip -> netback -> netfront -> sink guest tcpip', last_sink: hostSink },
      guest_to_host: g2h && { ...g2h, path: 'source guest tcpip -> netfront -> netback -> dom0 gateway tcpip (NAT) -> loopback -> node:net (worker)',
        streams: rounds['g2h']!.map((s) => ({ gbps: round2(s.result.gbps), source: s.result.tcp })) },
      node_net_loopback: rounds['node'] ? side(rounds['node']) : null,
      iperf3_loopback_gbps: iperf ?? null,
      offloads: { source: await offloads(source.domid), sink: await offloads(sink.domid) },
      connections_per_s: { connections: opts.cps, parallel: CPS_PARALLEL,
        guest_to_guest: Math.round(median(cpsOf('guests'))), all_guest_to_guest: cpsOf('guests').map(Math.round),
        guest_cpu_us_per_conn: medianPerThread(cpsRounds['guests']!), source_tcp: cpsSource,
        ...(cpsRounds['node'] ? { node_net_loopback: Math.round(median(cpsOf('node'))), all_node_net_loopback: cpsOf('node').map(Math.round),
          node_cpu_us_per_conn: medianPerThread(cpsRounds['node']), ...withRatio(cpsOf('node'), cpsOf('guests')) } : {}) },
      idle_connections: { opened: idleOpen, ...idleHeld, guest_memory_mib: 64, kib_per_conn: ((idleHeld.heap_mib - idleHeld.heap_before_mib) * 1024) / idleHeld.conns },
      ratio_to_iperf3: iperf ? { guest_to_guest: g2g && g2g.gbps / iperf, host_to_guest: h2g && h2g.gbps / iperf } : null,
      gateway_tcp: gw,
      thread_ids: { guests: guestThreads, node: nodeThreads, host_client: hostClient?.tid },
      sink_tcp_error: (await host.xs.readOptional(`/local/domain/${sink.domid}/data/tcppump/sink-tcp-error`)) ?? null,
      loadavg_start: load0.map(round2), loadavg_end: loadavg().map(round2),
    });
    guard.stop();
    await api.call('destroy', { domain: source.domid });
    await api.call('destroy', { domain: sink.domid });
  } finally {
    guard.stop();
    await Promise.all(workers.map((w) => w.terminate()));
    await local.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
