// A plain byte pump over any Node Duplex, for TCP stream throughput: the source writes `bytes`
// in 64 KiB chunks with backpressure and half-closes; the sink counts what it reads and, at the
// source's FIN, answers with the count (8 bytes) and closes. The source's time runs from its
// first write to that answer, so it covers every byte arriving, not just leaving. The guests
// (bench/guests/tcppump.ts, over their TCP/IP stacks) and the host's programs (over node:net)
// run the same code, so the figures compare like with like. Also the request/answer exchange
// that connections per second are counted in (bench tcp and tcp-guests).
import { once } from 'node:events';
import type { Duplex } from 'node:stream';

const CHUNK = 64 * 1024;

export interface PumpResult {
  readonly bytes: number;
  readonly seconds: number;
  /** MiB per second. */
  readonly mibps: number;
  /** Gigabits per second. */
  readonly gbps: number;
  /** The sending stack's counters for the stream (guests only: retransmissions, duplicate ACKs, ...). */
  readonly tcp?: Readonly<Record<string, number>>;
}

/**
 * Only the counters that moved: a guest's figures go through xenstore, whose node values are
 * bounded (xenstored's quota, 2 KiB by default), and eight streams' full counters pass it.
 */
export function movedCounters(counters: Readonly<Record<string, number>>): Record<string, number> {
  const moved: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) if (v !== 0) moved[k] = v;
  return moved;
}

/** Serve one connection as the sink: count what `read` hands over ('data' by default), answer the count at the peer's FIN, close. */
export function sinkConnection(s: Duplex, read: (onChunk: (c: Uint8Array) => void) => void = (f) => s.on('data', f)): void {
  let got = 0;
  s.on('error', () => {});
  read((c) => {
    got += c.length;
  });
  s.on('end', () => {
    const answer = new Uint8Array(8);
    new DataView(answer.buffer).setBigUint64(0, BigInt(got));
    s.end(answer);
  });
}

/** Pump `bytes` into `s` and wait for the sink's count; `now` is the caller's clock in ms. */
export async function pumpBytes(s: Duplex, bytes: number, now: () => number): Promise<PumpResult> {
  const chunk = new Uint8Array(CHUNK).fill(0x5a);
  const answered = new Promise<number>((resolve, reject) => {
    const parts: Uint8Array[] = [];
    s.on('data', (c: Uint8Array) => parts.push(c));
    s.once('error', reject);
    s.once('end', () => {
      const all = Buffer.concat(parts);
      if (all.length !== 8) reject(new Error(`the sink answered ${all.length} bytes, not 8`));
      else resolve(Number(all.readBigUInt64BE(0)));
    });
  });
  answered.catch(() => {}); // awaited below; an early error must not count as unhandled
  const start = now();
  for (let sent = 0; sent < bytes; sent += CHUNK) {
    const part = bytes - sent < CHUNK ? chunk.subarray(0, bytes - sent) : chunk;
    if (!s.write(part)) await once(s, 'drain'); // rejects on 'error'
  }
  s.end();
  const counted = await answered;
  const seconds = (now() - start) / 1000;
  if (counted !== bytes) throw new Error(`the sink counted ${counted} bytes of ${bytes}`);
  return { bytes, seconds, mibps: bytes / (1 << 20) / seconds, gbps: (bytes * 8) / 1e9 / seconds };
}

/** Client and server sockets with the calls a request/response exchange needs. */
type Sock = NodeJS.ReadWriteStream & { destroy(): void };
const REQUEST = new Uint8Array(64).fill(0x71);
/** Exchanges in flight at once in the guest-to-guest and Node figures of bench tcp-guests. */
export const CPS_PARALLEL = 16;

/**
 * Connections per second: `n` exchanges (connect, a 64-byte request, a 64-byte answer, both
 * sides close), `parallel` at a time; `open` makes a client connection, `now` is in ms.
 */
export async function connectionRate(n: number, parallel: number, open: () => Promise<Sock>, now: () => number): Promise<number> {
  let started = 0;
  const one = async (): Promise<void> => {
    const c = await open();
    const answered = new Promise<void>((resolve, reject) => {
      c.on('data', () => {});
      c.once('end', resolve);
      c.once('error', reject);
    });
    c.end(REQUEST);
    await answered;
  };
  const worker = async (): Promise<void> => {
    while (started < n) {
      started++;
      await one();
    }
  };
  const start = now();
  await Promise.all(Array.from({ length: parallel }, worker));
  return n / ((now() - start) / 1000);
}

/** The server side of an exchange: answer the request once it is whole, then close. */
export function answerExchange(s: Sock): void {
  let got = 0;
  s.on('error', () => {});
  s.on('data', (d: Uint8Array) => {
    got += d.length;
    if (got >= REQUEST.length) s.end(REQUEST);
  });
}
