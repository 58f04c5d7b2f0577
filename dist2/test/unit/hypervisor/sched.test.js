// Credit-scheduler weights (xl.cfg cpu_weight=) as the host schedules vCPU threads: nice values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CREDIT_DEFAULT_WEIGHT, CREDIT_MAX_WEIGHT, CREDIT_MIN_WEIGHT, GUEST_NICE, niceForWeight, } from '../../../src/hypervisor/sched.js';
test('niceForWeight: the default weight runs at GUEST_NICE (10), below dom0', () => {
    assert.equal(CREDIT_DEFAULT_WEIGHT, 256);
    assert.equal(GUEST_NICE, 10);
    assert.equal(niceForWeight(256), 10);
});
test('niceForWeight: a larger weight gets a lower nice value, about three steps per doubling', () => {
    assert.equal(niceForWeight(320), 9, '1.25 times the weight: one step');
    assert.equal(niceForWeight(512), 7);
    assert.equal(niceForWeight(1024), 4);
    assert.equal(niceForWeight(200), 11);
    assert.equal(niceForWeight(128), 13);
    assert.equal(niceForWeight(64), 16);
});
test('niceForWeight: clamped to 0..19 over the whole range of weights, and never rising with the weight', () => {
    assert.equal(niceForWeight(CREDIT_MIN_WEIGHT), 19);
    assert.equal(niceForWeight(CREDIT_MAX_WEIGHT), 0);
    assert.equal(niceForWeight(16), 19);
    assert.equal(niceForWeight(4096), 0);
    let prev = Infinity;
    for (let w = CREDIT_MIN_WEIGHT; w <= CREDIT_MAX_WEIGHT; w++) {
        const n = niceForWeight(w);
        assert.ok(Number.isInteger(n) && n >= 0 && n <= 19, `weight ${w}: nice ${n}`);
        assert.ok(n <= prev, `weight ${w}: nice ${n} after ${prev}`);
        prev = n;
    }
});
//# sourceMappingURL=sched.test.js.map