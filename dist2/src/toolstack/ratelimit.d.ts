export interface RateLimitOptions {
    /** Lines of one kind let through per interval. */
    readonly burst?: number;
    readonly intervalMs?: number;
    /** Kinds tracked at once; lines of further kinds share one allowance. */
    readonly maxKinds?: number;
    /** Told how many lines like `sample` were suppressed over an interval. */
    readonly onSuppressed: (sample: string, count: number) => void;
    /** The clock (tests give their own). */
    readonly now?: () => number;
}
/** Lines differing only in numbers (domids, ports, counts) are of one kind. */
export declare function lineKind(line: string): string;
export declare class RateLimiter {
    #private;
    constructor(opts: RateLimitOptions);
    /** Whether to log this line now. */
    allow(line: string): boolean;
    /** End the windows that are over, reporting what they suppressed. */
    sweep(now: number): void;
    close(): void;
}
