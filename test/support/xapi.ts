// A host daemon serving XenAPI (HTTPS on a free port, and its Unix socket) in a temporary state
// dir, with raw HTTP helpers to speak to it as XenAPI clients do.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { XapiRole } from '../../src/toolstack/contract.js';
import { startLocalHost, type LocalHost } from '../../src/toolstack/local.js';
import { ensureCertificate } from '../../src/xapi/cert.js';
import { XapiServer, type XapiHttpLimits } from '../../src/xapi/server.js';
import { XapiService, type XapiServiceOptions } from '../../src/xapi/service.js';
import { HostDbUsers, type CheckLimits } from '../../src/xapi/users.js';
import { startDaemonRig, type DaemonRig } from './host-daemon.js';
import { scratchStateDir } from './state-dir.js';

export const GUESTS = fileURLToPath(new URL('../../../test/fixtures/guests/', import.meta.url));

export interface XapiRig extends DaemonRig {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly socket: string;
  /** Create a guest that runs until asked to stop; returns its domid. */
  ticker(name: string): Promise<number>;
}

export async function startXapiRig(prefix: string): Promise<XapiRig> {
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

export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Where to send: the Unix socket (plain HTTP) or the TCP port (HTTPS). */
export type Target = { readonly socket: string } | { readonly port: number; /** The source address to connect from (127.0.0.0/8 on loopback). */ readonly localAddress?: string };

const insecure = new Agent({ rejectUnauthorized: false, keepAlive: false });

export function post(target: Target, path: string, body: string | Buffer, contentType: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const opts = { method: 'POST', path, headers: { 'Content-Type': contentType, ...headers } };
    const req = 'socket' in target
      ? httpRequest({ ...opts, socketPath: target.socket })
      : httpsRequest({ ...opts, host: '127.0.0.1', port: target.port, agent: insecure, ...(target.localAddress && { localAddress: target.localAddress }) });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A JSON-RPC 2.0 call; its result, or its error object. */
export async function jsonCall(target: Target, method: string, params: unknown[]): Promise<{ result?: unknown; error?: { code: number; message: string; data: string[] } }> {
  const r = await post(target, '/jsonrpc', JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }), 'application/json');
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as { result?: unknown; error?: { code: number; message: string; data: string[] } };
}

/** A session of root on the Unix socket. */
export async function rootSession(target: { socket: string }): Promise<string> {
  const r = await jsonCall(target, 'session.login_with_password', ['root', '']);
  if (typeof r.result !== 'string') throw new Error(`root login failed: ${JSON.stringify(r.error)}`);
  return r.result;
}

/** One XML-RPC methodCall with string parameters. */
export function xmlCall(method: string, params: string[]): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<?xml version="1.0"?><methodCall><methodName>${esc(method)}</methodName><params>${params.map((p) => `<param><value><string>${esc(p)}</string></value></param>`).join('')}</params></methodCall>`;
}

/** XenAPI over an in-process host (no daemon): the service and its listeners, with the limits given. */
export interface InProcessXapi {
  /** A temporary dir, removed on close. */
  readonly dir: string;
  readonly local: LocalHost;
  readonly service: XapiService;
  readonly server: XapiServer;
  readonly users: HostDbUsers;
  readonly unix: { readonly socket: string };
  readonly tcp: { readonly port: number };
  /** A session of a new user of `role` (password: the role's name), logged in over HTTPS. */
  login(role: XapiRole): Promise<string>;
  close(): Promise<void>;
}

let certDir: string | undefined;

export async function startInProcessXapi(prefix: string, opts: XapiServiceOptions & { http?: Partial<XapiHttpLimits>; checks?: CheckLimits } = {}): Promise<InProcessXapi> {
  const dir = mkdtempSync(join(tmpdir(), `xenode-${prefix}-`));
  certDir ??= mkdtempSync(join(tmpdir(), 'xenode-xapi-cert-'));
  const tls = await ensureCertificate(join(certDir, 'cert.pem'), join(certDir, 'key.pem'));
  scratchStateDir(prefix);
  const local = await startLocalHost({});
  const users = new HostDbUsers(local.host.db, opts.checks);
  // Test guests are the kernels its callers may name, unless told otherwise.
  const service = await new XapiService(local.api, local.host.db, users, { kernelDirs: [GUESTS], ...opts }).start();
  const server = await XapiServer.listen(service, { unixPath: join(dir, 'xapi.sock'), tcp: { host: '127.0.0.1', port: 0, ...tls } }, opts.http);
  const tcp = { port: server.port };
  return {
    dir, local, service, server, users, unix: { socket: join(dir, 'xapi.sock') }, tcp,
    async login(role) {
      const name = `u-${role}`;
      await users.add(name, role, role);
      const r = await jsonCall(tcp, 'session.login_with_password', [name, role]);
      if (typeof r.result !== 'string') throw new Error(`login failed: ${JSON.stringify(r.error)}`);
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

/** The part of Xen Orchestra's `xen-api` client (npm) that the interop tests use. */
export interface XenApiClient {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  call(method: string, ...args: unknown[]): Promise<unknown>;
  callAsync(method: string, ...args: unknown[]): Promise<unknown>;
}

/** A `xen-api` client of `url` as `user`, polling events quickly enough for tests (not connected yet). */
export async function xenApiClient<C extends XenApiClient = XenApiClient>(url: string, user: string, password: string): Promise<C> {
  const { createClient } = (await import('xen-api' as string)) as { createClient(o: unknown): C };
  return createClient({ url, allowUnauthorized: true, auth: { user, password }, debounce: 20, eventPollDelay: 50 });
}
