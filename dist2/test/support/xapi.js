// A host daemon serving XenAPI (HTTPS on a free port, and its Unix socket) in a temporary state
// dir, with raw HTTP helpers to speak to it as XenAPI clients do.
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalHost } from '../../src/toolstack/local.js';
import { ensureCertificate } from '../../src/xapi/cert.js';
import { XapiServer } from '../../src/xapi/server.js';
import { XapiService } from '../../src/xapi/service.js';
import { HostDbUsers } from '../../src/xapi/users.js';
import { startDaemonRig } from './host-daemon.js';
export const GUESTS = fileURLToPath(new URL('../../../test/fixtures/guests/', import.meta.url));
export async function startXapiRig(prefix) {
    const rig = await startDaemonRig(prefix, { xapiPort: 0 });
    const { port } = rig.daemon.xapi.server;
    return {
        ...rig,
        url: `https://127.0.0.1:${port}`,
        port,
        socket: rig.daemon.xapi.paths.socket,
        async ticker(name) {
            const file = rig.cfgFile(name, `name = "${name}"\nkernel = "${join(GUESTS, 'ticker.ts')}"\nmemory = 32\n`);
            return (await rig.ts.call('create', { file })).domid;
        },
    };
}
const insecure = new Agent({ rejectUnauthorized: false, keepAlive: false });
export function post(target, path, body, contentType, headers = {}) {
    return new Promise((resolve, reject) => {
        const opts = { method: 'POST', path, headers: { 'Content-Type': contentType, ...headers } };
        const req = 'socket' in target
            ? httpRequest({ ...opts, socketPath: target.socket })
            : httpsRequest({ ...opts, host: '127.0.0.1', port: target.port, agent: insecure });
        req.on('response', (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
    });
}
/** A JSON-RPC 2.0 call; its result, or its error object. */
export async function jsonCall(target, method, params) {
    const r = await post(target, '/jsonrpc', JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }), 'application/json');
    if (r.status !== 200)
        throw new Error(`HTTP ${r.status}: ${r.body}`);
    return JSON.parse(r.body);
}
/** A session of root on the Unix socket. */
export async function rootSession(target) {
    const r = await jsonCall(target, 'session.login_with_password', ['root', '']);
    if (typeof r.result !== 'string')
        throw new Error(`root login failed: ${JSON.stringify(r.error)}`);
    return r.result;
}
/** One XML-RPC methodCall with string parameters. */
export function xmlCall(method, params) {
    const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    return `<?xml version="1.0"?><methodCall><methodName>${esc(method)}</methodName><params>${params.map((p) => `<param><value><string>${esc(p)}</string></value></param>`).join('')}</params></methodCall>`;
}
let certDir;
export async function startInProcessXapi(prefix, opts = {}) {
    const dir = mkdtempSync(join(tmpdir(), `xenode-${prefix}-`));
    certDir ??= mkdtempSync(join(tmpdir(), 'xenode-xapi-cert-'));
    const tls = await ensureCertificate(join(certDir, 'cert.pem'), join(certDir, 'key.pem'));
    const local = await startLocalHost({});
    const users = new HostDbUsers(local.host.db);
    const service = await new XapiService(local.api, local.host.db, users, opts).start();
    const server = await XapiServer.listen(service, { unixPath: join(dir, 'xapi.sock'), tcp: { host: '127.0.0.1', port: 0, ...tls } }, opts.http);
    const tcp = { port: server.port };
    return {
        dir, local, service, server, users, unix: { socket: join(dir, 'xapi.sock') }, tcp,
        async login(role) {
            const name = `u-${role}`;
            await users.add(name, role, role);
            const r = await jsonCall(tcp, 'session.login_with_password', [name, role]);
            if (typeof r.result !== 'string')
                throw new Error(`login failed: ${JSON.stringify(r.error)}`);
            return r.result;
        },
        async close() {
            service.close();
            await server.close();
            await local.close();
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
//# sourceMappingURL=xapi.js.map