// Latency between two guests with both ends in one shared cpupool, next to both in Pool-0 in the
// same run (bench/evtchn.ts and bench/xenstore.ts with --pool=1): real guests (bench/guests/
// pingpong.ts) on a Host, ping-ponging over an interdomain event channel, over xenstore (a write
// and a watch event each way) or reading their own node. The placements take turns, `blocks`
// times, so drift in the machine's load hits them alike; the median block is kept per placement.
import { fileURLToPath } from 'node:url';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import type { Host } from '../../src/toolstack/host.js';
import { emit } from './harness.js';

const KERNEL = fileURLToPath(new URL('../../../bench/guests/pingpong.ts', import.meta.url));
const SHARED = '/local/pingpong';

export type Via = 'evtchn' | 'xenstore' | 'read';
export interface Trips { median: number; p99: number; mean: number; perSec: number; rounds: number }

let seq = 0;
async function guest(host: Host, role: 'ping' | 'pong', via: Via, rounds: number, pool: string | undefined): Promise<number> {
  const cfg = `name = "pp-${role}-${seq++}"\nkernel = "${KERNEL}"\nmemory = 16\n${pool ? `pool = "${pool}"\n` : ''}` +
    `extra = "role=${role} via=${via} rounds=${rounds} warmup=${Math.ceil(rounds / 4)}"\n`;
  return (await host.create(parseDomainConfig(cfg, KERNEL).config)).domain.domid;
}

/** One ping-pong of `rounds` round trips (after a warm-up), both ends in `pool` (Pool-0 if none). */
export async function pingPong(host: Host, via: Via, rounds: number, pool?: string): Promise<Trips> {
  const xs = host.xs;
  const data = (d: number, k: string) => `/local/domain/${d}/data/pp/${k}`;
  const until = (path: string) => xs.wait(path, (v) => v !== undefined, { timeout: 60_000 });
  const ping = await guest(host, 'ping', via, rounds, pool);
  const pong = via === 'read' ? undefined : await guest(host, 'pong', via, rounds, pool);
  try {
    if (pong !== undefined) {
      await xs.write(data(ping, 'peer'), String(pong));
      await xs.write(data(pong, 'peer'), String(ping));
    }
    if (via === 'evtchn') await xs.write(data(pong!, 'peer-port'), (await until(data(ping, 'port')))!);
    if (via === 'xenstore') {
      // Each end owns its node and may read the other's.
      await xs.rm(SHARED).catch(() => {});
      for (const [owner, reader, name] of [[ping, pong!, 'ping'], [pong!, ping, 'pong']] as const) {
        await xs.write(`${SHARED}/${name}`, '');
        await xs.setPerms(`${SHARED}/${name}`, [{ domid: owner, perm: 'n' }, { domid: reader, perm: 'r' }]);
      }
    }
    if (pong !== undefined) await until(data(pong, 'ready'));
    else await until(data(ping, 'x'));
    await xs.write(data(ping, 'go'), '1');
    const result = await xs.wait(data(ping, 'result'), (v) => v !== undefined, { timeout: 120_000 });
    return JSON.parse(result!) as Trips;
  } finally {
    await host.destroy(ping).catch(() => {});
    if (pong !== undefined) await host.destroy(pong).catch(() => {});
  }
}

/**
 * Both placements, `blocks` times in turn: per placement the block with the median median, and
 * the shared pool's figures over Pool-0's (a ratio under 1: faster in the pool).
 */
export async function pingPongBoth(host: Host, via: Via, rounds: number, blocks: number, pool: string): Promise<{
  shared: Trips; pool0: Trips; ratio: { median: number; p99: number };
}> {
  const runs: { shared: Trips[]; pool0: Trips[] } = { shared: [], pool0: [] };
  await pingPong(host, via, Math.min(rounds, 200), pool); // the realm's kernel image and JIT
  await pingPong(host, via, Math.min(rounds, 200));
  for (let b = 0; b < blocks; b++) {
    runs.shared.push(await pingPong(host, via, rounds, pool));
    runs.pool0.push(await pingPong(host, via, rounds));
  }
  const mid = (t: Trips[]) => [...t].sort((a, b) => a.median - b.median)[(t.length - 1) >> 1]!;
  const shared = mid(runs.shared);
  const pool0 = mid(runs.pool0);
  return { shared, pool0, ratio: { median: shared.median / pool0.median, p99: shared.p99 / pool0.p99 } };
}

/** The --pool=1 run of a latency bench: a Host, a shared pool of 1 pCPU, each `via` in turn; prints the JSON line. */
export async function poolLatencyBench(bench: string, vias: readonly Via[], rounds: number, blocks: number): Promise<void> {
  const { Host } = await import('../../src/toolstack/host.js');
  const host = await Host.start({ poolSize: 2 });
  try {
    await host.createCpupool('pp', 1);
    const out: Record<string, unknown> = {};
    for (const via of vias) {
      const r = await pingPongBoth(host, via, rounds, blocks, 'pp');
      console.log(`${via.padEnd(9)} shared pool median ${r.shared.median.toFixed(1)} us p99 ${r.shared.p99.toFixed(1)} us; ` +
        `Pool-0 median ${r.pool0.median.toFixed(1)} us p99 ${r.pool0.p99.toFixed(1)} us (${r.ratio.median.toFixed(2)}x)`);
      out[via] = r;
    }
    emit({ bench: `${bench}-cpupool`, unit: 'us per round trip', placement: 'both ends in one shared cpupool of 1 pCPU, next to both in Pool-0', rounds, blocks, ...out });
  } finally {
    await host.close();
  }
}
