// A plain byte pump over any Node Duplex, for TCP stream throughput: the source writes `bytes`
// in 64 KiB chunks with backpressure and half-closes; the sink counts what it reads and, at the
// source's FIN, answers with the count (8 bytes) and closes. The source's time runs from its
// first write to that answer, so it covers every byte arriving, not just leaving. The guests
// (bench/guests/tcppump.ts, over their TCP/IP stacks) and the host's programs (over node:net)
// run the same code, so the figures compare like with like.
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
}

/** Serve one connection as the sink: count, answer the count at the peer's FIN, close. */
export function sinkConnection(s: Duplex): void {
  let got = 0;
  s.on('error', () => {});
  s.on('data', (c: Uint8Array) => {
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
