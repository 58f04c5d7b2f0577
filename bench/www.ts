// HTTP requests per second and p99 latency of the www unikernel (examples/www, run as a guest
// of an in-process host) through dom0's gateway and a host port forward, measured by wrk at 30
// connections; next to Node's own `http` server on the host serving the same response bytes,
// measured the same way in the same run.
//
//   npm run bench -- www [--seconds=10] [--connections=30] [--rounds=1] [--warmup=2] [--weight=256]
//
// A first wrk run of `--warmup` seconds on each server (their JIT, and the forward's 30
// connections to the guest) is reported apart as `warmup`, to tell a cold start from the
// steady state. `--weight`: the guest's cpu_weight (256, xl's default, runs its vCPU thread at nice 10;
// about 2400 and up at nice 0, dom0's and wrk's), to test how much of the tail is the guest's
// thread waiting for a core. Next to the figures, what explains a latency tail, from the www
// runs: dom0's event-loop delay and GC pauses, and TCP retransmissions of the gateway's and the
// guest's stacks (a tail from lost segments shows there, one from scheduling does not).
//
// Needs wrk (Debian's wrk package). The last line is JSON.
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startLocalHost } from '../src/toolstack/local.js';
import { emit, numberOptions } from './support/harness.js';
import { freePort } from './support/ports.js';
import { HELLO_BODY, nodeHelloServer } from './support/http-load.js';

const opts = numberOptions({ seconds: 10, connections: 30, rounds: 1, warmup: 2, weight: 256 });
const WRK = '/usr/bin/wrk';
/** The guest program, run as a kernel (not imported). */
const WWW = fileURLToPath(new URL('../../examples/www/www.ts', import.meta.url));
const run = promisify(execFile);

interface WrkResult {
  readonly rps: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly errors: number;
}

function ms(v: string, unit: string): number {
  return Number(v) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);
}

async function wrk(url: string, seconds = opts.seconds): Promise<WrkResult> {
  const { stdout } = await run(WRK, ['-t1', `-c${opts.connections}`, `-d${Math.round(seconds)}s`, '--latency', url], { timeout: (seconds + 30) * 1000 });
  const lat = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([0-9.]+)(us|ms|s)\\b`, 'm').exec(stdout);
    return m ? ms(m[1]!, m[2]!) : NaN;
  };
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: Number(/Requests\/sec:\s+([0-9.]+)/.exec(stdout)?.[1] ?? NaN),
    p50_ms: lat('50'), p99_ms: lat('99'),
    errors: Number(errors?.[1] ?? 0) + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
  };
}

/** What dom0's thread went through while `run` ran: event-loop delay and GC pauses, in ms. */
async function watchDom0<T>(run: () => Promise<T>): Promise<{ result: T; dom0: { loop_delay_p99_ms: number; loop_delay_max_ms: number; gc_pauses: number; gc_max_ms: number; gc_total_ms: number } }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const gc = { n: 0, max: 0, total: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.n++;
      gc.total += e.duration;
      gc.max = Math.max(gc.max, e.duration);
    }
  });
  delay.enable();
  obs.observe({ entryTypes: ['gc'] });
  try {
    const result = await run();
    return {
      result,
      dom0: { loop_delay_p99_ms: delay.percentile(99) / 1e6, loop_delay_max_ms: delay.max / 1e6, gc_pauses: gc.n, gc_max_ms: gc.max, gc_total_ms: gc.total },
    };
  } finally {
    obs.disconnect();
    delay.disable();
  }
}

async function main(): Promise<void> {
  if (!existsSync(WRK)) {
    console.error(`${WRK} is not installed (apt-get install wrk)`);
    process.exit(2);
  }
  const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-www-'));
  const local = await startLocalHost({ stateDir: join(dir, 'state'), poolSize: 1 });
  const server = await nodeHelloServer();
  const node = { url: `http://127.0.0.1:${server.port}/hello`, close: () => server.close() };
  try {
    const port = await freePort();
    const weight = opts.weight === 256 ? '' : `cpu_weight = ${Math.round(opts.weight)}\n`;
    const text = `name = "www"\nkernel = "${WWW}"\nmemory = 64\n${weight}vif = [ 'bridge=xenbr0' ]\nforward = [ 'tcp:${port}:80' ]\nextra = "port=80"\n`;
    await local.api.call('create', { file: join(dir, 'www.cfg'), text });
    const url = `http://127.0.0.1:${port}/hello`;
    // Until the guest has its lease and answers through the forward.
    for (let i = 0; ; i++) {
      const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => '');
      if (ok === HELLO_BODY) break;
      if (i > 300) throw new Error('www never answered through its forward');
      await new Promise((r) => setTimeout(r, 100));
    }
    const tcp = local.host.gateway('xenbr0').main.stack.tcpLayer.counters;
    const gatewayRtx = { retransmits: tcp.retransmits, timeouts: tcp.timeouts };
    const status = async () => ((await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as { tcp: { retransmits: number; timeouts: number } }).tcp;
    const guestRtx = await status();
    const warmup = { www: await wrk(url, opts.warmup), node: await wrk(node.url, opts.warmup) };
    const rounds: { www: WrkResult & { dom0: object }; node: WrkResult }[] = [];
    const wwwRun = async () => {
      const { result, dom0 } = await watchDom0(() => wrk(url));
      return { ...result, dom0 };
    };
    for (let r = 0; r < opts.rounds; r++) {
      // Alternate which goes first, so neither always gets the cooler machine.
      const a = r % 2 === 0 ? await wwwRun() : undefined;
      const n = await wrk(node.url);
      rounds.push({ www: a ?? (await wwwRun()), node: n });
    }
    const best = <K extends 'www' | 'node'>(k: K) => rounds.map((x) => x[k]).sort((x, y) => y.rps - x.rps)[0]!;
    const www = best('www');
    const peer = best('node');
    // Counted over the warm-up and every round; a connection joins the totals when it closes (wrk closes them at the end of each run).
    const guestAfter = await status();
    emit({
      bench: 'www', connections: opts.connections, seconds: opts.seconds, rounds: opts.rounds, weight: opts.weight, load: loadavg()[0],
      www_through_forward: www, node_http_loopback: peer, warmup,
      rps_ratio: www.rps / peer.rps, p99_ratio: www.p99_ms / peer.p99_ms,
      tcp_retransmits: {
        gateway: { retransmits: tcp.retransmits - gatewayRtx.retransmits, timeouts: tcp.timeouts - gatewayRtx.timeouts },
        guest: { retransmits: guestAfter.retransmits - guestRtx.retransmits, timeouts: guestAfter.timeouts - guestRtx.timeouts },
      },
    });
  } finally {
    node.close();
    await local.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
