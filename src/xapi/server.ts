// XenAPI's HTTP transports, as xapi serves them: JSON-RPC (1.0 and 2.0) on POST /jsonrpc and
// XML-RPC on POST to any other path (/, /RPC2, and /xmlrpc, where the xen-api client posts),
// over HTTPS on TCP and plain HTTP on a local Unix socket. Content types are exactly
// `text/xml` and `application/json`: the xen-api client compares them whole to choose its
// transport.
//
// Every client is bounded (docs/SECURITY.md, "XenAPI"): its body by size before anything is
// parsed (Content-Length, then what actually arrives), its headers and body by time (slowloris),
// the connections (per listener and per source address, conns.ts) and the calls running at once
// by count; past a bound it gets an HTTP error (or its connection is closed) and the others go
// on being served.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { chmod, lstat, unlink } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { sourceKey, SourceConnections, type SourceConnection, type SourceLimits } from './conns.js';
import { toXapiError, XapiError } from './errors.js';
import { encodeJson } from './jsonrpc.js';
import { TooManyCalls, type CallSlot, type Peer, type XapiService } from './service.js';
import type { XValue } from './types.js';
import { decodeMethodCall, encodeResponse, XML_LIMITS, XmlRpcParseError } from './xmlrpc.js';

export interface XapiHttpLimits {
  /** A request body larger than this is refused (413) before it is parsed. */
  readonly maxBodyBytes: number;
  /** A client has this long to send its request's headers... */
  readonly headersTimeoutMs: number;
  /** ...and this long for the whole request. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Connections at once per listener; more are closed at once. */
  readonly maxConnections: number;
  /** Calls running at once; more are answered 503. */
  readonly maxInFlight: number;
  /** TCP connections of one source address at once, and of those not yet logged in (conns.ts); more are closed at once. */
  readonly sources: SourceLimits;
}

export const XAPI_HTTP_LIMITS: XapiHttpLimits = {
  maxBodyBytes: 1 << 20,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
  maxInFlight: 512,
  // 16 addresses' worth of the listener; one address's long polls up to half of a user's (EVENT_LIMITS.perOwner).
  sources: { perSource: 64, unauthenticatedPerSource: 32 },
};

/** JSON values nested deeper than this are refused, as XML's are. */
const MAX_JSON_DEPTH = XML_LIMITS.maxDepth;

export interface XapiListen {
  /** HTTPS on TCP: port 0 picks a free one. */
  readonly tcp?: { readonly host: string; readonly port: number; readonly key: string; readonly cert: string };
  /** Plain HTTP on a Unix socket (0600). */
  readonly unixPath?: string;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function tooDeep(v: unknown, depth: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (depth <= 0) return true;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (tooDeep(x, depth - 1)) return true;
  return false;
}

/** A call's answer, in one write: its length known, so no chunking. */
function answer(res: ServerResponse, type: 'text/xml' | 'application/json', body: Buffer): void {
  res.writeHead(200, ['Content-Type', type, 'Content-Length', String(body.length)]).end(body);
}

function jsonError(e: XapiError): { code: number; message: string; data: string[] } {
  return { code: 1, message: e.code, data: [...e.params] };
}

/**
 * An HTTP error on a connection the parser gave up on, then the connection closed once the reply
 * is out: ending and destroying at once would drop the reply (the client saw a reset, not the error).
 */
function refuse(sock: Duplex, status: string | undefined): void {
  if (status === undefined || !sock.writable) {
    sock.destroy();
    return;
  }
  // Bounded: a client that does not read its reply is let go of after a second.
  const t = setTimeout(() => sock.destroy(), 1000).unref();
  sock.once('close', () => clearTimeout(t));
  // Whatever else it sends is read and dropped, so that closing does not reset the connection.
  sock.resume();
  sock.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Bytes received on a connection: a TLS socket's are counted on the TCP socket under it (its own count only starts after the handshake). */
function rawBytesRead(sock: Duplex): number {
  const s = sock as Duplex & { bytesRead?: number; _parent?: { bytesRead?: number } | null };
  return s._parent?.bytesRead ?? s.bytesRead ?? 0;
}

export class XapiServer {
  readonly #servers: Server[] = [];
  /** Requests per connection so far: a late timeout verdict spares a connection whose request came meanwhile. */
  readonly #requests = new WeakMap<object, number>();
  /** Connections a timeout verdict spared once: the next one stands. */
  readonly #spared = new WeakSet<object>();
  #inFlight = 0;
  #tcpPort = 0;
  readonly #sources: SourceConnections;
  /** TCP connections admitted, by remote address and port (the same on the TLS socket as on the TCP one under it). */
  readonly #admitted = new Map<string, SourceConnection>();

  private constructor(private readonly svc: XapiService, readonly limits: XapiHttpLimits) {
    this.#sources = new SourceConnections(limits.sources);
  }

  static async listen(svc: XapiService, where: XapiListen, limits: Partial<XapiHttpLimits> = {}): Promise<XapiServer> {
    const s = new XapiServer(svc, { ...XAPI_HTTP_LIMITS, ...limits });
    try {
      if (where.unixPath) await s.#listenUnix(where.unixPath);
      if (where.tcp) await s.#listenTcp(where.tcp);
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  /** The TCP port served (the one picked, for port 0). */
  get port(): number {
    return this.#tcpPort;
  }

  #options() {
    const l = this.limits;
    return {
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      keepAliveTimeout: l.keepAliveTimeoutMs,
      // How often the timeouts above are enforced.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, l.headersTimeoutMs / 4)),
      maxHeaderSize: 16 << 10,
    };
  }

  #setUp(server: Server, peer: (req: IncomingMessage) => Peer): void {
    server.maxConnections = this.limits.maxConnections;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#serve(req, res, peer(req)));
    server.on('clientError', (e: NodeJS.ErrnoException, sock: Duplex) => {
      // Before the TLS handshake is done no HTTP reply can be sent: the connection just goes.
      const tls = e.code?.startsWith('ERR_TLS') === true || e.code?.startsWith('ERR_SSL') === true;
      const status = tls ? undefined : e.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if ((e.code !== 'ERR_HTTP_REQUEST_TIMEOUT' && e.code !== 'ERR_TLS_HANDSHAKE_TIMEOUT') || this.#spared.has(sock)) {
        refuse(sock, status);
        return;
      }
      // Node judges these timeouts by the clock in the timers phase, before the loop has read
      // what arrived: after a stall of our own (a loaded host, GC) a client that sent in time
      // was cut off mid-handshake or mid-request (the ECONNRESET clients saw: an HTTP reply
      // written into a TLS handshake, then a destroy with its bytes unread). Let the loop read
      // first; a client that has sent nothing at all is refused (slowloris), one that has is
      // spared once and has requestTimeoutMs more to get its request in, then the verdict stands.
      const requests = this.#requests.get(sock) ?? 0;
      const waiting = () => !sock.destroyed && (this.#requests.get(sock) ?? 0) === requests;
      setImmediate(() => {
        if (!waiting()) return;
        if (rawBytesRead(sock) === 0) {
          refuse(sock, status);
          return;
        }
        this.#spared.add(sock);
        setTimeout(() => {
          if (waiting()) refuse(sock, status);
        }, this.limits.requestTimeoutMs).unref();
      });
    });
    this.#servers.push(server);
  }

  async #listenUnix(path: string): Promise<void> {
    // The caller holds the state dir's lock: a socket there is a dead host's.
    const st = await lstat(path).catch(() => undefined);
    if (st?.isSocket()) await unlink(path);
    const server = createHttpServer(this.#options());
    this.#setUp(server, () => ({ source: 'unix', local: true }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    await chmod(path, 0o600);
  }

  async #listenTcp(tcp: NonNullable<XapiListen['tcp']>): Promise<void> {
    const server = createHttpsServer({ ...this.#options(), key: tcp.key, cert: tcp.cert, handshakeTimeout: this.limits.headersTimeoutMs });
    this.#setUp(server, (req) => ({ source: req.socket.remoteAddress ?? 'unknown', local: false }));
    server.on('connection', (sock: Socket) => {
      const key = `${sock.remoteAddress}:${sock.remotePort}`;
      const held = this.#sources.admit(sourceKey(sock.remoteAddress ?? 'unknown'));
      // Past its address's bound: closed before the handshake, nothing read or written.
      if (!held) {
        sock.destroy();
        return;
      }
      this.#admitted.set(key, held);
      sock.once('close', () => {
        held.close();
        // A new connection may have the same address and port once this one is closed: its entry stays.
        if (this.#admitted.get(key) === held) this.#admitted.delete(key);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(tcp.port, tcp.host, () => resolve());
    });
    this.#tcpPort = (server.address() as AddressInfo).port;
  }

  async #serve(req: IncomingMessage, res: ServerResponse, peer: Peer): Promise<void> {
    this.#requests.set(req.socket, (this.#requests.get(req.socket) ?? 0) + 1);
    try {
      const [path, query] = (req.url ?? '/').split('?', 2) as [string, string | undefined];
      if (req.method === 'GET' && path === '/rrd_updates') {
        this.#rrdUpdates(new URLSearchParams(query ?? ''), res);
        return;
      }
      if (req.method !== 'POST') throw new HttpError(405, 'XenAPI takes POST requests');
      const json = path === '/jsonrpc';
      const body = await this.#body(req);
      if (this.#inFlight >= this.limits.maxInFlight) throw new HttpError(503, 'too many calls at once: try again');
      this.#inFlight++;
      let held = true;
      // A client that hangs up before its answer frees what its call holds (a wait for events).
      const gone = new AbortController();
      const onClose = () => {
        if (!res.writableFinished) gone.abort();
      };
      res.once('close', onClose);
      const slot: CallSlot = {
        closed: gone.signal,
        authenticated: () => this.#admitted.get(`${req.socket.remoteAddress}:${req.socket.remotePort}`)?.authenticated(),
        park: () => {
          if (held) this.#inFlight--;
          held = false;
          return () => {
            if (!held) this.#inFlight++;
            held = true;
          };
        },
      };
      try {
        if (json) await this.#jsonRpc(body, res, peer, slot);
        else await this.#xmlRpc(body, res, peer, slot);
      } finally {
        if (held) this.#inFlight--;
      }
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // After a refused body the connection cannot be reused: what is left of the body is unread.
      if (status === 413) res.setHeader('Connection', 'close');
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(`${(e as Error).message}\n`);
      if (status === 413) res.once('finish', () => req.socket.destroySoon());
    }
  }

  /** GET /rrd_updates (json=true): xcp-rrdd's JSON; a dead session is 401, a bad query 400. */
  #rrdUpdates(query: URLSearchParams, res: ServerResponse): void {
    if (query.get('json') !== 'true') throw new HttpError(400, 'rrd_updates: xenode serves json=true only');
    let body: string;
    try {
      body = JSON.stringify(this.svc.rrdUpdates(query));
    } catch (e) {
      const x = toXapiError(e);
      throw new HttpError(x.code === 'SESSION_INVALID' ? 401 : 400, `rrd_updates: ${x.message}`);
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  }

  /** The body, refused by size before parsing: first by its Content-Length, then as it arrives. */
  #body(req: IncomingMessage): Promise<string> {
    const max = this.limits.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) return Promise.reject(new HttpError(413, `the body is ${declared} bytes; the limit is ${max}`));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      const onData = (c: Buffer) => {
        n += c.length;
        if (n > max) {
          req.off('data', onData);
          req.pause();
          reject(new HttpError(413, `the body is over ${max} bytes`));
          return;
        }
        chunks.push(c);
      };
      req.on('data', onData);
      req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.once('error', reject);
    });
  }

  /** The service's answer; a user past its own bound of calls gets 503, as past the host's. */
  async #call(method: string, params: readonly unknown[], peer: Peer, slot: CallSlot): Promise<XValue> {
    try {
      return await this.svc.call(method, params, peer, slot);
    } catch (e) {
      if (e instanceof TooManyCalls) throw new HttpError(503, e.message);
      throw e;
    }
  }

  async #xmlRpc(body: string, res: ServerResponse, peer: Peer, slot: CallSlot): Promise<void> {
    let call;
    try {
      call = decodeMethodCall(body);
    } catch (e) {
      if (e instanceof XmlRpcParseError) throw new HttpError(400, `not XML-RPC: ${e.message}`);
      throw e;
    }
    let out: Buffer;
    try {
      out = encodeResponse({ ok: true, value: await this.#call(call.method, call.params, peer, slot) });
    } catch (e) {
      if (e instanceof HttpError) throw e;
      out = encodeResponse({ ok: false, error: e as XapiError });
    }
    answer(res, 'text/xml', out);
  }

  async #jsonRpc(body: string, res: ServerResponse, peer: Peer, slot: CallSlot): Promise<void> {
    const send = (v: unknown) => answer(res, 'application/json', encodeJson(v as XValue));
    let req: unknown;
    try {
      req = JSON.parse(body);
    } catch {
      send({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
      return;
    }
    const r = req as { jsonrpc?: unknown; method?: unknown; params?: unknown; id?: unknown };
    const v2 = typeof req === 'object' && req !== null && r.jsonrpc === '2.0';
    const id = typeof r?.id === 'string' || typeof r?.id === 'number' ? r.id : null;
    const reply = (ok: { result: XValue } | { error: unknown }) => send(v2 ? { jsonrpc: '2.0', ...ok, id } : { result: null, error: null, ...ok, id });
    if (typeof req !== 'object' || req === null || Array.isArray(req) || typeof r.method !== 'string' || !Array.isArray(r.params ?? [])) {
      reply({ error: { code: -32600, message: 'Invalid Request' } });
      return;
    }
    if (tooDeep(r.params, MAX_JSON_DEPTH)) {
      reply({ error: { code: -32600, message: `Invalid Request: parameters nested deeper than ${MAX_JSON_DEPTH}` } });
      return;
    }
    try {
      reply({ result: await this.#call(r.method, (r.params ?? []) as unknown[], peer, slot) });
    } catch (e) {
      if (e instanceof HttpError) throw e;
      reply({ error: jsonError(e as XapiError) });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    })));
  }
}
