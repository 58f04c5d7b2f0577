// Summoning through a host forward (issue 17 item 5, Jitsu's idea with a TCP port): curl's
// time to the first byte of a page from a guest that is not running when curl connects (the
// connection boots it from a Pool-0 shell, is held until its web server listens, then joined
// to it), next to the same page from the same guest once it runs, in the same run: the
// difference is what summoning costs. Each sample: curl the summoning forward with nothing
// running, curl it again, destroy the guest, wait --gap ms (the shells refill).
//
// Twice: from shells whose vif is connected while they wait (`xenode host --shell-vifs`), then
// from plain shells (the vif attached by the create), each on a host of its own.
//
// The guest is examples/www (run as a kernel, not imported) with a static ip=. The breakdown,
// from dom0's clock, each from the create's start (a few microtasks after the forward's accept):
// built (the shell claimed, its kernel handed over: the forward starts trying the guest's port),
// the create (until Host.create returns: main() heard, the VM record written), main() heard, the
// guest says it listens, the connection joined to the guest; then the join to curl's first byte
// (curl's first byte less its connect, less the join), and the guest's own work from main()
// until it says it listens (bringing up its vif and stack);
// `summon_overhead_ms` is the first byte less that own work, what the issue's 10 ms is about.
//
// curl is run by a shell started before the host, not forked from this process for each request:
// a fork write-protects every private page this process has (dom0's heap, every guest's memory
// and heap) for the copy, so every thread of the host takes a page fault at its first write to
// each page afterwards, while the summon runs (6-9 ms more to the first byte, measured; the host
// daemon forks nothing per connection, and a user's curl is a process of its own).
//
//   npm run bench -- summon [--samples=10] [--gap=300] [--shells=2]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseForwardSpec } from '../src/network/gateway/forwardspec.js';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { Host } from '../src/toolstack/host.js';
import { emit, numberOptions, summarize } from './support/harness.js';

const opts = numberOptions({ samples: 10, gap: 300, shells: 2, port: 18_080 });
const CURL = '/usr/bin/curl';
const WWW = fileURLToPath(new URL('../../examples/www/www.ts', import.meta.url));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Times {
  connect: number;
  firstByte: number;
}

/**
 * curl's own clock for one URL: TCP connected, and the first byte of the answer
 * (time_starttransfer), in ms. Each request is a fresh curl process, started by the shell.
 */
type Curl = (url: string) => Promise<Times>;

/** A shell that runs curl for each URL written to it, one at a time (started before the host). */
function curlShell(): { curl: Curl; close(): void } {
  const sh = spawn('/bin/sh', ['-c', `while IFS= read -r url; do ${CURL} -sS -o /dev/null --max-time 30 -w '%{http_code} %{time_connect} %{time_starttransfer}\\n' "$url"; done`],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  // curl writes its line (HTTP code 000 when it failed) whatever happened.
  const waiting: ((line: string | undefined) => void)[] = [];
  createInterface({ input: sh.stdout }).on('line', (line) => waiting.shift()?.(line));
  sh.on('exit', () => waiting.splice(0).forEach((w) => w(undefined)));
  const curl: Curl = (url) => new Promise<Times>((resolve, reject) => {
    waiting.push((line) => {
      const [code, connect, start] = (line ?? 'exited').trim().split(' ');
      if (code !== '200') reject(new Error(`curl ${url}: ${code === 'exited' ? 'the shell running curl exited' : `HTTP ${code}`}`));
      else resolve({ connect: Number(connect) * 1000, firstByte: Number(start) * 1000 });
    });
    sh.stdin.write(`${url}\n`);
  });
  return { curl, close: () => sh.stdin.end() };
}

function stats(xs: number[]): { p50: number; p99: number; min: number } {
  const s = summarize(xs);
  return { p50: s.median, p99: s.p99, min: Math.min(...xs) };
}

/** One host, one summoning forward; `vifs`: its shells have their vif connected while they wait. */
async function measure(curl: Curl, vifs: boolean, port: number) {
  const host = await Host.start({ shells: { count: vifs ? 0 : opts.shells, memory: 64, vifs: vifs ? opts.shells : 0 } });
  try {
    const config = parseDomainConfig(`name = "www"\nkernel = "${WWW}"\nmemory = 64\nvif = [ 'bridge=xenbr0,ip=10.0.2.40' ]\nextra = "port=80"\n`, WWW).config;
    const fwd = await host.summonedForwards.add(config, parseForwardSpec(`tcp:${port}:80`));
    const url = `http://127.0.0.1:${fwd.hostPort}/hello`;
    await sleep(1000);
    // One summon and a few requests first: the kernel is linked and cached, the gateway's paths warm.
    await curl(url);
    for (let i = 0; i < 5; i++) await curl(url);
    await host.destroy(host.domains().find((d) => d.name === 'www')!.domid);
    const summoned: Times[] = [];
    const running: Times[] = [];
    const parts = { built: [] as number[], create: [] as number[], main: [] as number[], listening: [] as number[], joined: [] as number[],
      answer: [] as number[], own: [] as number[], overhead: [] as number[] };
    let mark: { built?: number; created?: number; main?: number; listening?: number; joined?: number } = {};
    const create = host.create.bind(host);
    host.create = async (config, hooks = {}) => {
      // The create starts a few microtasks after the forward's accept: its clock's zero.
      const t0 = performance.now();
      mark = {};
      void hooks.refillAfter?.then(() => (mark.joined = performance.now() - t0));
      const built = await create(config, { ...hooks, built: () => {
        mark.built = performance.now() - t0;
        hooks.built?.();
      } });
      mark.created = performance.now() - t0;
      void built.vcpu.mainCalled.then(() => (mark.main = performance.now() - t0));
      const said = (domid: number, data: Uint8Array) => {
        if (domid !== built.domain.domid || !Buffer.from(data).includes('listening')) return;
        mark.listening = performance.now() - t0;
        host.consoled.off('output', said);
      };
      host.consoled.on('output', said);
      return built;
    };
    for (let i = 0; i < opts.samples; i++) {
      await sleep(opts.gap);
      const t = await curl(url);
      summoned.push(t);
      if (mark.main !== undefined && mark.listening !== undefined && mark.joined !== undefined) {
        parts.built.push(mark.built!);
        parts.create.push(mark.created!);
        parts.main.push(mark.main);
        parts.listening.push(mark.listening);
        parts.joined.push(mark.joined);
        // curl's connect is the accept, near enough: what follows the join on curl's clock.
        parts.answer.push(t.firstByte - t.connect - mark.joined);
        parts.own.push(mark.listening - mark.main);
        parts.overhead.push(t.firstByte - (mark.listening - mark.main));
      }
      running.push(await curl(url));
      await host.destroy(host.domains().find((d) => d.name === 'www')!.domid);
    }
    const first = stats(summoned.map((t) => t.firstByte));
    const again = stats(running.map((t) => t.firstByte));
    return {
      boots: host.summonedForwards.list()[0]!.boots,
      summoned_first_byte_ms: first,
      summoned_connect_ms: stats(summoned.map((t) => t.connect)),
      running_first_byte_ms: again,
      breakdown_ms: {
        built: stats(parts.built), create: stats(parts.create), main: stats(parts.main), listening: stats(parts.listening),
        joined: stats(parts.joined), joined_to_first_byte: stats(parts.answer), guest_main_to_listening: stats(parts.own),
      },
      summon_overhead_ms: stats(parts.overhead),
      summon_cost_p50_ms: first.p50 - again.p50,
      summoned_over_running_p50: first.p50 / again.p50,
    };
  } finally {
    await host.close();
  }
}

if (!existsSync(CURL)) throw new Error(`${CURL} is not installed (apt-get install curl)`);
const load = [loadavg()[0]!];
// Shells whose vif is connected while they wait (what summoning is for), then plain shells, which
// attach the vif at the create: the same run's reference.
const client = curlShell();
let vifShells: Awaited<ReturnType<typeof measure>>;
let plainShells: typeof vifShells;
try {
  vifShells = await measure(client.curl, true, opts.port);
  plainShells = await measure(client.curl, false, opts.port + 1);
} finally {
  client.close();
}
load.push(loadavg()[0]!);
emit({
  bench: 'summon',
  samples: opts.samples,
  shells: opts.shells,
  vif_shells: vifShells,
  plain_shells: plainShells,
  first_byte_p50_vif_over_plain: vifShells.summoned_first_byte_ms.p50 / plainShells.summoned_first_byte_ms.p50,
  loadavg: load,
  targets: { summoned_first_byte_p50_ms: 10 },
});
