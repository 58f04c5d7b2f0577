import { Worker, type TransferListItem } from 'node:worker_threads';
/** `--name=value` options of a benchmark; every option is a number with a default. */
export declare function numberOptions<T extends Record<string, number>>(defaults: T): T;
export interface Summary {
    readonly n: number;
    readonly median: number;
    readonly p99: number;
    readonly mean: number;
    readonly min: number;
}
/** Nearest-rank percentile of sorted samples. */
export declare function percentile(sorted: ArrayLike<number>, p: number): number;
export declare function summarize(samples: ArrayLike<number>): Summary;
/** Round for the JSON line: 3 significant digits are all these machines can tell apart. */
export declare function round(x: number): number;
export declare function roundAll<T>(value: T): T;
/** The result: one line of JSON, the last line a benchmark prints. */
export declare function emit(result: object): void;
/**
 * Run `fn` in batches of `batch` calls until `ms` milliseconds have passed; returns calls per
 * second. A tenth of that time goes first to a warm-up, so that the JIT has compiled `fn`.
 */
export declare function rate(ms: number, batch: number, fn: () => void, warmup?: boolean): number;
/** A worker thread that answers each request message with one reply message, in order. */
export declare class BenchWorker {
    #private;
    readonly worker: Worker;
    constructor(url: URL);
    request<T = unknown>(msg: object, transfer?: TransferListItem[]): Promise<T>;
    terminate(): Promise<number>;
}
/** The answering side of BenchWorker: handlers by message type; each returns the reply value. */
export declare function serveRequests(port: import('node:worker_threads').MessagePort, handlers: Record<string, (msg: never) => unknown>): void;
