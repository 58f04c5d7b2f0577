// XenAPI's calls per second against a host daemon in its own process, next to the same
// operation through the control socket and to a bare HTTP server in the same run (the XenAPI
// layer's cost as ratios): VM.get_record (control socket: `list` of one domain, long) and
// VM.get_all_records (`list`, long) with --vms guests, over JSON-RPC and XML-RPC with
// keep-alive, on the XenAPI Unix socket (plain HTTP) and on its HTTPS port, --clients
// connections each making one call at a time. The client is a raw HTTP/1.1 loop
// (support/http-load.ts: a prebuilt request, Content-Length framing), so that on a 2-core
// machine it takes little from the server; the peer is a bare Node HTTP(S) server in a process
// of its own answering every request with a fixed body, measured by the same client. The
// figures are measured in --rounds interleaved rounds (each figure gets --seconds in all), so
// load from elsewhere falls on all of them alike. Then the event latency from a power-state
// change (pause/unpause through the control socket) to an event.from long poll's answer
// carrying it (p50, p99 of --events changes), next to the control socket's own round trip; and
// --records persistent VMs (vm-import) and a host restart: the time until XenAPI serves all
// their records again, next to an empty host's start. With each calls/s figure, the serving
// process's CPU time per call (µs; the host's includes its idle guests' threads), which load
// from elsewhere changes less than the rate.
//
//   npm run bench -- xapi [--vms=20] [--clients=8] [--seconds=3] [--rounds=3] [--events=100] [--records=1000]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteToolstack } from '../src/toolstack/client.js';
import { xapiPaths } from '../src/xapi/paths.js';
import { emit, numberOptions, summarize } from './support/harness.js';
import { spawnHost, type HostProcess } from './support/host.js';
import { httpLoad } from './support/http-load.js';
import { freePort } from './support/ports.js';

const opts = numberOptions({ vms: 20, clients: 8, seconds: 3, rounds: 3, events: 100, records: 1000 });
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KERNEL = join(ROOT, 'bench/guests/idle.ts');
const dir = mkdtempSync(join(tmpdir(), 'xenode-bench-xapi-'));
const stateDir = join(dir, 'state');
const httpsPort = await freePort();
const HOST_ARGS = ['--pool', '2', '--xapi-port', String(httpsPort)];
const EMPTY_HOST_ARGS = ['--pool', '2', '--xapi-port', 'off'];
let host: HostProcess = await spawnHost(join(ROOT, 'bin/xenode.js'), stateDir, HOST_ARGS);
const socketPath = xapiPaths(stateDir).socket;
const agent = new Agent({ keepAlive: true, maxSockets: opts.clients });

function post(path: string, body: string, type: string, socket = socketPath): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, agent, method: 'POST', path, headers: { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = (method: string, params: unknown[]) => JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 });
const xml = (method: string, params: string[]) =>
  `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params.map((p) => `<param><value>${p}</value></param>`).join('')}</params></methodCall>`;

/**
 * The peer: a bare Node HTTP server on a Unix socket and an HTTPS one (the host's certificate)
 * on TCP, in a process of its own, answering every request with a fixed small JSON body once
 * its body is in (as XenAPI's server must), so the same client measures what HTTP alone allows.
 */
async function bareHttp(path: string, port: number): Promise<{ pid: number; stop(): void }> {
  const { cert, key } = xapiPaths(stateDir);
  const code = `const h = (q, s) => { q.resume(); q.on('end', () => s.end('{"result":""}')); };` +
    `require('node:http').createServer(h).listen(${JSON.stringify(path)}, () => {` +
    `require('node:https').createServer({ key: require('node:fs').readFileSync(${JSON.stringify(key)}), cert: require('node:fs').readFileSync(${JSON.stringify(cert)}) }, h)` +
    `.listen(${port}, '127.0.0.1', () => process.stdout.write('up')); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`the bare HTTP server exited with ${c}`)));
  });
  return { pid: child.pid!, stop: () => child.kill() };
}

/** A keep-alive connection to the XenAPI Unix socket (or the peer's), or over TLS to a port. */
function unixConn(path: string): () => Promise<Duplex> {
  return () => new Promise((resolve, reject) => {
    const s = netConnect(path, () => resolve(s)).once('error', reject);
  });
}
function tlsConn(port: number): () => Promise<Duplex> {
  return () => new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(s)).once('error', reject);
  });
}

/** A whole HTTP/1.1 POST, built once. */
function postRequest(path: string, type: string, body: string): Buffer {
  return Buffer.from(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** CPU time (user + system, all threads) a process has used, ms: /proc's clock ticks of USER_HZ (100 on Linux). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

interface Measure {
  readonly name: string;
  /** One round: calls made, seconds measured, and the serving process's CPU time meanwhile (ms). */
  round(ms: number): Promise<{ calls: number; seconds: number; cpuMs: number }>;
}

/** Keep-alive HTTP load of one prebuilt request, --clients connections, served by process `pid`. */
function httpMeasure(name: string, connect: () => Promise<Duplex>, req: Buffer, pid: number): Measure {
  return {
    name,
    async round(ms) {
      // httpLoad sleeps through its ramp, then through the measured time: the CPU is read around the second.
      let sleeps = 0;
      let cpu = 0;
      const sleep = async (t: number) => {
        const measured = sleeps++ === 1;
        if (measured) cpu = cpuMs(pid);
        await new Promise((res) => setTimeout(res, t));
        if (measured) cpu = cpuMs(pid) - cpu;
      };
      const r = await httpLoad(connect, { connections: opts.clients, path: '/', host: 'localhost', rampMs: 200, runtimeMs: ms, request: req },
        sleep, () => performance.now());
      if (r.errors) throw new Error(`${name}: ${r.errors} connections failed`);
      return { calls: r.requests, seconds: r.seconds, cpuMs: cpu };
    },
  };
}

/**
 * Calls per second of each measure, and the serving process's CPU µs per call (what load from
 * elsewhere changes least), in interleaved rounds: --seconds in all for each.
 */
async function rates(measures: readonly Measure[]): Promise<Record<string, { perS: number; cpuUs: number }>> {
  const sum = new Map(measures.map((m) => [m.name, { calls: 0, seconds: 0, cpuMs: 0 }]));
  for (let i = 0; i < opts.rounds; i++) {
    for (const m of measures) {
      const r = await m.round((opts.seconds * 1000) / opts.rounds);
      const s = sum.get(m.name)!;
      s.calls += r.calls;
      s.seconds += r.seconds;
      s.cpuMs += r.cpuMs;
    }
  }
  return Object.fromEntries([...sum].map(([n, s]) => [n, { perS: s.calls / s.seconds, cpuUs: (s.cpuMs * 1000) / s.calls }]));
}

/** The control socket's measure: --clients callers, one call at a time each, served by process `pid`. */
function controlMeasure(name: string, call: () => Promise<unknown>, pid: number): Measure {
  const run = async (ms: number) => {
    const end = performance.now() + ms;
    let n = 0;
    await Promise.all(Array.from({ length: opts.clients }, async () => {
      while (performance.now() < end) {
        await call();
        n++;
      }
    }));
    return n;
  };
  return {
    name,
    async round(ms) {
      await run(200);
      const t = performance.now();
      const cpu = cpuMs(pid);
      const calls = await run(ms);
      return { calls, seconds: (performance.now() - t) / 1000, cpuMs: cpuMs(pid) - cpu };
    },
  };
}

try {
  const ts = await RemoteToolstack.connect(stateDir);
  for (let i = 0; i < opts.vms; i++) {
    await ts.call('create', { file: join(dir, `g${i}.cfg`), text: `name = "g${i}"\nkernel = "${KERNEL}"\nmemory = 32\n` });
  }
  const login = JSON.parse(await post('/jsonrpc', json('session.login_with_password', ['root', '']), 'application/json')) as { result: string };
  const session = login.result;
  const vm = (JSON.parse(await post('/jsonrpc', json('VM.get_by_name_label', [session, 'g0']), 'application/json')) as { result: string[] }).result[0]!;
  const check = (body: string) => {
    if (body.includes('Failure') || body.includes('"error"')) throw new Error(`a call failed: ${body.slice(0, 300)}`);
  };
  const figures: Record<string, number> = {};
  const controls = await Promise.all(Array.from({ length: opts.clients }, () => RemoteToolstack.connect(stateDir)));
  let next = 0;
  const control = (args: { domains?: string[]; long: boolean }) => () => controls[next++ % controls.length]!.call('list', args);
  const cases: [string, string, string[], { domains?: string[]; long: boolean }][] = [
    ['get_record', 'VM.get_record', [session, vm], { domains: ['g0'], long: true }],
    ['get_all_records', 'VM.get_all_records', [session], { long: true }],
  ];
  const barePath = join(dir, 'bare.sock');
  const barePort = await freePort();
  const peer = await bareHttp(barePath, barePort);
  const pid = host.child.pid!;
  try {
    const bareReq = postRequest('/jsonrpc', 'application/json', json('x', []));
    const bare = [httpMeasure('bare_http', unixConn(barePath), bareReq, peer.pid), httpMeasure('bare_https', tlsConn(barePort), bareReq, peer.pid)];
    for (const [name, method, params, args] of cases) {
      const jsonReq = postRequest('/jsonrpc', 'application/json', json(method, params));
      const xmlReq = postRequest('/', 'text/xml', xml(method, params));
      // One call each first: the figures below count answers, not their contents.
      check(await post('/jsonrpc', json(method, params), 'application/json'));
      check(await post('/', xml(method, params), 'text/xml'));
      const r = await rates([
        controlMeasure('control', control(args), pid),
        ...(name === 'get_record' ? bare : []),
        httpMeasure('jsonrpc', unixConn(socketPath), jsonReq, pid),
        httpMeasure('xmlrpc', unixConn(socketPath), xmlReq, pid),
        httpMeasure('jsonrpc_https', tlsConn(httpsPort), jsonReq, pid),
        httpMeasure('xmlrpc_https', tlsConn(httpsPort), xmlReq, pid),
      ]);
      if (name === 'get_record') {
        for (const b of ['bare_http', 'bare_https']) Object.assign(figures, { [`${b}_per_s`]: r[b]!.perS, [`${b}_cpu_us_per_call`]: r[b]!.cpuUs });
      }
      const c = r['control']!.perS;
      for (const t of ['control', 'jsonrpc', 'xmlrpc', 'jsonrpc_https', 'xmlrpc_https']) {
        Object.assign(figures, { [`${name}_${t}_per_s`]: r[t]!.perS, [`${name}_${t}_cpu_us_per_call`]: r[t]!.cpuUs });
      }
      Object.assign(figures, {
        [`${name}_jsonrpc_vs_control`]: r['jsonrpc']!.perS / c,
        [`${name}_xmlrpc_vs_control`]: r['xmlrpc']!.perS / c,
        [`${name}_jsonrpc_vs_bare_http`]: r['jsonrpc']!.perS / figures['bare_http_per_s']!,
        [`${name}_xmlrpc_vs_bare_http`]: r['xmlrpc']!.perS / figures['bare_http_per_s']!,
        [`${name}_jsonrpc_https_vs_bare_https`]: r['jsonrpc_https']!.perS / figures['bare_https_per_s']!,
        // The host's CPU per call next to the bare server's per request: what XenAPI adds to HTTP.
        [`${name}_jsonrpc_cpu_vs_bare_http`]: r['jsonrpc']!.cpuUs / figures['bare_http_cpu_us_per_call']!,
        [`${name}_xmlrpc_cpu_vs_bare_http`]: r['xmlrpc']!.cpuUs / figures['bare_http_cpu_us_per_call']!,
      });
    }
  } finally {
    peer.stop();
  }
  for (const c of controls) c.close();

  // Event latency: a long poll is waiting when the change is made.
  const rpc = async <T>(method: string, params: unknown[]) => (JSON.parse(await post('/jsonrpc', json(method, params), 'application/json')) as { result: T }).result;
  let token = await rpc<string>('event.inject', [session, 'VM', vm]);
  await rpc('event.from', [session, ['vm'], token, 0]).then((r) => (token = (r as { token: string }).token));
  const latency: number[] = [];
  const roundTrip: number[] = [];
  for (let i = 0; i < opts.events; i++) {
    const want = i % 2 === 0 ? 'Paused' : 'Running';
    const seen = (async () => {
      for (;;) {
        const r = await rpc<{ token: string; events: { ref: string; snapshot?: { power_state?: string } }[] }>('event.from', [session, ['vm'], token, 5]);
        token = r.token;
        if (r.events.some((e) => e.ref === vm && e.snapshot?.power_state === want)) return performance.now();
      }
    })();
    // Let the poll reach the host before the change.
    await new Promise((r) => setTimeout(r, 5));
    const t = performance.now();
    await ts.call(i % 2 === 0 ? 'pause' : 'unpause', { domain: 'g0' });
    roundTrip.push(performance.now() - t);
    latency.push((await seen) - t);
  }
  const ev = summarize(latency);
  const rt = summarize(roundTrip);
  Object.assign(figures, { event_latency_p50_ms: ev.median, event_latency_p99_ms: ev.p99, control_pause_p50_ms: rt.median, event_vs_control: ev.median / rt.median });

  // Persistent VMs and a restart.
  const cfg = join(dir, 'persistent.cfg');
  for (let i = 0; i < opts.records; i++) {
    await ts.call('vmImport', { file: cfg, text: `name = "p${i}"\nkernel = "${KERNEL}"\nmemory = 32\nvif = [ "bridge=xenbr0" ]\n` });
  }
  ts.close();
  const restart = async (state: string, args = HOST_ARGS) => {
    const t = performance.now();
    const h = await spawnHost(join(ROOT, 'bin/xenode.js'), state, args);
    const sock = xapiPaths(state).socket;
    const s = (JSON.parse(await post('/jsonrpc', json('session.login_with_password', ['root', '']), 'application/json', sock)) as { result: string }).result;
    const n = Object.keys((JSON.parse(await post('/jsonrpc', json('VM.get_all_records', [s]), 'application/json', sock)) as { result: object }).result).length;
    return { h, ms: performance.now() - t, n };
  };
  await host.stop();
  const full = await restart(stateDir);
  host = full.h;
  if (full.n < opts.records) throw new Error(`only ${full.n} VM records after the restart`);
  const empty = await restart(join(dir, 'empty-state'), EMPTY_HOST_ARGS);
  await empty.h.stop();
  Object.assign(figures, { restart_records: full.n, restart_serving_ms: full.ms, empty_host_serving_ms: empty.ms, restart_vs_empty: full.ms / empty.ms });
  emit({ bench: 'xapi', vms: opts.vms + 1, clients: opts.clients, seconds: opts.seconds, ...figures });
} finally {
  agent.destroy();
  await host.stop();
  rmSync(dir, { recursive: true, force: true });
}
