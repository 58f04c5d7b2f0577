// The CLI's start-up (issue 17 item 3): `xenode list` against a host daemon with --guests idle
// guests (in a shared cpupool, so that 1,000 fit), paired with a bare `node -e 0` in the same
// loop: each round runs both, in alternating order, so the machine's noise falls on both alike.
// Prints the medians, their ratio and their difference (the goal: at most +20 ms), the
// list call alone from a running process (the host's share of that difference: listColumns, which
// `xenode list` calls; and list, the whole rows of `--json` and `top`), and each
// command's CPU time per run (steadier than wall time on a busy machine).
//
//   npm run bench -- cli [--guests=100] [--rounds=20] [--cpus=2]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteToolstack } from '../src/toolstack/client.js';
import { spawnHost } from './support/host.js';
import { emit, numberOptions, summarize } from './support/harness.js';

const opts = numberOptions({ guests: 100, rounds: 20, cpus: 2 });
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const XENODE = join(ROOT, 'bin/xenode.cjs');
const KERNEL = join(ROOT, 'bench/guests/idle.ts');
const dir = mkdtempSync(join(tmpdir(), 'xenode-bench-cli-'));
const stateDir = join(dir, 'state');

/**
 * CPU time (user + system, ms) of the children this process has waited for: /proc/self/stat's
 * cutime and cstime, in clock ticks of 10 ms, summed over many runs. Unlike wall time it hardly
 * depends on how busy the machine is.
 */
function childCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}

const cpuMs = { bare: 0, list: 0 };

/** Wall time of one process run to its exit, ms (its CPU time goes to cpuMs[kind]); a failed run voids the benchmark. */
function wall(kind: keyof typeof cpuMs, args: string[]): number {
  const cpu0 = childCpuMs();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  cpuMs[kind] += childCpuMs() - cpu0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const host = await spawnHost(XENODE, stateDir, ['--shutdown-timeout', '0']);
try {
  const ts = await RemoteToolstack.connect(stateDir);
  await ts.call('cpupoolCreate', { name: 'dense', cpus: opts.cpus });
  const t0 = performance.now();
  for (let i = 0; i < opts.guests; i++) {
    await ts.call('create', { file: join(dir, `g${i}.cfg`), text: `name = "g${i}"\nkernel = "${KERNEL}"\nmemory = 16\npool = "dense"\n` });
  }
  const bootS = (performance.now() - t0) / 1000;
  const rows = (await ts.call('list', {})).length;
  const list = [XENODE, 'list', '--state-dir', stateDir];
  const bare = ['-e', '0'];
  // Warm the page cache and the host's paths once.
  wall('bare', bare);
  wall('list', list);
  cpuMs.bare = 0;
  cpuMs.list = 0;
  const nodeMs: number[] = [];
  const listMs: number[] = [];
  const deltas: number[] = [];
  const apiMs: number[] = [];
  const apiFullMs: number[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    let a: number;
    let b: number;
    if (r % 2 === 0) {
      a = wall('bare', bare);
      b = wall('list', list);
    } else {
      b = wall('list', list);
      a = wall('bare', bare);
    }
    nodeMs.push(a);
    listMs.push(b);
    deltas.push(b - a);
    // The host's share: the same call from a process that is already running.
    const t1 = performance.now();
    await ts.call('listColumns', {});
    const t2 = performance.now();
    await ts.call('list', {});
    apiMs.push(t2 - t1);
    apiFullMs.push(performance.now() - t2);
  }
  ts.close();
  const n = summarize(nodeMs);
  const l = summarize(listMs);
  const d = summarize(deltas);
  const api = summarize(apiMs);
  const apiFull = summarize(apiFullMs);
  process.stderr.write(`${opts.guests} guests (booted in ${bootS.toFixed(1)} s), ${opts.rounds} paired rounds: node -e 0 ${n.median.toFixed(1)} ms, `
    + `xenode list ${l.median.toFixed(1)} ms: ${(l.median / n.median).toFixed(2)}x, +${d.median.toFixed(1)} ms (median of paired differences); `
    + `the list call alone ${api.median.toFixed(1)} ms (listColumns; list's whole rows ${apiFull.median.toFixed(1)} ms); CPU per run ${(cpuMs.bare / opts.rounds).toFixed(1)} / ${(cpuMs.list / opts.rounds).toFixed(1)} ms\n`);
  emit({
    bench: 'cli', guests: opts.guests, rows, rounds: opts.rounds, node: process.version,
    nodeBareMs: { median: n.median, p99: n.p99 }, listMs: { median: l.median, p99: l.p99 },
    ratio: l.median / n.median, pairedDeltaMs: { median: d.median, p99: d.p99 }, goalDeltaMs: 20,
    apiListMs: { median: api.median, p99: api.p99 }, apiListFullMs: { median: apiFull.median, p99: apiFull.p99 },
    cpuMsPerRun: { nodeBare: cpuMs.bare / opts.rounds, list: cpuMs.list / opts.rounds, ratio: cpuMs.list / cpuMs.bare },
  });
} finally {
  await host.stop();
  rmSync(dir, { recursive: true, force: true });
}
