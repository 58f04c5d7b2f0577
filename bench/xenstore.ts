// xenstored benchmark: `node dist/bench/xenstore.js [--peer c=SOCKET ...] [--duration MS]
// [--rounds N] [--clients 1,10,100,1000] [--no-ring]`, or `npm run bench -- xenstore ...`.
//
// xenode's xenstored runs in its own thread (as cxenstored runs in its own process); the load
// comes from raw packets written by this thread (like xspeer's rawbench), so the client library
// is not what is measured. On one socket connection: WRITE and READ per second with 1 and 16
// requests in flight, transactions per second (start, 3 writes, commit, each waiting for its
// reply), watch fire latency (a write on one connection, the event on another), and ops/s with
// 1..1000 connections each keeping 1 request in flight. The same (but the many-clients test) for
// a guest over the xenstore ring page, with two worker threads and, until the hypervisor's event
// channels are wired in here, an Atomics.waitAsync stand-in for the event channel.
// `--peer NAME=SOCKET` measures an already running xenstored (cxenstored, oxenstored) the same
// way in the same run and adds speedups (>1: xenode is faster). The last line is JSON.
// `--pool`: instead, real guests in a shared cpupool next to Pool-0 (bench/support/pingpong.ts):
// a guest's read of its own node, and a ping-pong between two guests by write and watch.
import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  XS_ERROR, XS_INTRODUCE, XS_MKDIR, XS_READ, XS_RM, XS_SET_PERMS, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH,
  XS_WATCH, XS_WATCH_EVENT, XS_WRITE,
} from '../src/abi/xs_wire.js';
import { PAGE_SIZE } from '../src/abi/xen.js';
import { XsFrameReader, encodeRequest } from '../src/xenstore/common/frames.js';
import { connectSocket, type XsClientTransport } from '../src/xenstore/client/transport.js';
import { XenstoreRingClient } from '../src/xenstore/client/ring.js';
import { Xenstored } from '../src/xenstore/server/daemon.js';
import type { DomainRing, EventPort } from '../src/xenstore/common/ring.js';
import { poolLatencyBench } from './support/pingpong.js';

/** Guest domains of the ring test: the first is measured, the second writes for watch latency. */
const RING_DOMS = [1, 2] as const;
/** Layout of the shared buffer: one ring page per guest, then the event words (2 per guest). */
const EVENT_BASE = RING_DOMS.length * PAGE_SIZE;

// ---------------------------------------------------------------------------------------------
// The event channel stand-in and the ring pages shared by the dom0 and guest threads.

/**
 * One end of an event channel between two threads: a counter word per direction; notify bumps
 * the peer's word and wakes it, the receiving end sleeps in Atomics.waitAsync so its thread's
 * event loop keeps running.
 */
class AtomicsEventPort implements EventPort {
  #handlers = new Set<() => void>();
  #closed = false;

  constructor(private readonly words: Int32Array, private readonly tx: number, private readonly rx: number) {
    void this.#loop();
  }

  notify(): void {
    Atomics.add(this.words, this.tx, 1);
    Atomics.notify(this.words, this.tx);
  }

  onEvent(handler: () => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  close(): void {
    this.#closed = true;
    this.#handlers.clear();
    // Wake our own waiter so its loop ends.
    Atomics.add(this.words, this.rx, 1);
    Atomics.notify(this.words, this.rx);
  }

  async #loop(): Promise<void> {
    let seen = Atomics.load(this.words, this.rx);
    while (!this.#closed) {
      const w = Atomics.waitAsync(this.words, this.rx, seen);
      if (w.async) await w.value;
      seen = Atomics.load(this.words, this.rx);
      for (const h of this.#handlers) h();
    }
  }
}

/** Guest `i`'s ring as one side sees it (dom0: words 2i+1 in, 2i out; the guest the opposite). */
function ringOf(sab: SharedArrayBuffer, i: number, side: 'dom0' | 'guest'): DomainRing {
  const words = new Int32Array(sab, EVENT_BASE, 2 * RING_DOMS.length);
  const [toGuest, toDom0] = [2 * i, 2 * i + 1];
  return {
    page: new Uint8Array(sab, i * PAGE_SIZE, PAGE_SIZE),
    evtchn: side === 'dom0' ? new AtomicsEventPort(words, toGuest, toDom0) : new AtomicsEventPort(words, toDom0, toGuest),
  };
}

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

/** Total ops/s with `n` connections, each alternating WRITE and READ of its own node, 1 in flight. */
async function manyClients(socket: string, n: number, prefix: string, ms: number): Promise<number> {
  const conns: RawConn[] = [];
  while (conns.length < n) conns.push(new RawConn(await connectPatiently(socket)));
  const packets = conns.map((_, i) => [
    encodeRequest(XS_WRITE, 1, 0, [`${prefix}/c${i}`, 'x'], true),
    encodeRequest(XS_READ, 2, 0, [`${prefix}/c${i}`]),
  ]);
  let total = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  let errors = 0;
  await Promise.all(conns.map((c, i) => new Promise<void>((resolve, reject) => {
    let k = 0;
    c.onClose = reject;
    c.onReply = (type) => {
      total++;
      if (type === XS_ERROR) errors++;
      if (performance.now() >= end) {
        resolve();
        return;
      }
      c.send(packets[i]![k++ & 1]!);
    };
    c.send(packets[i]![k++ & 1]!);
  })));
  const rate = Math.round(total / ((performance.now() - t0) / 1000));
  for (const c of conns) c.close();
  if (errors > 0) throw new Error(`${errors} of ${total} requests from ${n} clients got ERROR replies`);
  return rate;
}

/** cxenstored listens with a backlog of 1: a burst of connects gets EAGAIN until it accepts. */
async function connectPatiently(socket: string): Promise<XsClientTransport> {
  for (let tries = 0; ; tries++) {
    try {
      return await connectSocket(socket);
    } catch (e) {
      if (tries >= 1000 || !/EAGAIN/.test((e as Error).message)) throw e;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

interface Figures {
  writesPerSec1: number;
  writesPerSec16: number;
  readsPerSec1: number;
  readsPerSec16: number;
  txPerSec: number;
  watchLatency: Latency;
}

/**
 * The single-connection figures over any transport, under `prefix` (which must be writable).
 * `open` is called twice: the measured connection, then the writer for watch latency.
 */
async function connectionFigures(open: () => Promise<XsClientTransport>, prefix: string, ms: number): Promise<Figures> {
  const c = new RawConn(await open());
  const w = writePackets(prefix);
  const r = readPackets(prefix);
  // Warm-up (JIT, caches), which also creates the nodes the reads use.
  await pipelined(c, w, 16, 300);
  await pipelined(c, r, 16, 100);
  const figures: Figures = {
    writesPerSec1: await pipelined(c, w, 1, ms),
    writesPerSec16: await pipelined(c, w, 16, ms),
    readsPerSec1: await pipelined(c, r, 1, ms),
    readsPerSec16: await pipelined(c, r, 16, ms),
    txPerSec: await transactions(c, prefix, ms),
    watchLatency: await (async () => {
      const other = new RawConn(await open());
      await other.call(XS_MKDIR, 0, [`${prefix}/w`]);
      const lat = await watchLatency(c, other, `${prefix}/w`, ms);
      other.close();
      return lat;
    })(),
  };
  // The watched node stays: on a guest's ring only the toolstack may create it.
  await c.call(XS_RM, 0, [`${prefix}/kv`]);
  await c.call(XS_RM, 0, [`${prefix}/tx`]);
  c.close();
  return figures;
}

interface SocketFigures extends Figures {
  clientsOpsPerSec: Record<string, number>;
}

async function socketFigures(socket: string, clients: number[], ms: number): Promise<SocketFigures> {
  const prefix = `/bench-${process.pid}`;
  const f = await connectionFigures(() => connectSocket(socket), prefix, ms);
  const clientsOpsPerSec: Record<string, number> = {};
  for (const n of clients) clientsOpsPerSec[n] = await manyClients(socket, n, `${prefix}-clients`, ms);
  const c = new RawConn(await connectSocket(socket));
  await c.call(XS_RM, 0, [prefix]);
  await c.call(XS_RM, 0, [`${prefix}-clients`]);
  c.close();
  return { ...f, clientsOpsPerSec };
}

// ---------------------------------------------------------------------------------------------
// Threads.

/** dom0's thread: xenode's xenstored on a socket, serving the guests' ring pages. */
async function dom0Thread(socket: string, sab: SharedArrayBuffer): Promise<void> {
  const xenstored = new Xenstored({
    introduce: async (domid) => ringOf(sab, RING_DOMS.indexOf(domid as 1 | 2), 'dom0'),
  });
  await xenstored.listen(socket);
  parentPort!.postMessage('ready');
}

/** A guest's thread: the ring figures, measured from inside the guest (the second guest writes for watch latency). */
async function guestThread(sab: SharedArrayBuffer, ms: number, rounds: number): Promise<void> {
  // Atomics.waitAsync alone does not keep a thread alive.
  const alive = setInterval(() => undefined, 1 << 30);
  const rings = RING_DOMS.map((_, i) => ringOf(sab, i, 'guest'));
  const runs: Figures[] = [];
  for (let r = 0; r < rounds; r++) {
    let next = 0;
    const open = async (): Promise<XsClientTransport> => new XenstoreRingClient(rings[next++]!);
    runs.push(await connectionFigures(open, `/local/domain/${RING_DOMS[0]}/bench`, ms));
  }
  clearInterval(alive);
  parentPort!.postMessage(medianOf(runs));
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

function spawn(role: string, data: object): Worker {
  return new Worker(new URL(import.meta.url), { workerData: { role, ...data } });
}

function once<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

const round = (x: number): number => Math.round(x);

function speedups(ours: Figures & Partial<SocketFigures>, peer: SocketFigures): Record<string, number> {
  const r = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
  const out: Record<string, number> = {
    writesPerSec1: r(ours.writesPerSec1, peer.writesPerSec1),
    writesPerSec16: r(ours.writesPerSec16, peer.writesPerSec16),
    readsPerSec1: r(ours.readsPerSec1, peer.readsPerSec1),
    readsPerSec16: r(ours.readsPerSec16, peer.readsPerSec16),
    txPerSec: r(ours.txPerSec, peer.txPerSec),
    watchLatencyP50: r(peer.watchLatency.p50us, ours.watchLatency.p50us),
    watchLatencyP99: r(peer.watchLatency.p99us, ours.watchLatency.p99us),
  };
  for (const [n, v] of Object.entries(peer.clientsOpsPerSec)) out[`clients${n}`] = r(ours.clientsOpsPerSec?.[n] ?? 0, v);
  return out;
}

function describe(name: string, f: Figures & Partial<SocketFigures>): string {
  const clients = f.clientsOpsPerSec
    ? `; clients ${Object.entries(f.clientsOpsPerSec).map(([n, v]) => `${n}:${round(v)}`).join(' ')} ops/s`
    : '';
  return `${name}: write ${round(f.writesPerSec1)}/${round(f.writesPerSec16)} ops/s, read ${round(f.readsPerSec1)}/${round(f.readsPerSec16)} ops/s (1/16 in flight); `
    + `${round(f.txPerSec)} tx/s; watch p50 ${f.watchLatency.p50us} us p99 ${f.watchLatency.p99us} us${clients}`;
}

async function main(): Promise<void> {
  const usage = 'usage: xenstore.js [--peer NAME=SOCKET ...] [--duration MS] [--rounds N] [--clients N,N,...] [--no-ring]';
  const { values } = parseArgs({
    options: {
      peer: { type: 'string', multiple: true, default: [] },
      duration: { type: 'string', default: '500' },
      rounds: { type: 'string', default: '3' },
      clients: { type: 'string', default: '1,10,100,1000' },
      'no-ring': { type: 'boolean', default: false },
    },
  });
  const ms = Number(values.duration);
  const rounds = Number(values.rounds);
  const clients = values.clients.split(',').map(Number);
  if (!(ms > 0) || !(Number.isInteger(rounds) && rounds > 0) || clients.some((n) => !(Number.isInteger(n) && n > 0))) throw new Error(usage);
  const peers = values.peer.map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`--peer wants NAME=SOCKET, not "${p}"\n${usage}`);
    return { name: p.slice(0, eq), socket: p.slice(eq + 1) };
  });

  // Bounded: a daemon that stops answering (without closing) must not hang the run.
  const limitMs = 60_000 + (rounds + 1) * (peers.length + 2) * (10 * ms + clients.length * 10_000);
  setTimeout(() => {
    console.error(`xenstore bench: no result after ${Math.round(limitMs / 1000)} s, giving up`);
    process.exit(2);
  }, limitMs).unref();

  const dir = mkdtempSync(join(tmpdir(), 'xenode-bench-xs-'));
  const socket = join(dir, 'xenstored.sock');
  const sab = new SharedArrayBuffer(EVENT_BASE + 4 * 2 * RING_DOMS.length);
  const dom0 = spawn('dom0', { socket, sab });
  try {
    await once(dom0);
    // Round-robin over the daemons, round after round, so that the machine's noise falls on
    // all of them alike; each figure is the median of its rounds.
    const targets = [{ name: 'xenode', socket }, ...peers];
    const runs = new Map<string, SocketFigures[]>(targets.map((t) => [t.name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const t of targets) runs.get(t.name)!.push(await socketFigures(t.socket, clients, ms));
    }
    const figures = new Map([...runs].map(([name, list]) => [name, medianOf(list)]));
    const xenode = figures.get('xenode')!;
    console.log(describe('xenode socket', xenode));
    let ring: Figures | undefined;
    if (!values['no-ring']) {
      // The toolstack's part: the guests' home directories, a node both may write, the introductions.
      const c = new RawConn(await connectSocket(socket));
      for (const d of RING_DOMS) {
        await c.call(XS_MKDIR, 0, [`/local/domain/${d}`]);
        await c.call(XS_SET_PERMS, 0, [`/local/domain/${d}`, `n${d}`]);
      }
      await c.call(XS_MKDIR, 0, [`/local/domain/${RING_DOMS[0]}/bench/w`]);
      await c.call(XS_SET_PERMS, 0, [`/local/domain/${RING_DOMS[0]}/bench/w`, `b${RING_DOMS[0]}`]);
      for (const d of RING_DOMS) await c.call(XS_INTRODUCE, 0, [String(d), '0', String(d)]); // mfn, port: unused here
      c.close();
      const guest = spawn('guest', { sab, ms, rounds });
      ring = await once<Figures>(guest);
      await guest.terminate();
      console.log(describe('xenode ring (SharedArrayBuffer page, Atomics.waitAsync event port)', ring));
    }
    const peerFigures: Record<string, SocketFigures> = {};
    const vs: Record<string, Record<string, number>> = {};
    for (const p of peers) {
      peerFigures[p.name] = figures.get(p.name)!;
      vs[p.name] = speedups(xenode, peerFigures[p.name]!);
      console.log(describe(`${p.name} socket`, peerFigures[p.name]!));
      console.log(`xenode speedup over ${p.name} (>1: xenode faster): ${JSON.stringify(vs[p.name])}`);
    }
    console.log(JSON.stringify({
      bench: 'xenstore', durationMs: ms, rounds, statistic: 'median of rounds', node: process.version,
      xenode: { socket: xenode, ring: ring ?? null, ringEventPort: 'Atomics.waitAsync stand-in, not hypervisor event channels' },
      peers: peerFigures, speedup: vs,
    }));
  } finally {
    await dom0.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  // --pool: guest-to-guest and guest-to-xenstored latency with the guests in a shared cpupool.
  if (process.argv.includes('--pool')) await poolLatencyBench('xenstore', ['read', 'xenstore'], 500, 3);
  else await main();
} else {
  const d = workerData as { role: string; socket: string; sab: SharedArrayBuffer; ms: number; rounds: number };
  if (d.role === 'dom0') await dom0Thread(d.socket, d.sab);
  else await guestThread(d.sab, d.ms, d.rounds);
}
