// The latency histogram a guest's load generator sends and dom0's benches add up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HISTOGRAM_BUCKETS, bucketLimit, bucketOf, percentileOf } from '../../../src/guest/histogram.js';
test('a latency lands in the bucket whose bound is the first at or above it; out-of-range latencies are clamped', () => {
    for (const us of [1, 1.5, 3, 10, 99.9, 1000, 123_456]) {
        const b = bucketOf(us);
        assert.ok(bucketLimit(b) >= us, `${us} us is under its bucket's bound ${bucketLimit(b)}`);
        if (b > 0)
            assert.ok(bucketLimit(b - 1) <= us, `${us} us would fit bucket ${b - 1}`);
    }
    assert.equal(bucketOf(0), 0);
    assert.equal(bucketOf(-5), 0);
    assert.equal(bucketOf(1e12), HISTOGRAM_BUCKETS - 1);
    for (let us = 1; us < 1e6; us *= 1.3)
        assert.ok(bucketOf(us * 1.3) >= bucketOf(us), 'buckets grow with latency');
});
test('percentiles read the bound of the bucket where that share of samples is reached', () => {
    const hist = new Array(HISTOGRAM_BUCKETS).fill(0);
    hist[bucketOf(10)] = 90;
    hist[bucketOf(1000)] = 9;
    hist[bucketOf(100_000)] = 1;
    assert.equal(percentileOf(hist, 50), bucketLimit(bucketOf(10)));
    assert.equal(percentileOf(hist, 90), bucketLimit(bucketOf(10)));
    assert.equal(percentileOf(hist, 99), bucketLimit(bucketOf(1000)));
    assert.equal(percentileOf(hist, 100), bucketLimit(bucketOf(100_000)));
    assert.ok(Number.isNaN(percentileOf(new Array(HISTOGRAM_BUCKETS).fill(0), 50)), 'no samples, no percentile');
});
//# sourceMappingURL=histogram.test.js.map