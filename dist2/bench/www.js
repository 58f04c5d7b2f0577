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
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startLocalHost } from '../src/toolstack/local.js';
import { emit, numberOptions } from './support/harness.js';
const opts = numberOptions({ seconds: 10, connections: 30, rounds: 1 });
const WRK = '/usr/bin/wrk';
/** The guest program, run as a kernel (not imported). */
const WWW = fileURLToPath(new URL('../../examples/www/www.ts', import.meta.url));
/** What www serves at /hello, byte for byte, so both servers do the same work. */
const BODY = 'Hello from a xenode unikernel\n';
const run = promisify(execFile);
function ms(v, unit) {
    return Number(v) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);
}
async function wrk(url) {
    const { stdout } = await run(WRK, ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--latency', url], { timeout: (opts.seconds + 30) * 1000 });
    const lat = (p) => {
        const m = new RegExp(`^\\s+${p}%\\s+([0-9.]+)(us|ms|s)\\b`, 'm').exec(stdout);
        return m ? ms(m[1], m[2]) : NaN;
    };
    const errors = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
    const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
    return {
        rps: Number(/Requests\/sec:\s+([0-9.]+)/.exec(stdout)?.[1] ?? NaN),
        p50_ms: lat('50'), p99_ms: lat('99'),
        errors: Number(errors?.[1] ?? 0) + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    };
}
async function freePort() {
    const s = createServer();
    await new Promise((r) => s.listen(0, '127.0.0.1', r));
    const { port } = s.address();
    await new Promise((r) => s.close(r));
    return port;
}
/** Node's own server with www's response to GET /hello: the same status line, fields and body. */
async function nodeServer() {
    const body = Buffer.from(BODY);
    const server = createHttpServer((_req, res) => {
        res.sendDate = false;
        res.writeHead(200, { Server: 'xenode-www', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, Connection: 'keep-alive' });
        res.end(body);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${server.address().port}/hello`, close: () => server.close() };
}
async function main() {
    if (!existsSync(WRK)) {
        console.error(`${WRK} is not installed (apt-get install wrk)`);
        process.exit(2);
    }
    const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-www-'));
    const local = await startLocalHost({ stateDir: join(dir, 'state'), poolSize: 1 });
    const node = await nodeServer();
    try {
        const port = await freePort();
        const text = `name = "www"\nkernel = "${WWW}"\nmemory = 64\nvif = [ 'bridge=xenbr0' ]\nforward = [ 'tcp:${port}:80' ]\nextra = "port=80"\n`;
        await local.api.call('create', { file: join(dir, 'www.cfg'), text });
        const url = `http://127.0.0.1:${port}/hello`;
        // Until the guest has its lease and answers through the forward.
        for (let i = 0;; i++) {
            const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => '');
            if (ok === BODY)
                break;
            if (i > 300)
                throw new Error('www never answered through its forward');
            await new Promise((r) => setTimeout(r, 100));
        }
        const rounds = [];
        for (let r = 0; r < opts.rounds; r++) {
            // Alternate which goes first, so neither always gets the cooler machine.
            const a = r % 2 === 0 ? await wrk(url) : undefined;
            const n = await wrk(node.url);
            rounds.push({ www: a ?? (await wrk(url)), node: n });
        }
        const best = (k) => rounds.map((x) => x[k]).sort((x, y) => y.rps - x.rps)[0];
        const www = best('www');
        const peer = best('node');
        emit({
            bench: 'www', connections: opts.connections, seconds: opts.seconds, rounds: opts.rounds,
            www_through_forward: www, node_http_loopback: peer,
            rps_ratio: www.rps / peer.rps, p99_ratio: www.p99_ms / peer.p99_ms,
        });
    }
    finally {
        node.close();
        await local.close();
        await rm(dir, { recursive: true, force: true });
    }
}
await main();
//# sourceMappingURL=www.js.map