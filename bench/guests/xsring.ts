// xenstore over a guest's own ring page and the hypervisor's event channels, measured from
// inside the guest with its xenstore client (bench/xenstore.ts boots it): WRITE and READ per
// second with `depths=` (1,16 by default) requests in flight, transactions per second (start, 3 writes, commit),
// and watch latency on its one connection (a WRITE to the time its watch event arrives). Each
// figure runs for `ms=` milliseconds; the result goes to data/xsring/result as JSON.
import type { OS } from 'xenode';

const KEYS = 100;

export default async function main(os: OS): Promise<void> {
  const ms = Number(/ms=([0-9]+)/.exec(os.cmdline)?.[1] ?? 500);
  const depths = (/depths=([0-9,]+)/.exec(os.cmdline)?.[1] ?? '1,16').split(',').map(Number);
  const xs = os.xenstore;
  const key = (i: number) => `data/xsring/kv/k${i % KEYS}`;

  /** Calls per second of `op` for `ms`, `depth` calls in flight. */
  async function rate(depth: number, op: (i: number) => Promise<unknown>): Promise<number> {
    let n = 0;
    const t0 = performance.now();
    const end = t0 + ms;
    await Promise.all(Array.from({ length: depth }, async () => {
      while (performance.now() < end) await op(n++);
    }));
    return Math.round(n / ((performance.now() - t0) / 1000));
  }

  // Warm-up (JIT), which also creates the nodes the reads use.
  await rate(16, (i) => xs.write(key(i), `v${i}`));
  const writesPerSec: Record<string, number> = {};
  for (const d of depths) writesPerSec[d] = await rate(d, (i) => xs.write(key(i), `v${i}`));
  const readsPerSec: Record<string, number> = {};
  for (const d of depths) readsPerSec[d] = await rate(d, (i) => xs.read(key(i)));
  const result = {
    writesPerSec,
    readsPerSec,
    txPerSec: await rate(1, (i) => xs.transaction(async (tx) => {
      for (let k = 0; k < 3; k++) await tx.write(`data/xsring/tx/k${k}`, `v${i}`);
    })),
    watchLatency: await watchLatency(os, ms),
  };
  await xs.rm('data/xsring/kv');
  await xs.rm('data/xsring/tx');
  await xs.write('data/xsring/result', JSON.stringify(result));
  await os.lifecycle.awaitShutdownRequest();
  await os.shutdown('poweroff');
}

async function watchLatency(os: OS, ms: number): Promise<{ p50us: number; p99us: number; samples: number }> {
  const xs = os.xenstore;
  await xs.write('data/xsring/w/x', '');
  let fired: (() => void) | undefined;
  const w = await xs.watch('data/xsring/w', () => fired?.());
  // The event every new watch fires comes before the reply to a later request.
  await xs.read('data/xsring/w/x');
  const samples: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < ms && samples.length < 100000) {
    const ev = new Promise<void>((resolve) => (fired = resolve));
    const start = performance.now();
    const wrote = xs.write('data/xsring/w/x', String(samples.length));
    await ev;
    samples.push(performance.now() - start);
    await wrote;
  }
  fired = undefined;
  await w.unwatch();
  samples.sort((a, b) => a - b);
  const q = (p: number) => Math.round(samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! * 10000) / 10;
  return { p50us: q(0.5), p99us: q(0.99), samples: samples.length };
}
