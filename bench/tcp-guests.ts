// TCP stream throughput through the real data path, next to the host's own loopback in the
// same run:
// - guest to guest: a source guest pumps bytes to a sink guest on one bridge (bench/guests/
//   tcppump.ts, each a domain with its own vCPU thread and TCP/IP stack): source stack ->
//   netfront -> netback -> xenbr0 -> netback -> netfront -> sink stack;
// - host to guest: a host program (node:net, in a worker thread) pumps into the sink guest
//   through a host port forward: loopback -> dom0's gateway (its TCP/IP stack splices the
//   host socket to a guest connection) -> netback -> netfront -> sink stack;
// - the peers: Node `net` over loopback (the same pump code, client and sink each in a worker
//   thread of this process, as the two guests are, and at their priority) and, when installed, iperf3 over loopback
//   (Debian's iperf3).
// Each stream is `--mib` MiB on one connection, timed from the first write to the sink's
// count of every byte (bench/support/tcp-pump.ts); `--warmup` streams first (not counted: the
// first streams measure V8 compiling the stacks, 3-8x slower), then the median and the best
// of `--rounds` (ratios of both). The offloads the guests' vifs negotiated are reported
// (checksums left blank, GSO super-frames). CPU is the whole process's (dom0, both guests,
// the workers) over all streams of a kind. Each stream's TCP counters are listed with it
// (`streams`: the source guest's retransmissions, timeouts, duplicate ACKs, ..., and the sink
// guest's out-of-order arrivals, ACKs and zero windows; counters at 0 are left out), so that
// a slow run says why.
//
// Then, guest to guest: connections per second (`--cps` exchanges of connect, a 64-byte request,
// a 64-byte answer, close; 16 at a time), next to the same over Node `net` between the two
// workers; and `--idle` connections opened by the source and held by the sink, a 64 MiB
// guest, with its JS heap before and after (no forced GC: an upper bound per connection).
//
//   npm run bench -- tcp-guests [--mib=128] [--rounds=5] [--warmup=3] [--iperf=3 (0: none)] [--cps=2000] [--idle=10000]
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
import { startLocalHost } from '../src/toolstack/local.js';
import { emit, numberOptions } from './support/harness.js';
import { GuestGuard } from './support/guest-guard.js';
import { freePort } from './support/ports.js';
import { CPS_PARALLEL, type PumpResult } from './support/tcp-pump.js';
import type { PumpJob } from './support/tcp-pump-worker.js';

/** The guest program, run as a kernel (not imported). */
const PUMP = fileURLToPath(new URL('../../bench/guests/tcppump.ts', import.meta.url));
const SINK_MAC = '00:16:3e:70:70:01';
const SINK_PORT = 5001;
const IPERF3 = '/usr/bin/iperf3';
const run = promisify(execFile);

/** The host's programs, in worker threads of their own light module. */
const WORKER = fileURLToPath(new URL('./support/tcp-pump-worker.js', import.meta.url));
type ClientJob = Extract<PumpJob, { role: 'client' }>;

async function startNodeSink(): Promise<{ port: number; worker: Worker }> {
  const worker = new Worker(WORKER, { workerData: { role: 'sink', nice: GUEST_NICE } satisfies PumpJob });
  const port = await new Promise<number>((ok, fail) => worker.once('message', ok).once('error', fail));
  return { port, worker };
}

/** What a host program in a worker reports; with the process's CPU seconds meanwhile. */
async function fromWorker<T = PumpResult[]>(job: ClientJob): Promise<{ results: T; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const worker = new Worker(WORKER, { workerData: job });
  const results = await new Promise<T>((ok, fail) => worker.once('message', ok).once('error', fail));
  await worker.terminate();
  return { results, cpu: cpuSeconds(cpu0) };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
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

/** Median and best Gb/s of the counted streams, and CPU per GiB: `cpu` seconds spent on `all` streams. */
function figure(counted: PumpResult[], all: PumpResult[], cpu: number): { gbps: number; best_gbps: number; all_gbps: number[]; cpu_s_per_gib: number } {
  const sorted = counted.map((r) => r.gbps).sort((a, b) => a - b);
  const gib = all.reduce((a, r) => a + r.bytes, 0) / 2 ** 30;
  return { gbps: sorted[Math.floor(sorted.length / 2)]!, best_gbps: sorted[sorted.length - 1]!, all_gbps: counted.map((r) => r.gbps), cpu_s_per_gib: cpu / gib };
}

async function main(): Promise<void> {
  const opts = numberOptions({ mib: 128, rounds: 5, warmup: 3, iperf: 3, cps: 2000, idle: 10000 }, ['iperf']);
  const bytes = Math.round(opts.mib * (1 << 20));
  const runs = Math.round(opts.warmup + opts.rounds);
  const load0 = loadavg();
  const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-tcp-guests-'));
  const local = await startLocalHost({ stateDir: join(dir, 'state'), poolSize: 2 });
  let nodePeer: { port: number; worker: Worker } | undefined;
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
        + `extra = "role=source target=${sinkAddress}:${SINK_PORT} mib=${opts.mib} runs=${runs} cps=${opts.cps} idle=${opts.idle}"\n`,
    });
    guard.watch(source.domid);
    const sourceAddress = (await ready(source.domid))!;

    // Node's loopback first and last, so that neither side always meets the quieter machine.
    nodePeer = await startNodeSink();
    const nodeJob = { role: 'client', port: nodePeer.port, bytes, runs, nice: GUEST_NICE } as const;
    const nodeBefore = await fromWorker(nodeJob);

    const hostToGuest = await guard.race(fromWorker({ role: 'client', port: forwardPort, bytes, runs, nice: GUEST_NICE }));

    const cpu0 = process.cpuUsage();
    const node = (k: string) => `/local/domain/${source.domid}/data/tcppump/${k}`;
    await host.xs.write(node('go'), '1');
    const g2g = JSON.parse((await wait(node('result'), (v) => !!v, runs * (opts.mib * 1000 + 60_000)))!) as PumpResult[];
    const g2gCpu = cpuSeconds(cpu0);
    // The sink's counters of each stream, as its streams end (the last one may end just after the result).
    const sinkTcpDir = `/local/domain/${sink.domid}/data/tcppump/sink-tcp`;
    const sinkTcp = (v: string | undefined) => (v ? JSON.parse(v) as SinkTcp[] : []).slice(-runs);
    const sourcePeer = sourceAddress.replaceAll('.', '-');
    const sinkOfSource = sinkTcp(await wait(`${sinkTcpDir}/${sourcePeer}`, (v) => sinkTcp(v).length >= runs, 30_000)
      .catch(() => guard.race(host.xs.readOptional(`${sinkTcpDir}/${sourcePeer}`))));
    const gatewayPeer = (await host.xs.directory(sinkTcpDir).catch(() => [])).find((p) => p !== sourcePeer);
    const sinkOfGateway = gatewayPeer ? sinkTcp(await host.xs.readOptional(`${sinkTcpDir}/${gatewayPeer}`)) : [];
    const g2gCps = Number(await wait(node('cps'), (v) => !!v, opts.cps * 100 + 60_000));
    const idleOpen = Number(await wait(node('idle-open'), (v) => !!v, opts.idle * 20 + 60_000));
    const idleHeld = JSON.parse((await wait(`/local/domain/${sink.domid}/data/tcppump/idle`, (v) => !!v, 60_000))!) as
      { conns: number; heap_before_mib: number; heap_mib: number; heap_limit_mib: number };

    const nodeAfter = await fromWorker(nodeJob);
    const nodeCps = (await fromWorker<number>({ ...nodeJob, cps: opts.cps })).results;
    const iperf = await iperf3(opts.iperf);

    const counted = (rs: PumpResult[]) => rs.slice(opts.warmup);
    const nodeFig = figure([...counted(nodeBefore.results), ...counted(nodeAfter.results)], [...nodeBefore.results, ...nodeAfter.results], nodeBefore.cpu + nodeAfter.cpu);
    const g2gFig = figure(counted(g2g), g2g, g2gCpu);
    const h2gFig = figure(counted(hostToGuest.results), hostToGuest.results, hostToGuest.cpu);
    // The gateway's retransmissions: of its connections released so far and of those still open (in TIME-WAIT, say).
    const gwTcp = host.gateway('xenbr0').main.stack.tcpLayer;
    const gw = { retransmits: gwTcp.counters.retransmits, timeouts: gwTcp.counters.timeouts };
    for (const c of gwTcp.connections()) {
      gw.retransmits += c.stats.retransmits;
      gw.timeouts += c.stats.timeouts;
    }
    const offloads = async (domid: number) => JSON.parse((await host.xs.read(`/local/domain/${domid}/data/tcppump/offloads`)) ?? 'null') as unknown;
    emit({
      bench: 'tcp-guests', mib: opts.mib, rounds: opts.rounds, warmup: opts.warmup,
      guest_to_guest: { ...g2gFig, path: 'source guest tcpip -> netfront -> netback -> xenbr0 -> netback -> netfront -> sink guest tcpip',
        streams: g2g.map((r, i) => ({ gbps: r.gbps, source: r.tcp, sink: sinkOfSource[i] })) },
      host_to_guest: { ...h2gFig, path: 'node:net (worker) -> loopback -> forward -> dom0 gateway tcpip -> netback -> netfront -> sink guest tcpip',
        streams: hostToGuest.results.map((r, i) => ({ gbps: r.gbps, sink: sinkOfGateway[i] })) },
      node_net_loopback: nodeFig,
      iperf3_loopback_gbps: iperf ?? null,
      offloads: { source: await offloads(source.domid), sink: await offloads(sink.domid) },
      connections_per_s: { guest_to_guest: g2gCps, node_net_loopback: nodeCps, ratio: g2gCps / nodeCps, parallel: CPS_PARALLEL },
      idle_connections: { opened: idleOpen, ...idleHeld, guest_memory_mib: 64, kib_per_conn: ((idleHeld.heap_mib - idleHeld.heap_before_mib) * 1024) / idleHeld.conns },
      ratio_to_node_net: { guest_to_guest: g2gFig.gbps / nodeFig.gbps, host_to_guest: h2gFig.gbps / nodeFig.gbps },
      best_ratio_to_node_net: { guest_to_guest: g2gFig.best_gbps / nodeFig.best_gbps, host_to_guest: h2gFig.best_gbps / nodeFig.best_gbps },
      ratio_to_iperf3: iperf ? { guest_to_guest: g2gFig.gbps / iperf, host_to_guest: h2gFig.gbps / iperf } : null,
      gateway_tcp: gw,
      sink_tcp_error: (await host.xs.readOptional(`/local/domain/${sink.domid}/data/tcppump/sink-tcp-error`)) ?? null,
      loadavg_start: load0.map((l) => Math.round(l * 100) / 100), loadavg_end: loadavg().map((l) => Math.round(l * 100) / 100),
    });
    guard.stop();
    await api.call('destroy', { domain: source.domid });
    await api.call('destroy', { domain: sink.domid });
  } finally {
    guard.stop();
    await nodePeer?.worker.terminate();
    await local.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
