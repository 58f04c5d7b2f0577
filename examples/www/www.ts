// www: a web-server unikernel. It takes an address by DHCP from dom0's gateway, serves its
// static files (site.ts) and a small JSON endpoint (/api/status) over HTTP/1.1 with keep-alive
// on `port=` (80), and says `serving URL` once it listens (`url=`: where the host reaches it,
// through the `forward` of its configuration). Powers off when asked. Saved and restored (or
// migrated), it carries its counters and uptime over (os.lifecycle.onSuspend, os.resumed).
import type { OS } from 'xenode';
import { HttpError, RequestParser, response, type HttpRequest } from './http.js';
import { SITE } from './site.js';

function option(cmdline: string, key: string): string | undefined {
  return cmdline.split(/\s+/).find((w) => w.startsWith(`${key}=`))?.slice(key.length + 1);
}

const encoder = new TextEncoder();

/** What a suspend hands over to the resumed program. */
interface WwwState {
  readonly requests: number;
  readonly connections: number;
  readonly uptimeNs: number;
}

/**
 * The site's files never change, so each answer (by path, keep-alive and HEAD) is built once and
 * sent again as it is: per request the server only parses and writes. By path, the four
 * variants: keep-alive GET, close GET, keep-alive HEAD, close HEAD.
 */
const answers = new Map<string, Uint8Array[]>();

function staticResponse(path: string, keepAlive: boolean, head: boolean): Uint8Array | undefined {
  const file = SITE.get(path);
  if (!file) return undefined;
  let a = answers.get(path);
  if (!a) answers.set(path, (a = []));
  return (a[(keepAlive ? 0 : 1) + (head ? 2 : 0)] ??= response(200, file.type, encoder.encode(file.body), { keepAlive, head }));
}

export default async function main(os: OS): Promise<void> {
  const port = Number(option(os.cmdline, 'port') ?? 80);
  const url = option(os.cmdline, 'url');
  const resumed = os.resumed as WwwState | undefined;
  const stack = await os.tcpip();
  const started = os.time.monotonic() - BigInt(resumed?.uptimeNs ?? 0);
  let requests = resumed?.requests ?? 0;
  let connections = resumed?.connections ?? 0;
  os.lifecycle.onSuspend((): WwwState => ({ requests, connections, uptimeNs: Number(os.time.monotonic() - started) }));

  const handle = (r: HttpRequest): Uint8Array => {
    requests++;
    const head = r.method === 'HEAD';
    if (r.method !== 'GET' && !head) return response(405, 'text/plain', encoder.encode('GET or HEAD\n'), { keepAlive: r.keepAlive, head, extra: 'Allow: GET, HEAD\r\n' });
    const query = r.target.indexOf('?');
    const path = query < 0 ? r.target : r.target.slice(0, query);
    if (path === '/api/status') {
      const status = {
        server: 'xenode-www', address: stack.address?.address ?? null, requests, connections,
        uptime_s: Math.round(Number(os.time.monotonic() - started) / 1e6) / 1000,
        tcp: { retransmits: stack.tcpLayer.counters.retransmits, timeouts: stack.tcpLayer.counters.timeouts },
      };
      return response(200, 'application/json', encoder.encode(`${JSON.stringify(status)}\n`), { keepAlive: r.keepAlive, head });
    }
    return staticResponse(path, r.keepAlive, head) ?? response(404, 'text/plain', encoder.encode('not found\n'), { keepAlive: r.keepAlive, head });
  };

  stack.tcp.listen(port, (conn) => {
    connections++;
    conn.setNoDelay(true);
    conn.on('error', () => {});
    const parser = new RequestParser();
    let open = true;
    const resume = () => conn.resumeBytes();
    // Read as a unikernel reads, views of the received pages with no stream between
    // (TcpSocket.onBytes), and write each answer straight into the send buffer (writeNow):
    // per request the server parses in place and copies its answer once.
    conn.onBytes((chunk) => {
      if (!open) return;
      let reqs: HttpRequest[];
      try {
        reqs = parser.push(chunk);
      } catch (e) {
        const status = e instanceof HttpError ? e.status : 500;
        open = false;
        conn.end(response(status, 'text/plain', encoder.encode(`${(e as Error).message}\n`), { keepAlive: false }));
        return;
      }
      let room = true;
      for (const r of reqs) {
        room = conn.writeNow(handle(r), resume);
        if (!r.keepAlive) {
          open = false;
          conn.end();
          return;
        }
      }
      // A client that does not read its answers stops being read (until resume()).
      return room;
    });
    conn.on('end', () => conn.end());
  }, { backlog: 1024 });
  if (resumed) console.log(`www: resumed after ${requests} requests`);
  console.log(`www: listening on ${stack.address?.address}:${port}`);
  if (url) console.log(`serving ${url}`);
  return new Promise<void>(() => {}); // until shut down
}
