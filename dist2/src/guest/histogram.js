// Latency histograms for load generators (a guest's blkbench, dom0's benches): log-scale
// buckets, so guests can send theirs as a row of counts and a harness can add them up.
/** Buckets per power of two of microseconds. */
const BUCKETS_PER_OCTAVE = 8;
/** Enough buckets for about 1 s; longer latencies land in the last one. */
export const HISTOGRAM_BUCKETS = 20 * BUCKETS_PER_OCTAVE;
/** The bucket of a latency in microseconds. */
export function bucketOf(us) {
    // Under 1 us (or a bad negative reading) counts as 1 us: bucket 0.
    return Math.min(HISTOGRAM_BUCKETS - 1, Math.floor(Math.log2(Math.max(us, 1)) * BUCKETS_PER_OCTAVE));
}
/** The upper bound in microseconds of a bucket. */
export function bucketLimit(b) {
    return 2 ** ((b + 1) / BUCKETS_PER_OCTAVE);
}
/** The upper bound of the bucket holding the p-th percentile (0 < p <= 100); NaN for no samples. */
export function percentileOf(hist, p) {
    const total = hist.reduce((a, b) => a + b, 0);
    if (total === 0)
        return NaN; // not the first bucket's bound: no samples show no latency
    let seen = 0;
    for (let b = 0; b < hist.length; b++) {
        seen += hist[b];
        if (seen >= (p / 100) * total)
            return bucketLimit(b);
    }
    return NaN;
}
//# sourceMappingURL=histogram.js.map