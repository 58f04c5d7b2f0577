// A wrk-like HTTP/1.1 load loop: `connections` keep-alive connections, each sending GET `path`
// (or a request given whole: a POST with its body) and waiting for the whole answer
// (Content-Length framed) before the next, for a ramp and then a measured time; requests and
// their latencies. It runs over any Node Duplex, so the
// load-generator guest (bench/guests/httpload.ts, over its TCP/IP stack) and the Node client it
// is compared with (over node:net, bench www) are the same code.
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';

/** What examples/www answers to GET /hello, byte for byte, so both servers do the same work. */
export const HELLO_BODY = 'Hello from a xenode unikernel\n';

/** Node's own server with www's answer to GET /hello (the same status line, fields and body) on 127.0.0.1. */
export async function nodeHelloServer(): Promise<{ port: number; close(): void }> {
  const body = Buffer.from(HELLO_BODY);
  const server = createServer((_req, res) => {
    res.sendDate = false;
    res.writeHead(200, { Server: 'xenode-www', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, Connection: 'keep-alive' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

export interface LoadOptions {
  readonly connections: number;
  readonly path: string;
  readonly host: string;
  readonly rampMs: number;
  readonly runtimeMs: number;
  /** The whole request to send instead of GET `path` (a POST with its body, say). */
  readonly request?: Uint8Array;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
}

/** Latencies kept for percentiles, at most (a ring: the latest). */
const MAX_SAMPLES = 1 << 20;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** The length of the answer at the front of `buf` (head and body), or -1 until it is whole. */
function answerLength(buf: Buffer): number {
  const end = buf.indexOf(CRLFCRLF);
  if (end < 0) return -1;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf.toString('latin1', 0, end));
  if (!m) throw new Error(`an answer without Content-Length: ${JSON.stringify(buf.toString('latin1', 0, Math.min(end, 200)))}`);
  const total = end + 4 + Number(m[1]);
  return buf.length >= total ? total : -1;
}

/** Run the load through connections `connect` opens; `sleep` and `now` are the caller's clock. */
export async function httpLoad(connect: () => Promise<Duplex>, o: LoadOptions, sleep: (ms: number) => Promise<void>, now: () => number): Promise<LoadResult> {
  const request = o.request ?? Buffer.from(`GET ${o.path} HTTP/1.1\r\nHost: ${o.host}\r\nUser-Agent: xenode-httpload\r\n\r\n`);
  const samples = new Float64Array(MAX_SAMPLES);
  let measuring = false;
  let running = true;
  let requests = 0;
  let errors = 0;
  const one = async (): Promise<void> => {
    const s = await connect();
    let buf: Buffer = Buffer.alloc(0);
    let sent = 0;
    let wake: (() => void) | undefined;
    let failed: Error | undefined;
    s.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      wake?.();
    });
    const fail = (e: Error) => {
      failed = e;
      wake?.();
    };
    s.on('error', fail);
    s.on('end', () => fail(new Error('the server closed the connection')));
    try {
      while (running && !failed) {
        sent = now();
        s.write(request);
        for (;;) {
          const n = answerLength(buf);
          if (n >= 0) {
            buf = buf.subarray(n);
            break;
          }
          if (failed) throw failed;
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
        if (measuring) samples[requests++ % MAX_SAMPLES] = now() - sent;
      }
    } catch {
      if (running) errors++;
    } finally {
      s.destroy();
    }
  };
  const conns = Array.from({ length: o.connections }, () => one().catch(() => void errors++));
  await sleep(o.rampMs);
  measuring = true;
  const t0 = now();
  await sleep(o.runtimeMs);
  measuring = false;
  const seconds = (now() - t0) / 1000;
  running = false;
  const n = requests;
  await Promise.all(conns);
  const sorted = samples.subarray(0, Math.min(n, MAX_SAMPLES)).sort();
  const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN);
  return { requests: n, errors, seconds, rps: n / seconds, p50_ms: pct(50), p99_ms: pct(99) };
}
