// XenAPI's calls per second against a host daemon in its own process, next to the same
// operation through the control socket in the same run (the XenAPI layer's cost as a ratio):
// VM.get_record (control socket: `list` of one domain, long) and VM.get_all_records (`list`,
// long) with --vms guests, over JSON-RPC and XML-RPC on the XenAPI Unix socket with keep-alive,
// --clients connections each making one call at a time, for --seconds per figure. Then the
// event latency from a power-state change (pause/unpause through the control socket) to an
// event.from long poll's answer carrying it (p50, p99 of --events changes), next to the
// control socket's own round trip; and --records persistent VMs (vm-import) and a host
// restart: the time until XenAPI serves all their records again, next to an empty host's start.
//
//   npm run bench -- xapi [--vms=20] [--clients=8] [--seconds=3] [--events=100] [--records=1000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteToolstack } from '../src/toolstack/client.js';
import { xapiPaths } from '../src/xapi/paths.js';
import { emit, numberOptions, summarize } from './support/harness.js';
import { spawnHost } from './support/host.js';
const opts = numberOptions({ vms: 20, clients: 8, seconds: 3, events: 100, records: 1000 });
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KERNEL = join(ROOT, 'bench/guests/idle.ts');
const dir = mkdtempSync(join(tmpdir(), 'xenode-bench-xapi-'));
const stateDir = join(dir, 'state');
const HOST_ARGS = ['--pool', '2', '--xapi-port', 'off'];
let host = await spawnHost(join(ROOT, 'bin/xenode.js'), stateDir, HOST_ARGS);
const socketPath = xapiPaths(stateDir).socket;
const agent = new Agent({ keepAlive: true, maxSockets: opts.clients });
function post(path, body, type, socket = socketPath) {
    return new Promise((resolve, reject) => {
        const req = request({ socketPath: socket, agent, method: 'POST', path, headers: { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`HTTP ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(body);
    });
}
const json = (method, params) => JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 });
const xml = (method, params) => `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params.map((p) => `<param><value>${p}</value></param>`).join('')}</params></methodCall>`;
/**
 * The peer: a bare Node HTTP server in a process of its own on a Unix socket, answering every
 * request with a fixed small JSON body, so the same client measures what HTTP alone allows.
 */
async function bareHttp(path) {
    const code = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => s.end('{"result":""}')); })` +
        `.listen(${JSON.stringify(path)}, () => process.stdout.write('up'));`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (c) => reject(new Error(`the bare HTTP server exited with ${c}`)));
    });
    return () => child.kill();
}
/** Calls per second of `call`, made by --clients callers one at a time each, for --seconds. */
async function rate(call) {
    const run = async (ms) => {
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
    await run(300);
    const t = performance.now();
    const n = await run(opts.seconds * 1000);
    return (n * 1000) / (performance.now() - t);
}
try {
    const ts = await RemoteToolstack.connect(stateDir);
    for (let i = 0; i < opts.vms; i++) {
        await ts.call('create', { file: join(dir, `g${i}.cfg`), text: `name = "g${i}"\nkernel = "${KERNEL}"\nmemory = 32\n` });
    }
    const login = JSON.parse(await post('/jsonrpc', json('session.login_with_password', ['root', '']), 'application/json'));
    const session = login.result;
    const vm = JSON.parse(await post('/jsonrpc', json('VM.get_by_name_label', [session, 'g0']), 'application/json')).result[0];
    const check = (body) => {
        if (body.includes('Failure') || body.includes('"error"'))
            throw new Error(`a call failed: ${body.slice(0, 300)}`);
    };
    const figures = {};
    const controls = await Promise.all(Array.from({ length: opts.clients }, () => RemoteToolstack.connect(stateDir)));
    let next = 0;
    const control = (args) => () => controls[next++ % controls.length].call('list', args);
    const cases = [
        ['get_record', 'VM.get_record', [session, vm], { domains: ['g0'], long: true }],
        ['get_all_records', 'VM.get_all_records', [session], { long: true }],
    ];
    const barePath = join(dir, 'bare.sock');
    const stopBare = await bareHttp(barePath);
    const bare = await rate(() => post('/jsonrpc', json('x', []), 'application/json', barePath));
    stopBare();
    figures['bare_http_per_s'] = bare;
    for (const [name, method, params, args] of cases) {
        const c = await rate(control(args));
        const j = await rate(async () => check(await post('/jsonrpc', json(method, params), 'application/json')));
        const x = await rate(async () => check(await post('/', xml(method, params), 'text/xml')));
        Object.assign(figures, {
            [`${name}_control_per_s`]: c,
            [`${name}_jsonrpc_per_s`]: j,
            [`${name}_jsonrpc_vs_control`]: j / c,
            [`${name}_xmlrpc_per_s`]: x,
            [`${name}_xmlrpc_vs_control`]: x / c,
            [`${name}_jsonrpc_vs_bare_http`]: j / bare,
        });
    }
    for (const c of controls)
        c.close();
    // Event latency: a long poll is waiting when the change is made.
    const rpc = async (method, params) => JSON.parse(await post('/jsonrpc', json(method, params), 'application/json')).result;
    let token = await rpc('event.inject', [session, 'VM', vm]);
    await rpc('event.from', [session, ['vm'], token, 0]).then((r) => (token = r.token));
    const latency = [];
    const roundTrip = [];
    for (let i = 0; i < opts.events; i++) {
        const want = i % 2 === 0 ? 'Paused' : 'Running';
        const seen = (async () => {
            for (;;) {
                const r = await rpc('event.from', [session, ['vm'], token, 5]);
                token = r.token;
                if (r.events.some((e) => e.ref === vm && e.snapshot?.power_state === want))
                    return performance.now();
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
    const restart = async (state) => {
        const t = performance.now();
        const h = await spawnHost(join(ROOT, 'bin/xenode.js'), state, HOST_ARGS);
        const sock = xapiPaths(state).socket;
        const s = JSON.parse(await post('/jsonrpc', json('session.login_with_password', ['root', '']), 'application/json', sock)).result;
        const n = Object.keys(JSON.parse(await post('/jsonrpc', json('VM.get_all_records', [s]), 'application/json', sock)).result).length;
        return { h, ms: performance.now() - t, n };
    };
    await host.stop();
    const full = await restart(stateDir);
    host = full.h;
    if (full.n < opts.records)
        throw new Error(`only ${full.n} VM records after the restart`);
    const empty = await restart(join(dir, 'empty-state'));
    await empty.h.stop();
    Object.assign(figures, { restart_records: full.n, restart_serving_ms: full.ms, empty_host_serving_ms: empty.ms, restart_vs_empty: full.ms / empty.ms });
    emit({ bench: 'xapi', vms: opts.vms + 1, clients: opts.clients, seconds: opts.seconds, ...figures });
}
finally {
    agent.destroy();
    await host.stop();
    rmSync(dir, { recursive: true, force: true });
}
//# sourceMappingURL=xapi.js.map