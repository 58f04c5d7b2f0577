// HTTP requests per second and p99 latency of the www unikernel (examples/www, run as a guest
// of an in-process host) through dom0's gateway and a host port forward, measured by wrk at 30
// connections; next to Node's own `http` server on the host serving the same response bytes,
// measured the same way in the same run.
//
//   npm run bench -- www [--seconds=10] [--connections=30] [--rounds=1]
//
// Needs wrk (Debian's wrk package). The last line is JSON.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startLocalHost } from '../src/toolstack/local.js';
import { emit, numberOptions } from './support/harness.js';
import { HELLO_BODY, nodeHelloServer } from './support/http-load.js';

const opts = numberOptions({ seconds: 10, connections: 30, rounds: 1 });
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

async function wrk(url: string): Promise<WrkResult> {
  const { stdout } = await run(WRK, ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--latency', url], { timeout: (opts.seconds + 30) * 1000 });
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

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
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
    const text = `name = "www"\nkernel = "${WWW}"\nmemory = 64\nvif = [ 'bridge=xenbr0' ]\nforward = [ 'tcp:${port}:80' ]\nextra = "port=80"\n`;
    await local.api.call('create', { file: join(dir, 'www.cfg'), text });
    const url = `http://127.0.0.1:${port}/hello`;
    // Until the guest has its lease and answers through the forward.
    for (let i = 0; ; i++) {
      const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => '');
      if (ok === HELLO_BODY) break;
      if (i > 300) throw new Error('www never answered through its forward');
      await new Promise((r) => setTimeout(r, 100));
    }
    const rounds: { www: WrkResult; node: WrkResult }[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      // Alternate which goes first, so neither always gets the cooler machine.
      const a = r % 2 === 0 ? await wrk(url) : undefined;
      const n = await wrk(node.url);
      rounds.push({ www: a ?? (await wrk(url)), node: n });
    }
    const best = (k: 'www' | 'node') => rounds.map((x) => x[k]).sort((x, y) => y.rps - x.rps)[0]!;
    const www = best('www');
    const peer = best('node');
    emit({
      bench: 'www', connections: opts.connections, seconds: opts.seconds, rounds: opts.rounds,
      www_through_forward: www, node_http_loopback: peer,
      rps_ratio: www.rps / peer.rps, p99_ratio: www.p99_ms / peer.p99_ms,
    });
  } finally {
    node.close();
    await local.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
