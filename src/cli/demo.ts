// `xenode demo`: a tour in one command. A host in this process boots four guests (hello, the
// kv-store on a disk image, blkbench driving a disk, and the www web server behind a host port
// forward), shows the live top view while they run, fetches a page from www as curl would (and,
// on a terminal, keeps it serving until Enter so that the user can curl it too), prints what each
// did, and removes everything it made.
import { InvalidArgumentError, type Command } from 'commander';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { styleText } from 'node:util';
import { EVTCHN_DUMP_HEADER, type ConsoleSession, type HostEvent, type Toolstack } from '../toolstack/contract.js';
import { say } from './common.js';
import { keepHeapFlagsToDom0 } from './heap-flags.js';
import { top } from './top.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
/** Long enough for the top view to show it at work. */
const BENCH_SECONDS = 4;
/** Each disk image (sparse). */
const DISK_BYTES = 64 * 2 ** 20;
/** Guests that are still running after this are destroyed. */
const DEMO_TIMEOUT_MS = 60_000;

interface Guest {
  readonly name: string;
  readonly cfg: string;
  bootMs?: number;
  output: string;
  restarts: number;
  ended?: string;
  /** www: what fetching its page through the forward gave. */
  served?: string;
}

function guests(dir: string, wwwPort: number): Guest[] {
  const g = (name: string, cfg: string): Guest => ({ name, cfg, output: '', restarts: 0 });
  return [
    g('hello', `name = "hello"\nkernel = "${join(EXAMPLES, 'hello/hello.ts')}"\nextra = "greeting=demo"\n`),
    g('kv-store', `name = "kv-store"\nkernel = "${join(EXAMPLES, 'kv-store/kv.ts')}"\n` +
      `disk = [ 'format=raw, vdev=xvda, access=rw, target=${join(dir, 'kv-store.img')}' ]\non_reboot = "restart"\n`),
    g('blkbench', `name = "blkbench"\nkernel = "${join(EXAMPLES, 'blkbench/blkbench.ts')}"\n` +
      `disk = [ 'format=raw, vdev=xvda, access=rw, target=${join(dir, 'bench.img')}' ]\n` +
      `extra = "rw=randread bs=4096 qd=32 runtime=${BENCH_SECONDS}"\n`),
    g('www', `name = "www"\nkernel = "${join(EXAMPLES, 'www/www.ts')}"\nmemory = 64\nvif = [ 'bridge=xenbr0' ]\n` +
      `forward = [ 'tcp:${wwwPort}:80' ]\nextra = "port=80 url=http://127.0.0.1:${wwwPort}/"\n`),
  ];
}

/** Create a guest paused, attach to its console, then let it run: none of its output is missed. */
async function boot(ts: Toolstack, g: Guest, file: string): Promise<{ domid: number; console: ConsoleSession }> {
  const t0 = performance.now();
  const { domid } = await ts.call('create', { file, paused: true });
  const console = await ts.console(domid, { onOutput: (d) => void (g.output += Buffer.from(d).toString()), onEnd() {} });
  await ts.call('unpause', { domain: domid });
  g.bootMs = performance.now() - t0;
  return { domid, console };
}

function summary(g: Guest): string {
  const bench = /^\{"guest":"blkbench".*\}$/m.exec(g.output);
  const r = bench ? (JSON.parse(bench[0]) as { iops: number; mbps: number; p99_us: number }) : undefined;
  const did = r ? `${Math.round(r.iops).toLocaleString('en')} IOPS, ${r.mbps} MB/s, p99 ${r.p99_us} µs (4 KiB random reads, queue depth 32, on a raw image file)`
    : g.name === 'kv-store' ? (/survived the restart/.test(g.output) ? 'wrote a key, rebooted, found it on its disk' : 'did not finish its round trip')
      : g.name === 'www' ? (g.served ?? 'served nothing')
      : (g.output.split('\n').find((l) => l.trim()) ?? '');
  const restarts = g.restarts ? `, restarted ${g.restarts}x` : '';
  const name = process.stdout.isTTY ? styleText('bold', g.name.padEnd(9)) : g.name.padEnd(9);
  return `  ${name} booted in ${g.bootMs?.toFixed(0) ?? '?'} ms${restarts}; ${g.ended ?? 'still running'}; ${did}`;
}

/**
 * The port www is forwarded from: `want` if given (0: any free one), else 8080 as the README says
 * if it is free on 127.0.0.1 now, otherwise any free port (the demo must not collide with what the
 * user runs).
 */
async function freePort(want?: number): Promise<number> {
  const tryPort = async (want: number): Promise<number | undefined> => {
    const s = createServer();
    const ok = await new Promise<boolean>((resolve) => s.once('error', () => resolve(false)).listen(want, '127.0.0.1', () => resolve(true)));
    if (!ok) return undefined;
    const { port } = s.address() as { port: number };
    await new Promise((resolve) => s.close(resolve));
    return port;
  };
  if (want !== undefined) return want === 0 ? (await tryPort(0))! : want;
  return (await tryPort(8080)) ?? (await tryPort(0))!;
}

/** On a terminal: let the user curl www, until Enter or Ctrl-C. */
async function letUserCurl(url: string): Promise<void> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return;
  say(`\nwww is serving ${url} from its own TCP/IP stack: try \`curl ${url}\` or \`curl ${url}api/status\` in another terminal.`);
  say('Press Enter (or Ctrl-C) to stop it and finish the demo.');
  const rl = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => {
    rl.once('line', () => resolve());
    rl.once('SIGINT', () => resolve());
    rl.once('close', () => resolve());
  });
  rl.close();
}

/**
 * A guest that did not get on (www not serving, a guest still running at the timeout): the
 * hypervisor's dump of every event channel and of dom0 blkback's rings (`xenode debug-keys e`),
 * so that an event lost between a guest and dom0 says which side holds it.
 */
async function dumpEvtchns(ts: Toolstack, why: string): Promise<void> {
  try {
    await ts.call('debugKeys', { keys: 'e' });
    const dump = (await ts.call('dmesg', {})).findLast((e) => e.type === 'message' && e.text.startsWith(EVTCHN_DUMP_HEADER));
    say(dump?.type === 'message' ? `\n${why}: the event channels (xenode debug-keys e):\n${dump.text}` : `\n${why}; the event-channel dump is not in the host log`);
  } catch (e) {
    say(`\n${why}; no event-channel dump: ${(e as Error).message}`);
  }
}

/** Fetch www's page through its host forward as curl would, then ask it to power off. */
async function visitWww(ts: Toolstack, g: Guest, domid: number, port: number): Promise<void> {
  const until = performance.now() + 20_000;
  while (!g.output.includes('serving ') && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (!g.output.includes('serving ')) await dumpEvtchns(ts, 'www is not serving after 20 s');
  const url = `http://127.0.0.1:${port}/`;
  try {
    const t0 = performance.now();
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    const ms = performance.now() - t0;
    const address = /listening on ([0-9.]+):/.exec(g.output)?.[1] ?? 'the guest';
    g.served = `GET ${url} -> ${res.status}, ${body.length} bytes in ${ms.toFixed(1)} ms (dom0's gateway forwarded it to ${address}:80)`;
  } catch (e) {
    g.served = `GET ${url} failed: ${(e as Error).message}`;
  }
  await letUserCurl(url);
  await ts.call('shutdown', { domain: domid }).catch(() => {});
}

export async function demo(opts: { port?: number } = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-demo-'));
  keepHeapFlagsToDom0();
  const { startLocalHost } = await import('../toolstack/local.js');
  const local = await startLocalHost({ stateDir: join(dir, 'state'), poolSize: 2 });
  try {
    const ts = local.api;
    const wwwPort = await freePort(opts.port);
    const list = guests(dir, wwwPort);
    for (const img of ['kv-store.img', 'bench.img']) {
      await writeFile(join(dir, img), '');
      await truncate(join(dir, img), DISK_BYTES);
    }
    say(`xenode demo: an in-process host boots ${list.map((g) => g.name).join(', ')} (disks in ${dir})`);
    const byDomid = new Map<number, Guest>();
    let left = list.length;
    let allDone!: () => void;
    const done = new Promise<void>((resolve) => (allDone = resolve));
    const restarting = new Set<number>();
    const sub = await ts.events((e: HostEvent) => {
      if (!('domid' in e)) return;
      const g = byDomid.get(e.type === 'restarted' ? e.from : e.domid);
      if (!g) return;
      if (e.type === 'shutdown') {
        g.ended = e.reason === 'poweroff' ? 'powered off' : `shut down (${e.reason})`;
        if (e.taken === 'restart') restarting.add(e.domid);
      } else if (e.type === 'restarted') {
        g.restarts++;
        byDomid.set(e.domid, g);
        // The restarted domain's console, from its first byte.
        void ts.console(e.domid, { onOutput: (d) => void (g.output += Buffer.from(d).toString()), onEnd() {} }, { replay: true });
      } else if (e.type === 'destroyed' && !restarting.delete(e.domid) && --left === 0) {
        allDone();
      }
    });
    const consoles: ConsoleSession[] = [];
    for (const g of list) {
      const file = join(dir, `${g.name}.cfg`);
      await writeFile(file, g.cfg);
      const { domid, console } = await boot(ts, g, file);
      byDomid.set(domid, g);
      consoles.push(console);
    }
    await top(ts, { delay: 1, iterations: BENCH_SECONDS, batch: !process.stdout.isTTY });
    const www = [...byDomid].find(([, g]) => g.name === 'www');
    if (www) await visitWww(ts, www[1], www[0], wwwPort);
    const timer = setTimeout(() => {
      const running = list.filter((g) => !g.ended).map((g) => g.name);
      void dumpEvtchns(ts, `still running after ${DEMO_TIMEOUT_MS / 1000} s: ${running.join(', ')}`).finally(allDone);
    }, DEMO_TIMEOUT_MS);
    await done;
    clearTimeout(timer);
    sub.close();
    for (const c of consoles) c.close();
    process.stdout.write(`\n${list.length} guests:\n${list.map((g) => `${summary(g)}\n`).join('')}`);
  } finally {
    await local.close();
    await rm(dir, { recursive: true, force: true });
  }
  say(`Cleaned up ${dir}.`);
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('boot hello, kv-store, blkbench and the www web server in an in-process host, show them in the top view, fetch a page from www, summarize, clean up')
    .option('--port <port>', "the host port www is forwarded from (0: any free one; default 8080 when free)", (v: string) => {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError('a port number 0..65535');
      return n;
    })
    .action(async (o: { port?: number }) => {
      await demo(o);
    });
}
