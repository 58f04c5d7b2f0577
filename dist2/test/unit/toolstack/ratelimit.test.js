// Repeated log lines: a burst per interval per kind, then one line with the count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineKind, RateLimiter } from '../../../src/toolstack/ratelimit.js';
function limiter(opts) {
    let now = 0;
    const reports = [];
    const rl = new RateLimiter({ ...opts, now: () => now, onSuppressed: (sample, n) => reports.push([sample, n]) });
    return { rl, reports, advance: (ms) => (now += ms) };
}
test('lines that differ only in numbers are one kind', () => {
    assert.equal(lineKind('dropping connection of domain 12: packet payload of 5000 bytes'), lineKind('dropping connection of domain 0: packet payload of 9 bytes'));
    assert.notEqual(lineKind('d1: console detached'), lineKind('d1: vCPU died'));
});
test('a burst passes, the rest is counted and reported once the interval is over', (t) => {
    const { rl, reports, advance } = limiter({ burst: 3, intervalMs: 1000 });
    t.after(() => rl.close());
    const passed = Array.from({ length: 100 }, (_, i) => rl.allow(`dropping connection of domain ${i}`)).filter(Boolean).length;
    assert.equal(passed, 3);
    assert.equal(rl.allow('another kind of line'), true, 'other kinds are not held back');
    assert.deepEqual(reports, []);
    advance(1000);
    assert.equal(rl.allow('dropping connection of domain 7'), true, 'a new interval');
    assert.deepEqual(reports, [['dropping connection of domain 99', 97]]);
});
test('the sweep reports suppressed lines when the flood stops', (t) => {
    const { rl, reports, advance } = limiter({ burst: 1, intervalMs: 1000 });
    t.after(() => rl.close());
    rl.allow('x 1');
    rl.allow('x 2');
    rl.sweep(advance(999));
    assert.deepEqual(reports, []);
    rl.sweep(advance(1));
    assert.deepEqual(reports, [['x 2', 1]]);
});
test('past maxKinds, new kinds share one allowance', (t) => {
    const { rl } = limiter({ burst: 2, intervalMs: 1000, maxKinds: 2 });
    t.after(() => rl.close());
    assert.equal(rl.allow('a'), true);
    assert.equal(rl.allow('b'), true);
    const rest = ['c', 'd', 'e', 'f'].map((l) => rl.allow(l));
    assert.deepEqual(rest, [true, true, false, false]);
});
//# sourceMappingURL=ratelimit.test.js.map