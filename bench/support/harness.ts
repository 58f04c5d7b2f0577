// Shared by the benchmarks: options, statistics, the JSON result line, and worker threads
// driven by request/reply messages.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { DAEMON_MALLOC_ENV, mallocTuned } from '../../src/cli/malloc-env.js';

/**
 * A benchmark that measures a host's memory runs it as `xenode host start` does, under the
 * daemon's allocator setting: without it, a guest's memory was resident from its create in some
 * runs and not in others (issue 18 in docs/PERFORMANCE.md). Call first, with the benchmark's
 * import.meta.url: unless set already, the benchmark runs again in a child process with it, and
 * this process exits with the child's status.
 */
export async function underDaemonAllocator(benchmark: string): Promise<void> {
  if (mallocTuned()) return;
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(benchmark), ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...DAEMON_MALLOC_ENV, ...process.env },
  });
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? 1)));
  process.exit(code);
}

/** `--name=value` options of a benchmark; every option is a number with a default, positive unless named in `zero`. */
export function numberOptions<T extends Record<string, number>>(defaults: T, zero: readonly (keyof T)[] = []): T {
  return benchOptions(defaults, {}, zero);
}

/** As numberOptions, and options whose value is a word (a list: comma-separated), each with a default. */
export function benchOptions<T extends Record<string, number>, S extends Record<string, string>>(numbers: T, words: S, zero: readonly (keyof T)[] = []): T & S {
  const { values } = parseArgs({
    options: Object.fromEntries([...Object.keys(numbers), ...Object.keys(words)].map((k) => [k, { type: 'string' as const }])),
    strict: true,
  });
  const out: Record<string, number | string> = { ...numbers, ...words };
  for (const [k, v] of Object.entries(values)) {
    if (k in words) {
      out[k] = String(v);
      continue;
    }
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (n === 0 && !zero.includes(k))) throw new Error(`--${k} wants a positive number, not ${String(v)}`);
    out[k] = n;
  }
  return out as T & S;
}

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p99: number;
  readonly mean: number;
  readonly min: number;
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  return { n: sorted.length, median: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sum / sorted.length, min: sorted[0]! };
}

/** Round for the JSON line: 3 significant digits are all these machines can tell apart. */
export function round(x: number): number {
  return Number(x.toPrecision(3));
}

export function roundAll<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_, v) => (typeof v === 'number' && !Number.isInteger(v) ? round(v) : v)));
}

/** The result: one line of JSON, the last line a benchmark prints. */
export function emit(result: object): void {
  console.log(JSON.stringify(roundAll(result)));
}

/**
 * Run `fn` in batches of `batch` calls until `ms` milliseconds have passed; returns calls per
 * second. A tenth of that time goes first to a warm-up, so that the JIT has compiled `fn`.
 */
export function rate(ms: number, batch: number, fn: () => void, warmup = true): number {
  if (warmup) rate(ms / 10, batch, fn, false);
  let calls = 0;
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    now = performance.now();
  }
  return (calls * 1000) / (now - start);
}

/** A worker thread that answers each request message with one reply message, in order. */
export class BenchWorker {
  readonly worker: Worker;
  #queue: { resolve(v: unknown): void; reject(e: Error): void }[] = [];

  constructor(url: URL) {
    this.worker = new Worker(url);
    this.worker.on('message', (m: { error?: string; value?: unknown }) => {
      const p = this.#queue.shift();
      if (!p) return;
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.value);
    });
    this.worker.on('error', (e) => {
      for (const p of this.#queue.splice(0)) p.reject(e);
    });
  }

  request<T = unknown>(msg: object, transfer: TransferListItem[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** The answering side of BenchWorker: handlers by message type; each returns the reply value. */
export function serveRequests(
  port: import('node:worker_threads').MessagePort,
  handlers: Record<string, (msg: never) => unknown>,
): void {
  port.on('message', async (msg: { type: string }) => {
    try {
      const handler = handlers[msg.type];
      if (!handler) throw new Error(`unknown request ${msg.type}`);
      const value = await handler(msg as never);
      port.postMessage({ value }, value instanceof Float64Array ? [value.buffer as ArrayBuffer] : []);
    } catch (e) {
      port.postMessage({ error: String((e as Error)?.stack ?? e) });
    }
  });
}

/**
 * CPU time (user + system, µs) of this process's main thread alone: /proc/self/task/PID/stat,
 * in clock ticks of 10 ms. Unlike process.cpuUsage() it leaves out V8's helper threads (the
 * GC's, Atomics.waitAsync's), whose share grows with the machine's load; NaN off Linux.
 */
export function mainThreadCpuUs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return NaN;
  }
}
