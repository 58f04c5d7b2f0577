// TCP stream throughput between two in-process stacks joined by an in-memory Ethernet link
// (with and without checksum/GSO offloads), next to Node's own `net` over loopback in the same
// run; then memory per idle connection (10,000 connections held open between the two stacks).
//
//   npm run bench -- tcp [--mib=64] [--conns=10000] [--rounds=5] [--warmup=2]
//
// The link hands frames over in batches on setImmediate, as a ring and an event channel would;
// timers are the host's. The last line is JSON.
import { once } from 'node:events';
import { createServer, connect as netConnect, type AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { TcpSocket } from '../src/tcpip/tcp/socket.js';
import { emit, numberOptions } from './support/harness.js';
import { answerExchange as answer, connectionRate } from './support/tcp-pump.js';
import { stackPair as pair } from './support/tcpip-pipe.js';

const opts = numberOptions({ mib: 64, conns: 10000, rounds: 5, warmup: 2, cps: 2000, parallel: 16 });
const CHUNK = 64 * 1024;

/** MiB per second of wall time, and per second of this process's CPU time (user + system). */
interface Rate {
  wall: number;
  cpu: number;
}

/** Write `bytes` with backpressure and wait until the reader has them all. */
async function pump(w: NodeJS.WritableStream, r: NodeJS.ReadableStream, bytes: number): Promise<Rate> {
  const buf = Buffer.alloc(CHUNK, 0x5a);
  let got = 0;
  const done = new Promise<void>((resolve) => {
    r.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= bytes) resolve();
    });
  });
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  for (let sent = 0; sent < bytes; sent += CHUNK) {
    if (!w.write(buf)) await once(w, 'drain');
  }
  await done;
  const cpu = process.cpuUsage(cpu0);
  const mib = bytes / (1 << 20);
  return { wall: mib / ((performance.now() - start) / 1000), cpu: mib / ((cpu.user + cpu.system) / 1e6) };
}

async function ourThroughput(offload: boolean, bytes: number): Promise<Rate> {
  const { a, b } = pair(offload);
  const accepted = new Promise<TcpSocket>((resolve) => b.tcp.listen(5001, resolve));
  const c = await a.tcp.connect('10.0.0.2', 5001);
  const s = await accepted;
  const rate = await pump(c, s, bytes);
  if (process.env.TCP_BENCH_DEBUG) for (const x of a.tcpLayer.connections()) console.error(x.stats, x.cc.cwnd, x.rto.rto, x.rto.srtt);
  c.destroy();
  s.destroy();
  a.stop();
  b.stop();
  return rate;
}

async function nodeThroughput(bytes: number): Promise<Rate> {
  let peer: import('node:net').Socket | undefined;
  const srv = createServer((s) => { peer = s; });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const c = netConnect((srv.address() as AddressInfo).port, '127.0.0.1');
  await once(c, 'connect');
  while (!peer) await new Promise((r) => setImmediate(r));
  const rate = await pump(c, peer, bytes);
  c.destroy();
  peer.destroy();
  srv.close();
  return rate;
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

async function idleMemory(n: number): Promise<{ perConnBytes: number; heapMiB: number; opened: number }> {
  const { a, b } = pair(true, n + 100);
  const held: TcpSocket[] = [];
  b.tcp.listen(80, (s) => held.push(s));
  gc();
  const before = process.memoryUsage().heapUsed;
  const clients: TcpSocket[] = [];
  for (let i = 0; i < n; i += 500) {
    const batch = await Promise.all(Array.from({ length: Math.min(500, n - i) }, () => a.tcp.connect('10.0.0.2', 80)));
    clients.push(...batch);
  }
  while (held.length < n) await new Promise((r) => setImmediate(r));
  gc();
  const delta = process.memoryUsage().heapUsed - before;
  const opened = held.length;
  for (const s of [...held, ...clients]) s.destroy();
  a.stop();
  b.stop();
  // Both ends of every connection live in this heap: half is one guest's cost.
  return { perConnBytes: delta / opened / 2, heapMiB: delta / 2 / (1 << 20), opened };
}

async function ourConnectionRate(n: number): Promise<number> {
  const { a, b } = pair(true);
  b.tcp.listen(80, (s) => answer(s));
  const rate = await connectionRate(n, opts.parallel, () => a.tcp.connect('10.0.0.2', 80), () => performance.now());
  a.stop();
  b.stop();
  return rate;
}

async function nodeConnectionRate(n: number): Promise<number> {
  const srv = createServer((s) => answer(s));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as AddressInfo).port;
  const rate = await connectionRate(n, opts.parallel, async () => {
    const c = netConnect(port, '127.0.0.1');
    await once(c, 'connect');
    return c;
  }, () => performance.now());
  srv.close();
  return rate;
}

const bytes = opts.mib * (1 << 20);
const ours: Rate[] = [];
const oursNoOffload: Rate[] = [];
const node: Rate[] = [];
const cpsOurs: number[] = [];
const cpsNode: number[] = [];
// Warm-up rounds (not counted) let V8 compile both sides' paths before anything is timed; the
// kinds take turns so that the machine's load, which wanders, hits them alike.
for (let r = 0; r < opts.warmup + opts.rounds; r++) {
  const o = await ourThroughput(true, bytes);
  const n = await ourThroughput(false, bytes);
  const l = await nodeThroughput(bytes);
  const co = await ourConnectionRate(opts.cps);
  const cn = await nodeConnectionRate(opts.cps);
  if (r < opts.warmup) continue;
  ours.push(o);
  oursNoOffload.push(n);
  node.push(l);
  cpsOurs.push(co);
  cpsNode.push(cn);
}
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const wall = (xs: Rate[]) => med(xs.map((x) => x.wall));
const cpu = (xs: Rate[]) => med(xs.map((x) => x.cpu));
const mem = await idleMemory(opts.conns);
const result = {
  bench: 'tcp',
  mib: opts.mib,
  rounds: opts.rounds,
  loadavg: loadavg()[0],
  streamMiBps: { offload: wall(ours), noOffload: wall(oursNoOffload), nodeNetLoopback: wall(node) },
  ratioToNodeNet: { offload: wall(ours) / wall(node), noOffload: wall(oursNoOffload) / wall(node) },
  streamMiBPerCpuSecond: { offload: cpu(ours), noOffload: cpu(oursNoOffload), nodeNetLoopback: cpu(node) },
  cpuRatioToNodeNet: { offload: cpu(ours) / cpu(node), noOffload: cpu(oursNoOffload) / cpu(node) },
  connectionsPerSecond: { ours: med(cpsOurs), nodeNetLoopback: med(cpsNode), ratio: med(cpsOurs) / med(cpsNode), parallel: opts.parallel },
  idle: { connections: mem.opened, bytesPerConnection: mem.perConnBytes, MiBForAllOnOneSide: mem.heapMiB, goalMiB: 64 },
};
console.log(`stream: ours ${wall(ours).toFixed(0)} MiB/s with offloads, ${wall(oursNoOffload).toFixed(0)} without; Node net loopback ${wall(node).toFixed(0)} MiB/s`);
console.log(`connections/s: ours ${med(cpsOurs).toFixed(0)}, Node net loopback ${med(cpsNode).toFixed(0)}`);
console.log(`idle: ${mem.opened} connections, ${(mem.perConnBytes / 1024).toFixed(2)} KiB each per side (${mem.heapMiB.toFixed(1)} MiB of 64)`);
emit(result);
