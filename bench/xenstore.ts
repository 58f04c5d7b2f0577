// xenstored benchmark: `node dist/bench/xenstore.js [--peer o=SOCKET ...] [--no-cxenstored]
// [--duration MS] [--rounds N] [--depths 1,4,16,64] [--clients 1,10,100,1000] [--no-ring]`, or
// `npm run bench -- xenstore ...` [--no-echo]. `--watch-only` measures the watch latency alone,
// with how often each daemon this process started slept and waited for a CPU meanwhile, and
// whether xenode's socket polling gate was open.
//
// xenode's xenstored runs in a process of its own, as cxenstored does; the load comes from raw
// packets written by this process (like xspeer's rawbench), so the client library is not what
// is measured. For the daemons this process started, their CPU time per request (user + system,
// with 1 request in flight) is measured too: unlike wall-clock rates it hardly depends on how
// busy the machine is. On one socket connection: WRITE and READ per second with 1, 4, 16 and 64
// requests in flight, transactions per second (start, 3 writes, commit, each waiting for its
// reply), watch fire latency (a write on one connection, the event on another), and ops/s with
// 1..1000 connections each keeping 1 request in flight (total, and the slowest connection's
// share: fair service). The same (but the many-clients test) for a guest over its xenstore ring
// page and the hypervisor's event channels: a host with one guest (bench/guests/xsring.ts) that
// measures from inside with its xenstore client. Debian's cxenstored is started and measured
// the same way in the same run when it can be (bench/xsdiff/cxenstored.ts: apt-get download and
// a shim), and `--peer NAME=SOCKET` adds an already running xenstored (oxenstored); each peer
// gets speedups (>1: xenode is faster). A Node echo server (bench/support/echo-process.ts: the
// same socket read path, each read written straight back) is measured in the same rounds on the
// WRITE/READ and many-clients figures as the floor of any Node daemon: its rate over
// cxenstored's is the most a Node xenstored could reach in this run. Each figure is measured
// for every daemon in turn, round after round (the median of the rounds is reported), so that
// the machine's noise falls on all daemons alike; the many-clients figure goes further: every
// daemon's connections are open at once and the daemons take 50 ms turns within a round. The
// last line is JSON.
// `--pool`: instead, real guests in a shared cpupool next to Pool-0 (bench/support/pingpong.ts):
// a guest's read of its own node, and a ping-pong between two guests by write and watch.
import '../src/hypervisor/marking.js'; // V8's marking flags at the start: ringFigures loads the host later
import { Buffer } from 'node:buffer';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  XS_ERROR, XS_MKDIR, XS_READ, XS_RM, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH, XS_WATCH_EVENT, XS_WRITE,
} from '../src/abi/xs_wire.js';
import { XsFrameReader, encodeRequest } from '../src/xenstore/common/frames.js';
import { connectSocket, type XsClientTransport } from '../src/xenstore/client/transport.js';
import { LightConn } from './support/light-conn.js';
import { poolLatencyBench } from './support/pingpong.js';
import { threadSlices, type ThreadSlices } from './support/threads.js';
import { type Cxenstored, cxenstoredUnavailable, startCxenstored } from './xsdiff/cxenstored.js';

// ---------------------------------------------------------------------------------------------
// Raw load generation.

interface Waiter<T> {
  done: (v: T) => void;
  fail: (e: Error) => void;
}

/** A connection that writes prebuilt packets and counts replies in order (xenstored answers each connection in order). */
class RawConn {
  #frames: XsFrameReader;
  #waiters: Waiter<{ type: number; payload: Buffer }>[] = [];
  #events: Waiter<Buffer>[] = [];
  #closing = false;
  /** When set, replies go here instead of to call() waiters (the pipelined loops). */
  onReply: ((type: number) => void) | undefined;
  /** The daemon dropped the connection: whatever waits on it fails instead of hanging. */
  onClose: ((e: Error) => void) | undefined;

  constructor(readonly t: XsClientTransport) {
    this.#frames = new XsFrameReader((h, payload) => {
      if (h.type === XS_WATCH_EVENT) this.#events.shift()?.done(payload);
      else if (this.onReply) this.onReply(h.type);
      else this.#waiters.shift()?.done({ type: h.type, payload });
    });
    t.start((b) => this.#frames.push(b), (e) => {
      if (this.#closing) return;
      for (const w of [...this.#waiters.splice(0), ...this.#events.splice(0)]) w.fail(e);
      this.onClose?.(e);
    });
  }

  send(b: Uint8Array): void {
    this.t.send(b);
  }

  close(): void {
    this.#closing = true;
    this.t.close();
  }

  /** Send one request and wait for its reply; ERROR replies reject. */
  call(type: number, txId: number, parts: (string | Uint8Array)[], rawLast = false): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#waiters.push({
        done: (r) => {
          if (r.type === XS_ERROR) reject(new Error(`request type ${type} failed: ${r.payload.toString('latin1')}`));
          else resolve(r.payload);
        },
        fail: reject,
      });
      this.send(encodeRequest(type, 0, txId, parts, rawLast));
    });
  }

  nextEvent(): Promise<Buffer> {
    return new Promise((done, fail) => this.#events.push({ done, fail }));
  }
}

/** Nodes the WRITE and READ loops cycle through: well under a guest's default quota of 1000 nodes. */
const KEYS = 100;
const writePackets = (prefix: string): Buffer[] =>
  Array.from({ length: KEYS }, (_, i) => encodeRequest(XS_WRITE, i + 1, 0, [`${prefix}/kv/k${i}`, `v${i}`], true));
const readPackets = (prefix: string): Buffer[] =>
  Array.from({ length: KEYS }, (_, i) => encodeRequest(XS_READ, i + 1, 0, [`${prefix}/kv/k${i}`]));

/** Ops per second keeping `depth` requests in flight for `ms`; error replies void the run. */
function pipelined(c: RawConn, packets: Buffer[], depth: number, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = 0;
    let errors = 0;
    const t0 = performance.now();
    const end = t0 + ms;
    let stopping = false;
    c.onClose = reject;
    c.onReply = (type) => {
      done++;
      if (type === XS_ERROR) errors++;
      if (!stopping && performance.now() >= end) stopping = true;
      if (!stopping) c.send(packets[sent++ % packets.length]!);
      else if (done === sent) {
        c.onReply = undefined;
        if (errors > 0) reject(new Error(`${errors} of ${done} requests got ERROR replies`));
        else resolve(Math.round(done / ((performance.now() - t0) / 1000)));
      }
    };
    for (let i = 0; i < depth; i++) c.send(packets[sent++ % packets.length]!);
  });
}

/** Transactions per second: start, 3 writes, commit, one request at a time. */
async function transactions(c: RawConn, prefix: string, ms: number): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    const tx = Number((await c.call(XS_TRANSACTION_START, 0, [''])).toString('latin1').replace(/\0.*$/s, ''));
    for (let k = 0; k < 3; k++) await c.call(XS_WRITE, tx, [`${prefix}/tx/k${k}`, `v${n}`], true);
    await c.call(XS_TRANSACTION_END, tx, ['T']);
    n++;
  }
  return Math.round(n / ((performance.now() - t0) / 1000));
}

interface Latency {
  p50us: number;
  p99us: number;
  samples: number;
  /** For daemons this process started: how often the daemon's main thread slept, per sample. */
  sleepsPerSample?: number;
  /** The same: how long it waited for a CPU (schedstat's run delay), µs per sample. */
  runDelayUsPerSample?: number;
  /** The same: its time on a CPU, µs per sample. */
  cpuUsPerSample?: number;
  /** xenode's: the share of its answers after which the gate kept it from polling a due window. */
  gatedShare?: number;
  /** xenode's: the share of its answers after which it polled a window (the gate open and a window due). */
  polledShare?: number;
  /** xenode's: polling passes cut short because the daemon was preempted (each turns polling off for a while). */
  pollPreempted?: number;
}

/** Voluntary switches, CPU and run delay (ns) of `pid`'s main thread so far. */
function schedOf(pid: number): ThreadSlices {
  const s = threadSlices([pid], pid).get(pid);
  if (!s) throw new Error(`no scheduler figures for process ${pid} (it ended, or no /proc)`);
  return s;
}

/** Socket polling counts of xenode's daemon process (poll-window.ts's pollCounts). */
interface PollCounts {
  answers: number;
  gated: number;
  windows: number;
  preempted: number;
}

/** How long the daemon's process may take to print its counts. */
const POLL_COUNTS_WAIT_MS = 5_000;

/** The counts xenode's daemon process prints on SIGUSR2 (bench/support/xenstored-process.ts), as one line. */
function pollCountsOf(child: ChildProcess): Promise<PollCounts> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
    };
    const onData = (b: Buffer): void => {
      text += b.toString('latin1');
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      done();
      resolve(JSON.parse(text.slice(0, nl)) as PollCounts);
    };
    const onExit = (): void => {
      done();
      reject(new Error('the xenstored process exited before it printed its polling counts'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the xenstored process printed no polling counts in ${POLL_COUNTS_WAIT_MS} ms`));
    }, POLL_COUNTS_WAIT_MS);
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    child.kill('SIGUSR2');
  });
}

/** Time from sending a WRITE on `writer` to the watch event arriving on `watcher`. */
async function watchLatency(watcher: RawConn, writer: RawConn, dir: string, ms: number): Promise<Latency> {
  const first = watcher.nextEvent();
  await watcher.call(XS_WATCH, 0, [dir, 'lat']);
  await first;
  const samples: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < ms && samples.length < 100000) {
    const ev = watcher.nextEvent();
    const start = performance.now();
    const wrote = writer.call(XS_WRITE, 0, [`${dir}/x`, String(samples.length)], true);
    await ev;
    samples.push(performance.now() - start);
    await wrote;
  }
  await watcher.call(XS_UNWATCH, 0, [dir, 'lat']);
  samples.sort((a, b) => a - b);
  // Microseconds, to 0.1.
  const q = (p: number): number => Math.round(samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! * 10000) / 10;
  return { p50us: q(0.5), p99us: q(0.99), samples: samples.length };
}

interface ClientsFigure {
  /** All connections together. */
  opsPerSec: number;
  /** The connection served least (fair service: nobody starved). */
  slowestOpsPerSec: number;
  /** The daemon's CPU time per request meanwhile, for daemons this process started. */
  cpuUsPerRequest?: number;
  /**
   * This process's (the clients') CPU time per request meanwhile: with it and the daemon's, which
   * of the two sets the rate (the one whose CPU time per request times ops/s is near 1 s/s).
   */
  clientCpuUsPerRequest: number;
}

/** Many-clients turns last this long: shorter than the swings of a loaded host's scheduler. */
const SLICE_MS = 50;

/** One daemon's side of the many-clients test: its connections and what they counted. */
class ClientSet {
  readonly each: number[];
  total = 0;
  errors = 0;
  secs = 0;
  cpu = 0;
  clientCpu = 0;

  private constructor(readonly t: Target, readonly conns: LightConn[], readonly packets: Buffer[][]) {
    this.each = new Array<number>(conns.length).fill(0);
  }

  /**
   * `n` connections, each of which has had one reply: a client whose connect sits in the listen
   * backlog (libuv, like cxenstored's loop, accepts one connection per turn) would otherwise
   * count as starved by the daemon's service when it is only not yet accepted.
   */
  static async open(t: Target, n: number): Promise<ClientSet> {
    const conns: LightConn[] = [];
    try {
      while (conns.length < n) conns.push(await LightConn.open(t.socket));
      const prefix = `${t.prefix}-clients`;
      await Promise.all(conns.map((c, i) => new Promise<void>((resolve, reject) => {
        c.onClose = reject;
        c.onReply = (type) => (type === XS_ERROR ? reject(new Error(`the first WRITE of client ${i} of ${t.name} got an ERROR reply`)) : resolve());
        c.send(encodeRequest(XS_WRITE, 0, 0, [`${prefix}/c${i}`, 'x'], true));
      })));
      const packets = conns.map((_, i) => [
        encodeRequest(XS_WRITE, 1, 0, [`${prefix}/c${i}`, 'x'], true),
        encodeRequest(XS_READ, 2, 0, [`${prefix}/c${i}`]),
      ]);
      return new ClientSet(t, conns, packets);
    } catch (e) {
      for (const c of conns) c.close();
      throw e;
    }
  }

  /** Every connection alternates WRITE and READ of its own node, 1 in flight, for `ms`; then the last replies come in. */
  async turn(ms: number): Promise<void> {
    const cpu0 = cpuSeconds(this.t.pid);
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + ms;
    await Promise.all(this.conns.map((c, i) => new Promise<void>((resolve, reject) => {
      let k = this.each[i]!;
      c.onClose = reject;
      c.onReply = (type) => {
        this.total++;
        this.each[i]!++;
        if (type === XS_ERROR) this.errors++;
        if (performance.now() >= end) {
          c.onReply = undefined;
          resolve();
          return;
        }
        c.send(this.packets[i]![k++ & 1]!);
      };
      c.send(this.packets[i]![k++ & 1]!);
    })));
    this.secs += (performance.now() - t0) / 1000;
    this.cpu += cpuSeconds(this.t.pid) - cpu0;
    const own = process.cpuUsage(own0);
    this.clientCpu += (own.user + own.system) / 1e6;
  }

  figure(): ClientsFigure {
    if (this.errors > 0) throw new Error(`${this.errors} of ${this.total} requests from ${this.conns.length} clients of ${this.t.name} got ERROR replies`);
    return {
      opsPerSec: Math.round(this.total / this.secs),
      slowestOpsPerSec: Math.round(Math.min(...this.each) / this.secs),
      ...(this.t.pid !== undefined && { cpuUsPerRequest: Math.round((this.cpu * 1e7) / this.total) / 10 }),
      clientCpuUsPerRequest: Math.round((this.clientCpu * 1e7) / this.total) / 10,
    };
  }

  close(): void {
    for (const c of this.conns) c.close();
  }
}

/**
 * Ops/s of each daemon with `n` connections (ClientSet.turn), `ms` of load each. Every daemon's
 * connections are open at once and the daemons take turns of SLICE_MS, the order rotating, so
 * that the machine's noise (which swings rates 2-10x over hundreds of milliseconds on a loaded
 * host) falls on all of them alike within one round.
 */
async function manyClients(targets: Target[], n: number, ms: number): Promise<ClientsFigure[]> {
  const sets: ClientSet[] = [];
  try {
    for (const t of targets) sets.push(await ClientSet.open(t, n));
    const turns = Math.max(1, Math.round(ms / SLICE_MS));
    for (let k = 0; k < turns; k++) {
      for (let j = 0; j < sets.length; j++) await sets[(j + k) % sets.length]!.turn(ms / turns);
    }
    return sets.map((s) => s.figure());
  } finally {
    for (const s of sets) s.close();
  }
}

/** A watch latency in words, with what the daemon did meanwhile when known. */
function describeLatency(l: Latency): string {
  const sched = l.sleepsPerSample === undefined ? '' : ` (daemon slept ${l.sleepsPerSample}x and waited ${l.runDelayUsPerSample} us for a CPU and ran ${l.cpuUsPerSample} us per sample${l.gatedShare === undefined ? '' : `, polling gated after ${l.gatedShare} and polled after ${l.polledShare} of answers, ${l.pollPreempted} preempted`})`;
  return `watch p50 ${l.p50us} us p99 ${l.p99us} us${sched}`;
}

/** Figures keyed by requests in flight ("1", "4", ...). */
type ByDepth = Record<string, number>;

interface Figures {
  /** The daemon's CPU time per request over the 1-in-flight WRITE and READ runs, for daemons this process started. */
  cpuUsPerRequest?: number;
  writesPerSec: ByDepth;
  readsPerSec: ByDepth;
  txPerSec: number;
  watchLatency: Latency;
}

interface SocketFigures extends Figures {
  clients: Record<string, ClientsFigure>;
}

/** User + system CPU seconds of process `pid` so far (/proc/PID/stat), or 0 without one. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/** /proc's clock ticks per second (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** One daemon under test, with the connections the single-connection figures use. */
class Target {
  readonly prefix = `/bench-${process.pid}`;
  readonly writes: Buffer[];
  readonly reads: Buffer[];
  /** CPU seconds and requests over the 1-in-flight runs. */
  cpu = 0;
  requests1 = 0;
  /** xenode's daemon: its socket polling counts. */
  pollCounts: (() => Promise<PollCounts>) | undefined;

  private constructor(
    readonly name: string,
    readonly socket: string,
    readonly pid: number | undefined,
    /** The echo reference: it answers every packet with itself, so only WRITE/READ loops mean anything. */
    readonly echo: boolean,
    readonly c: RawConn,
    readonly other: RawConn,
  ) {
    this.writes = writePackets(this.prefix);
    this.reads = readPackets(this.prefix);
  }

  static async open(name: string, socket: string, pid: number | undefined, echo = false): Promise<Target> {
    const t = new Target(name, socket, pid, echo, new RawConn(await connectSocket(socket)), new RawConn(await connectSocket(socket)));
    // Warm-up (JIT, caches), which also creates the nodes the reads use.
    await pipelined(t.c, t.writes, 16, 300);
    await pipelined(t.c, t.reads, 16, 100);
    await t.other.call(XS_MKDIR, 0, [`${t.prefix}/w`]);
    return t;
  }

  /** Ops/s of `packets` with `depth` in flight; the 1-in-flight runs also count the daemon's CPU. */
  async rate(packets: Buffer[], depth: number, ms: number): Promise<number> {
    const cpu0 = depth === 1 ? cpuSeconds(this.pid) : 0;
    const rate = await pipelined(this.c, packets, depth, ms);
    if (depth === 1) {
      this.cpu += cpuSeconds(this.pid) - cpu0;
      this.requests1 += (rate * ms) / 1000;
    }
    return rate;
  }

  /** Watch latency, with what the daemon's main thread and its polling gate did meanwhile. */
  async watch(ms: number): Promise<Latency> {
    const s0 = this.pid === undefined ? undefined : schedOf(this.pid);
    const c0 = await this.pollCounts?.();
    const lat = await watchLatency(this.c, this.other, `${this.prefix}/w`, ms);
    const c1 = await this.pollCounts?.();
    if (s0) {
      const s1 = schedOf(this.pid!);
      lat.sleepsPerSample = Math.round(((s1.sleeps - s0.sleeps) / lat.samples) * 100) / 100;
      lat.runDelayUsPerSample = Math.round((s1.waitNs - s0.waitNs) / lat.samples / 100) / 10;
      lat.cpuUsPerSample = Math.round((s1.cpuNs - s0.cpuNs) / lat.samples / 100) / 10;
    }
    if (c0 && c1) {
      const share = (n: number) => Math.round((n / Math.max(1, c1.answers - c0.answers)) * 100) / 100;
      lat.gatedShare = share(c1.gated - c0.gated);
      lat.polledShare = share(c1.windows - c0.windows);
      lat.pollPreempted = c1.preempted - c0.preempted;
    }
    return lat;
  }

  get cpuUsPerRequest(): number | undefined {
    return this.pid === undefined || this.requests1 === 0 ? undefined : Math.round((this.cpu * 1e6 * 10) / this.requests1) / 10;
  }

  async close(): Promise<void> {
    await this.c.call(XS_RM, 0, [this.prefix]);
    await this.c.call(XS_RM, 0, [`${this.prefix}-clients`]).catch(() => undefined);
    this.c.close();
    this.other.close();
  }
}

/** One figure of every daemon: measured round after round, the daemons in turn within each round. */
interface Measure {
  readonly key: string;
  /** Whether the echo reference takes part (it cannot do transactions or watches). */
  readonly echo: boolean;
  /** The figure of each of `targets`, in order: one after another, or interleaved. */
  run(targets: Target[], ms: number): Promise<unknown[]>;
}

/** A figure measured for one daemon at a time. */
const each = (key: string, echo: boolean, run: (t: Target, ms: number) => Promise<unknown>): Measure => ({
  key,
  echo,
  run: async (targets, ms) => {
    const out: unknown[] = [];
    for (const t of targets) out.push(await run(t, ms));
    return out;
  },
});

const watch = each('watchLatency', false, (t, ms) => t.watch(ms));

function measures(depths: number[], clients: number[], watchOnly: boolean): Measure[] {
  if (watchOnly) return [watch];
  return [
    ...depths.map((d) => each(`writesPerSec.${d}`, true, (t, ms) => t.rate(t.writes, d, ms))),
    ...depths.map((d) => each(`readsPerSec.${d}`, true, (t, ms) => t.rate(t.reads, d, ms))),
    each('txPerSec', false, (t, ms) => transactions(t.c, t.prefix, ms)),
    watch,
    ...clients.map((n): Measure => ({ key: `clients.${n}`, echo: true, run: (targets, ms) => manyClients(targets, n, ms) })),
  ];
}

/** Sets `value` at a dotted `key` ("writesPerSec.16") of `into`. */
function put(into: Record<string, unknown>, key: string, value: unknown): void {
  const [head, tail] = key.split('.') as [string, string | undefined];
  if (tail === undefined) into[head] = value;
  else ((into[head] ??= {}) as Record<string, unknown>)[tail] = value;
}

// ---------------------------------------------------------------------------------------------
// Threads.

/**
 * A server in a process of its own serving `socket`: xenode's xenstored
 * (bench/support/xenstored-process.ts) or the echo reference (bench/support/echo-process.ts).
 */
async function startServer(script: string, socket: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`./support/${script}`, import.meta.url)), socket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return child;
}

/**
 * The ring figures: a host (its xenstored in this thread, as dom0's) boots one guest per round
 * that measures over its own ring page and event channel (bench/guests/xsring.ts).
 */
async function ringFigures(ms: number, rounds: number, depths: number[]): Promise<Figures> {
  const { Host } = await import('../src/toolstack/host.js');
  const { parseDomainConfig } = await import('../src/toolstack/domconfig.js');
  const kernel = fileURLToPath(new URL('../../bench/guests/xsring.ts', import.meta.url));
  const host = await Host.start({ poolSize: 1 });
  try {
    const runs: Figures[] = [];
    for (let r = 0; r < rounds; r++) {
      const { config } = parseDomainConfig(`name = "xsring-${r}"\nkernel = "${kernel}"\nmemory = 16\nextra = "ms=${ms} depths=${depths.join(',')}"\n`, kernel);
      const built = await host.create(config);
      const domid = built.domain.domid;
      const result = await host.xs.wait(`/local/domain/${domid}/data/xsring/result`, (v) => v !== undefined, { timeout: 20 * ms + 60_000 });
      runs.push(JSON.parse(result!) as Figures);
      await host.destroy(domid);
    }
    return medianOf(runs);
  } finally {
    await host.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The per-field median of several runs' figures (same shape, numbers at the leaves). */
function medianOf<T>(runs: T[]): T {
  const first = runs[0];
  if (typeof first === 'number') return median(runs as number[]) as T;
  return Object.fromEntries(Object.keys(first as object).map((k) => [k, medianOf(runs.map((r) => (r as Record<string, unknown>)[k]))])) as T;
}

const round = (x: number): number => Math.round(x);

/** The echo reference's name among the targets. */
const ECHO = 'node-echo';

const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;

/**
 * xenode ÷ peer for rates, peer ÷ xenode for latency and CPU (so above 1 means xenode is
 * better); for the many-clients test also the worst round (the rounds are paired in time).
 */
function speedups(ours: SocketFigures, peer: SocketFigures, oursRuns: SocketFigures[], peerRuns: SocketFigures[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [d, v] of Object.entries(peer.writesPerSec)) out[`writesPerSec${d}`] = ratio(ours.writesPerSec[d]!, v);
  for (const [d, v] of Object.entries(peer.readsPerSec)) out[`readsPerSec${d}`] = ratio(ours.readsPerSec[d]!, v);
  out.txPerSec = ratio(ours.txPerSec, peer.txPerSec);
  out.watchLatencyP50 = ratio(peer.watchLatency.p50us, ours.watchLatency.p50us);
  out.watchLatencyP99 = ratio(peer.watchLatency.p99us, ours.watchLatency.p99us);
  if (ours.cpuUsPerRequest && peer.cpuUsPerRequest) out.cpuPerRequest = ratio(peer.cpuUsPerRequest, ours.cpuUsPerRequest);
  for (const [n, v] of Object.entries(peer.clients)) {
    out[`clients${n}`] = ratio(ours.clients[n]!.opsPerSec, v.opsPerSec);
    out[`clients${n}Slowest`] = ratio(ours.clients[n]!.slowestOpsPerSec, v.slowestOpsPerSec);
    const cpu = ours.clients[n]!.cpuUsPerRequest;
    if (cpu && v.cpuUsPerRequest) out[`clients${n}CpuPerRequest`] = ratio(v.cpuUsPerRequest, cpu);
    out[`clients${n}WorstRound`] = Math.min(...oursRuns.map((o, r) => ratio(o.clients[n]!.opsPerSec, peerRuns[r]!.clients[n]!.opsPerSec)));
  }
  return out;
}

/** The WRITE/READ and many-clients figures, which the echo reference has too. */
type EchoFigures = Pick<SocketFigures, 'writesPerSec' | 'readsPerSec' | 'clients' | 'cpuUsPerRequest'>;

/** a ÷ b on the figures the echo reference shares (rates; CPU per request as b ÷ a, so above 1 means a is better). */
function echoRatios(a: EchoFigures, b: EchoFigures): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [d, v] of Object.entries(b.writesPerSec)) out[`writesPerSec${d}`] = ratio(a.writesPerSec[d]!, v);
  for (const [d, v] of Object.entries(b.readsPerSec)) out[`readsPerSec${d}`] = ratio(a.readsPerSec[d]!, v);
  if (a.cpuUsPerRequest && b.cpuUsPerRequest) out.cpuPerRequest = ratio(b.cpuUsPerRequest, a.cpuUsPerRequest);
  for (const [n, v] of Object.entries(b.clients)) {
    out[`clients${n}`] = ratio(a.clients[n]!.opsPerSec, v.opsPerSec);
    const cpuA = a.clients[n]!.cpuUsPerRequest;
    if (cpuA && v.cpuUsPerRequest) out[`clients${n}CpuPerRequest`] = ratio(v.cpuUsPerRequest, cpuA);
  }
  return out;
}

const byDepth = (f: ByDepth): string => Object.values(f).map(round).join('/');

function describe(name: string, f: Partial<SocketFigures> & Pick<Figures, 'writesPerSec' | 'readsPerSec'>): string {
  const clients = f.clients
    ? `; clients ${Object.entries(f.clients).map(([n, v]) => `${n}:${round(v.opsPerSec)} (slowest ${round(v.slowestOpsPerSec)}${v.cpuUsPerRequest === undefined ? '' : `, ${v.cpuUsPerRequest} us CPU each`}, client ${v.clientCpuUsPerRequest} us)`).join(' ')} ops/s`
    : '';
  return `${name}: write ${byDepth(f.writesPerSec)} ops/s, read ${byDepth(f.readsPerSec)} ops/s (${Object.keys(f.writesPerSec).join('/')} in flight)`
    + (f.watchLatency === undefined ? '' : `; ${round(f.txPerSec!)} tx/s; ${describeLatency(f.watchLatency)}`)
    + clients
    + (f.cpuUsPerRequest === undefined ? '' : `; daemon CPU ${f.cpuUsPerRequest} us/request`);
}

/** `--watch-only`: each daemon's watch latency, and xenode's p50 over each peer's round by round. */
function printWatchOnly(ms: number, rounds: number, figures: Map<string, SocketFigures>, runs: Map<string, SocketFigures[]>): void {
  for (const [name, f] of figures) console.log(`${name}: ${describeLatency(f.watchLatency)}`);
  const xenodeRuns = runs.get('xenode')!;
  const p50 = Object.fromEntries([...figures.keys()].filter((n) => n !== 'xenode').map((n) => [n, {
    median: ratio(figures.get('xenode')!.watchLatency.p50us, figures.get(n)!.watchLatency.p50us),
    rounds: runs.get(n)!.map((r, i) => ratio(xenodeRuns[i]!.watchLatency.p50us, r.watchLatency.p50us)),
  }]));
  console.log(`xenode's watch p50 ÷ each peer's (<1: xenode faster): ${JSON.stringify(p50)}`);
  console.log(JSON.stringify({
    bench: 'xenstore', figure: 'watchLatency', durationMs: ms, rounds, statistic: 'median of rounds', node: process.version, loadavg: loadavg(),
    watchLatency: Object.fromEntries([...figures].map(([n, f]) => [n, f.watchLatency])), p50OverPeer: p50,
  }));
}

async function main(): Promise<void> {
  const usage = 'usage: xenstore.js [--peer NAME=SOCKET ...] [--no-cxenstored] [--no-echo] [--duration MS] [--rounds N] [--depths N,N,...] [--clients N,N,...] [--no-ring] [--watch-only]';
  const { values } = parseArgs({
    options: {
      peer: { type: 'string', multiple: true, default: [] },
      duration: { type: 'string', default: '300' },
      rounds: { type: 'string', default: '5' },
      depths: { type: 'string', default: '1,4,16,64' },
      clients: { type: 'string', default: '1,10,100,1000' },
      'no-ring': { type: 'boolean', default: false },
      'no-cxenstored': { type: 'boolean', default: false },
      'no-echo': { type: 'boolean', default: false },
      'watch-only': { type: 'boolean', default: false },
    },
  });
  const ms = Number(values.duration);
  const rounds = Number(values.rounds);
  const watchOnly = values['watch-only'];
  const clients = values.clients.split(',').map(Number);
  const depths = values.depths.split(',').map(Number);
  if (!(ms > 0) || !(Number.isInteger(rounds) && rounds > 0) || [...clients, ...depths].some((n) => !(Number.isInteger(n) && n > 0))) throw new Error(usage);
  const peers = values.peer.map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`--peer wants NAME=SOCKET, not "${p}"\n${usage}`);
    return { name: p.slice(0, eq), socket: p.slice(eq + 1), pid: undefined as number | undefined };
  });

  const dir = mkdtempSync(join(tmpdir(), 'xenode-bench-xs-'));
  const socket = join(dir, 'xenstored.sock');
  const xenstored = await startServer('xenstored-process.js', socket);
  process.on('exit', () => xenstored.kill('SIGKILL'));
  const echoSocket = join(dir, 'echo.sock');
  const echo = values['no-echo'] || watchOnly ? undefined : await startServer('echo-process.js', echoSocket);
  process.on('exit', () => echo?.kill('SIGKILL'));
  // Debian's cxenstored, started here (as the differential fuzz does) unless told otherwise.
  let cxenstored: Cxenstored | undefined;
  if (!values['no-cxenstored'] && !peers.some((p) => p.name === 'cxenstored')) {
    const why = await cxenstoredUnavailable();
    if (why === undefined) {
      cxenstored = await startCxenstored();
      peers.unshift({ name: 'cxenstored', socket: cxenstored.socket, pid: cxenstored.pid });
    } else {
      console.log(`cxenstored not measured: ${why}`);
    }
  }
  // Bounded (peers, xenode's socket and its ring): a daemon that stops answering (without
  // closing) must not hang the run.
  const limitMs = 60_000 + (rounds + 1) * (peers.length + 3) * ((2 * depths.length + 4) * ms + clients.length * 10_000);
  setTimeout(() => {
    console.error(`xenstore bench: no result after ${Math.round(limitMs / 1000)} s, giving up`);
    process.exit(2);
  }, limitMs).unref();
  try {
    // Each figure in turn, round after round, the daemons one after another within a round, so
    // that the machine's noise falls on all of them alike; each figure is the median of its rounds.
    const targets: Target[] = [];
    for (const t of [{ name: 'xenode', socket, pid: xenstored.pid }, ...peers]) targets.push(await Target.open(t.name, t.socket, t.pid));
    targets[0]!.pollCounts = () => pollCountsOf(xenstored);
    if (echo) targets.push(await Target.open(ECHO, echoSocket, echo.pid, true));
    const runs = new Map<string, SocketFigures[]>(targets.map((t) => [t.name, Array.from({ length: rounds }, () => ({}) as SocketFigures)]));
    for (const m of measures(depths, clients, watchOnly)) {
      for (let r = 0; r < rounds; r++) {
        const taking = targets.filter((t) => m.echo || !t.echo);
        const values = await m.run(taking, ms);
        taking.forEach((t, i) => put(runs.get(t.name)![r] as unknown as Record<string, unknown>, m.key, values[i]));
      }
    }
    for (const t of targets) {
      const cpu = t.cpuUsPerRequest;
      if (cpu !== undefined) for (const f of runs.get(t.name)!) f.cpuUsPerRequest = cpu;
      await t.close();
    }
    const figures = new Map([...runs].map(([name, list]) => [name, medianOf(list)]));
    const xenode = figures.get('xenode')!;
    if (watchOnly) {
      printWatchOnly(ms, rounds, figures, runs);
      return;
    }
    console.log(describe('xenode socket', xenode));
    let ring: Figures | undefined;
    if (!values['no-ring']) {
      ring = await ringFigures(ms, rounds, depths);
      console.log(describe('xenode ring (a guest over its ring page and event channel, with its xenstore client)', ring));
    }
    const echoFigures = figures.get(ECHO);
    if (echoFigures) console.log(describe('node echo (reference: the floor of a Node daemon)', echoFigures));
    const peerFigures: Record<string, SocketFigures> = {};
    const vs: Record<string, Record<string, number>> = {};
    for (const p of peers) {
      peerFigures[p.name] = figures.get(p.name)!;
      vs[p.name] = speedups(xenode, peerFigures[p.name]!, runs.get('xenode')!, runs.get(p.name)!);
      console.log(describe(`${p.name} socket`, peerFigures[p.name]!));
      console.log(`xenode speedup over ${p.name} (>1: xenode faster): ${JSON.stringify(vs[p.name])}`);
    }
    // The echo reference: how close xenode comes to it, and the most a Node daemon could reach
    // against each peer in this run (echo ÷ peer).
    const echoVs = echoFigures && {
      xenode: echoRatios(xenode, echoFigures),
      bound: Object.fromEntries(peers.map((p) => [p.name, echoRatios(echoFigures, peerFigures[p.name]!)])),
    };
    if (echoVs) {
      console.log(`xenode ÷ node echo: ${JSON.stringify(echoVs.xenode)}`);
      for (const p of peers) console.log(`node echo ÷ ${p.name} (the bound for a Node daemon): ${JSON.stringify(echoVs.bound[p.name])}`);
    }
    console.log(JSON.stringify({
      bench: 'xenstore', durationMs: ms, rounds, depths, statistic: 'median of rounds', node: process.version, loadavg: loadavg(),
      xenode: { socket: xenode, ring: ring ?? null, ringClient: "the guest's xenstore client over its ring page and the hypervisor's event channels; watch latency on one connection" },
      peers: peerFigures, speedup: vs,
      nodeEcho: echoFigures === undefined ? null : { figures: echoFigures, ...echoVs },
    }));
  } finally {
    xenstored.kill('SIGKILL');
    echo?.kill('SIGKILL');
    await cxenstored?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// --pool: guest-to-guest and guest-to-xenstored latency with the guests in a shared cpupool.
if (process.argv.includes('--pool')) await poolLatencyBench('xenstore', ['read', 'xenstore'], 500, 3);
else await main();
