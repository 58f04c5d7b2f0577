/** Enough buckets for about 1 s; longer latencies land in the last one. */
export declare const HISTOGRAM_BUCKETS: number;
/** The bucket of a latency in microseconds. */
export declare function bucketOf(us: number): number;
/** The upper bound in microseconds of a bucket. */
export declare function bucketLimit(b: number): number;
/** The upper bound of the bucket holding the p-th percentile (0 < p <= 100); NaN for no samples. */
export declare function percentileOf(hist: readonly number[], p: number): number;
