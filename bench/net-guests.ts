// Frames between real guests across a bridge: 1, 2, 4, 8, 16 pairs of guests (each a domain
// with its own vCPU thread and os.net(), bench/guests/netpeer.ts), one of each pair streaming
// frames to the other through netfront -> netback -> the switch -> netback -> netfront, with
// the backends in dom0 and then in a network driver domain (examples/driver-domain, which
// runs serveNetBackends and a switch of its own). 64-byte and 1514-byte frames in frames/s
// and TCPv4 GSO super-frames of 65000 bytes in Gb/s, summed over the receivers, each next to
// the physical limit measured in the same run: the same frames copied from one
// SharedArrayBuffer to another in one thread; with dom0's backend also rx_dropped, the frames
// the receivers' netbacks dropped (back-pressure keeps it at 0). Prints one line of JSON.
//
//   npm run bench -- net-guests [--runtime=1] [--ramp=0.5] [--min-pairs=1] [--max-pairs=16] [--window=256] [--repeat=1]
//                              [--min-size=64] [--max-size=65000] [--dom0=1] [--driver-domain=1]
//
// --max-size=64 measures 64-byte frames only, --max-size=1514 leaves out GSO, --min-size=65000
// measures GSO only; --dom0=0 or
// --driver-domain=0 leaves out that backend (short runs for an A/B).
//
// All guests and dom0 share this machine's cores, so the aggregate measures the whole host;
// the load average at the start and the end is in the result.
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { ThreadState } from '../src/hypervisor/thread.js';
import { Host } from '../src/toolstack/host.js';
import { emit, numberOptions } from './support/harness.js';

const opts = numberOptions({ runtime: 1, ramp: 0.5, 'min-pairs': 1, 'max-pairs': 16, window: 256, repeat: 1, 'min-size': 64, 'max-size': 65000, dom0: 1, 'driver-domain': 1 }, ['dom0', 'driver-domain']);
const NETPEER = fileURLToPath(new URL('../../bench/guests/netpeer.ts', import.meta.url));
const NET_DD = fileURLToPath(new URL('../../examples/driver-domain/netback.ts', import.meta.url));
const ALL_SIZES = [64, 1514, 65000];
const NAMES_BY_SIZE = ['eth64', 'eth1514', 'gso64k'] as const;
const SIZES = ALL_SIZES.filter((s) => s >= opts['min-size'] && s <= opts['max-size']);
const NAMES = NAMES_BY_SIZE.filter((_, i) => SIZES.includes(ALL_SIZES[i]!));
const PAIRS = [1, 2, 4, 8, 16].filter((n) => n >= opts['min-pairs'] && n <= opts['max-pairs']);
const BACKENDS = ([['dom0', undefined], ['driver_domain', 'net-dd']] as const).filter(([mode]) => opts[mode === 'dom0' ? 'dom0' : 'driver-domain'] !== 0);

interface Point { readonly frames_per_s: number; readonly gbit_per_s: number }

/** The physical limit: `size`-byte frames copied between two SharedArrayBuffers, one thread. */
function sabCopy(size: number, ms: number): Point {
  const a = new Uint8Array(new SharedArrayBuffer(65536));
  const b = new Uint8Array(new SharedArrayBuffer(65536));
  a.fill(0x5a, 0, size);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 256; i++) b.set(a.subarray(0, size));
    n += 256;
  }
  const s = (performance.now() - t0) / 1000;
  return { frames_per_s: n / s, gbit_per_s: (n * size * 8) / s / 1e9 };
}

const macOf = (i: number, role: number) => `00:16:3e:5${role}:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
let seq = 0;

interface Result { frames: number; bytes: number; start_ms: number; end_ms: number }

/** `pairs` sender/receiver pairs, every size in turn; per size the receivers' sum and the limit. */
async function run(host: Host, pairs: number, backend: string | undefined): Promise<Record<string, unknown>> {
  const domids: { send: number; recv: number }[] = [];
  const node = (d: number, k: string) => `/local/domain/${d}/data/netpeer/${k}`;
  const console = (d: number) => (host.consoled.has(d) ? new TextDecoder().decode(host.consoled.log(d)).slice(-2000) : '(no console)');
  const create = async (role: 'send' | 'recv', i: number): Promise<number> => {
    const be = backend ? `, backend=${backend}` : '';
    const mac = macOf(i, role === 'send' ? 0 : 1);
    const extra = `role=${role} peer=${macOf(i, 1)} sizes=${SIZES.join(',')} runtime=${opts.runtime} ramp=${opts.ramp} window=${opts.window}`;
    const cfg = `name = "netpeer-${seq++}"\nkernel = "${NETPEER}"\nmemory = 32\nvif = [ 'mac=${mac}, bridge=xenbr0${be}' ]\nextra = "${extra}"\n`;
    return (await host.create(parseDomainConfig(cfg, NETPEER).config)).domain.domid;
  };
  try {
    for (let i = 0; i < pairs; i++) {
      const recv = await create('recv', i);
      const send = await create('send', i);
      domids.push({ send, recv });
    }
    const all = domids.flatMap((p) => [p.send, p.recv]);
    const out: Record<string, unknown> = {};
    for (let k = 0; k < SIZES.length; k++) {
      await Promise.all(all.map((d) => host.xs.wait(node(d, `ready-${k}`), (v) => v === '1', { timeout: 120_000 }).catch((e: unknown) => {
        throw new Error(`d${d} did not get ready for phase ${k}: ${(e as Error).message}\n${console(d)}`);
      })));
      // Measured while the guests wait: the same machine, the same moment.
      const limit = sabCopy(SIZES[k]!, opts.runtime * 1000);
      const dropped0 = rxDropped(host, backend, domids);
      await Promise.all(all.map((d) => host.xs.write(node(d, `go-${k}`), '1')));
      // CPU time of every thread over about the guests' measured window (dom0 is this thread).
      const cpu = (async () => {
        await sleep(opts.ramp * 1000);
        const t0 = threadCpuMs();
        await sleep(opts.runtime * 1000);
        return cpuSpent(t0, threadCpuMs());
      })();
      const result = async (d: number) => {
        const r = await host.xs.wait(node(d, `result-${k}`), (v) => v !== undefined, { timeout: 60_000 + (opts.runtime + opts.ramp) * 4000 });
        return JSON.parse(r!) as Result;
      };
      const results = await Promise.all(domids.map((p) => result(p.recv)));
      const sent = await Promise.all(domids.map((p) => result(p.send)));
      const secs = (Math.max(...results.map((r) => r.end_ms)) - Math.min(...results.map((r) => r.start_ms))) / 1000;
      const frames = results.reduce((a, r) => a + r.frames, 0);
      const bytes = results.reduce((a, r) => a + r.bytes, 0);
      const got = { frames_per_s: frames / secs, gbit_per_s: (bytes * 8) / secs / 1e9 };
      // What the senders' netfronts had taken in the same time, each over its own window (the
      // receivers' span is longer when guests start late); rx_dropped (dom0's switch only) is
      // what the receivers' netbacks dropped over the whole phase.
      const sentPerS = sent.reduce((a, r) => a + r.frames / ((r.end_ms - r.start_ms) / 1000), 0);
      const dropped = rxDropped(host, backend, domids);
      const spent = await cpu;
      out[NAMES[k]!] = {
        ...got, sent_frames_per_s: sentPerS, sab_copy: limit, ratio: got.frames_per_s / limit.frames_per_s,
        cpu_us_per_frame: (spent.total * 1000) / (got.frames_per_s * opts.runtime), cpu_ms: spent,
        ...(dropped !== undefined && dropped0 !== undefined && { rx_dropped: dropped - dropped0 }),
      };
    }
    return out;
  } finally {
    for (const p of domids) {
      await host.destroy(p.send).catch(() => {});
      await host.destroy(p.recv).catch(() => {});
    }
  }
}

/** CPU time (ms) used so far by each thread of this process, by its kernel id; empty off Linux. */
function threadCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    const ms = ThreadState.open(Number(tid));
    const t = ms?.cpuMs();
    ms?.close();
    if (t !== undefined) out.set(Number(tid), t);
  }
  return out;
}

/** What the threads used between two readings: dom0's (this thread), the busiest others', the sum. */
function cpuSpent(before: Map<number, number>, after: Map<number, number>): { total: number; dom0: number; busiest: number[] } {
  const used = [...after].map(([tid, t]) => [tid, t - (before.get(tid) ?? t)] as const);
  const others = used.filter(([tid]) => tid !== process.pid).map(([, t]) => t).sort((a, b) => b - a);
  return { total: used.reduce((a, [, t]) => a + t, 0), dom0: used.find(([tid]) => tid === process.pid)?.[1] ?? 0, busiest: others.slice(0, 4) };
}

/** Frames dom0's switch could not give the receivers (their netbacks dropped them), so far; undefined with a driver domain's switch. */
function rxDropped(host: Host, backend: string | undefined, domids: readonly { recv: number }[]): number | undefined {
  if (backend) return undefined;
  return domids.reduce((a, p) => a + (host.switch.findPort(`vif${p.recv}.0`)?.counters.dropsOut ?? 0), 0);
}

/** The median of `repeat` runs by the smallest size's frame rate. */
async function median(once: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  const runs: Record<string, unknown>[] = [];
  for (let i = 0; i < opts.repeat; i++) runs.push(await once());
  runs.sort((a, b) => (a[NAMES[0]!] as Point).frames_per_s - (b[NAMES[0]!] as Point).frames_per_s);
  return runs[(runs.length - 1) >> 1]!;
}

const load0 = loadavg();
const host = await Host.start({ poolSize: 4 });
const dd = opts['driver-domain'] ? await host.create(parseDomainConfig(`name = "net-dd"\nkernel = "${NET_DD}"\nmemory = 64\ndriver_domain = 1\n`, NET_DD).config) : undefined;
const results: Record<string, unknown> = {};
try {
  for (const [mode, backend] of BACKENDS) {
    const byPairs: Record<string, unknown> = {};
    for (const n of PAIRS) byPairs[`pairs_${n}`] = await median(() => run(host, n, backend));
    results[mode] = byPairs;
  }
} finally {
  if (dd) await host.destroy(dd.domain.domid).catch(() => {});
  await host.close();
}
emit({
  bench: 'net-guests', runtime_s: opts.runtime, ramp_s: opts.ramp, window: opts.window, repeat: opts.repeat,
  path: 'guest os.net().write -> netfront -> netback -> switch -> netback -> netfront -> guest listen()',
  loadavg_start: load0.map((l) => Math.round(l * 100) / 100), loadavg_end: loadavg().map((l) => Math.round(l * 100) / 100),
  ...results,
});
