// HTTP requests per second and p99 latency guest to guest: a load-generator guest
// (bench/guests/httpload.ts, a wrk-like keep-alive client over its own TCP/IP stack) against the
// www unikernel (examples/www) on one bridge, each a domain with its own vCPU thread; next to
// Node's own `http` server on loopback driven by the same client code over node:net from a
// worker thread (one thread each, as the guests have; the worker loads none of the host's
// modules, bench/support/http-load-worker.ts), measured in the same run.
//
//   npm run bench -- www-guests [--seconds=10] [--connections=30] [--ramp=1]
//
// The last line is JSON.
import { loadavg } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { formatIpv4 } from '../src/tcpip/addr.js';
import { startLocalHost } from '../src/toolstack/local.js';
import { emit, numberOptions } from './support/harness.js';
import { nodeHelloServer, type LoadOptions, type LoadResult } from './support/http-load.js';
import type { HttpLoadJob } from './support/http-load-worker.js';

/** The guest programs, run as kernels (not imported). */
const WWW = fileURLToPath(new URL('../../examples/www/www.ts', import.meta.url));
const LOAD = fileURLToPath(new URL('../../bench/guests/httpload.ts', import.meta.url));
const WWW_MAC = '00:16:3e:77:77:01';
/** The Node client, in a worker of its own light module. */
const NODE_CLIENT = fileURLToPath(new URL('./support/http-load-worker.js', import.meta.url));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const opts = numberOptions({ seconds: 10, connections: 30, ramp: 1 });
  const load0 = loadavg();
  const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-www-guests-'));
  const local = await startLocalHost({ stateDir: join(dir, 'state'), poolSize: 2 });
  try {
    const host = local.host;
    const www = await local.api.call('create', {
      file: join(dir, 'www.cfg'),
      text: `name = "www"\nkernel = "${WWW}"\nmemory = 64\nvif = [ 'mac=${WWW_MAC},bridge=xenbr0' ]\nextra = "port=80"\n`,
    });
    const gw = host.gateway('xenbr0');
    const deadline = Date.now() + 60_000;
    let ip: number | undefined;
    while ((ip = gw.leaseFor(WWW_MAC)) === undefined) {
      if (Date.now() > deadline) throw new Error('www got no DHCP lease');
      await sleep(50);
    }
    const extra = `target=${formatIpv4(ip)}:80 connections=${opts.connections} path=/hello ramp=${opts.ramp} runtime=${opts.seconds}`;
    const gen = await local.api.call('create', {
      file: join(dir, 'httpload.cfg'),
      text: `name = "httpload"\nkernel = "${LOAD}"\nmemory = 64\nvif = [ 'bridge=xenbr0' ]\nextra = "${extra}"\n`,
    });
    const node = (k: string) => `/local/domain/${gen.domid}/data/httpload/${k}`;
    await host.xs.wait(node('ready'), (v) => v !== undefined, { timeout: 60_000 });
    await host.xs.write(node('go'), '1');
    const guests = JSON.parse((await host.xs.wait(node('result'), (v) => v !== undefined, { timeout: (opts.seconds + opts.ramp) * 4000 + 60_000 }))!) as LoadResult;
    await local.api.call('destroy', { domain: gen.domid });
    await local.api.call('destroy', { domain: www.domid });
    // The peer, on the same machine right after: Node's server here, the client in a worker.
    const server = await nodeHelloServer();
    const load: LoadOptions = { connections: opts.connections, path: '/hello', host: '127.0.0.1', rampMs: opts.ramp * 1000, runtimeMs: opts.seconds * 1000 };
    const worker = new Worker(NODE_CLIENT, { workerData: { port: server.port, load } satisfies HttpLoadJob });
    const peer = await new Promise<LoadResult>((ok, fail) => worker.once('message', ok).once('error', fail));
    await worker.terminate();
    server.close();
    emit({
      bench: 'www-guests', connections: opts.connections, seconds: opts.seconds,
      path: 'httpload guest -> its tcpip -> netfront -> netback -> xenbr0 -> netback -> netfront -> www guest tcpip -> examples/www',
      www_guest_to_guest: guests, node_http_loopback: peer,
      rps_ratio: guests.rps / peer.rps, p99_ratio: guests.p99_ms / peer.p99_ms,
      loadavg_start: load0.map((l) => Math.round(l * 100) / 100), loadavg_end: loadavg().map((l) => Math.round(l * 100) / 100),
    });
  } finally {
    await local.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
