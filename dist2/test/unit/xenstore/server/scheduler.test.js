// Fair service: bounded work per connection and per turn, round robin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { REQUESTS_PER_CONNECTION, REQUESTS_PER_TURN, Scheduler } from '../../../../src/xenstore/server/scheduler.js';
class Fake {
    waiting;
    log;
    name;
    served = [];
    constructor(waiting, log, name) {
        this.waiting = waiting;
        this.log = log;
        this.name = name;
    }
    get runnable() {
        return this.waiting > 0;
    }
    serve(max) {
        const n = Math.min(max, this.waiting);
        this.waiting -= n;
        this.served.push(n);
        this.log.push(`${this.name}${n}`);
        return n;
    }
}
test('a lone request is served at once; a backlog waits for later turns, round robin', async () => {
    const s = new Scheduler();
    const log = [];
    const one = new Fake(1, log, 'one');
    s.wake(one);
    assert.deepEqual(log, ['one1'], 'served inside the callback that woke it');
    const hog = new Fake(1000, log, 'hog');
    const probe = new Fake(1, log, 'probe');
    s.wake(hog);
    assert.deepEqual(hog.served, [REQUESTS_PER_CONNECTION], 'at most one share at once');
    s.wake(probe);
    assert.deepEqual(probe.served, [], 'someone waits already: the probe queues behind');
    await tick();
    assert.deepEqual(probe.served, [1], 'served in the first turn');
    const firstTurn = hog.served.slice(1, 1 + REQUESTS_PER_TURN / REQUESTS_PER_CONNECTION).reduce((a, n) => a + n, 0) + 1;
    assert.ok(firstTurn <= REQUESTS_PER_TURN, `a turn handled ${firstTurn} requests`);
    assert.ok(hog.waiting > 0, 'the hog is not done in one turn');
    for (let i = 0; i < 100 && hog.waiting > 0; i++)
        await tick();
    assert.equal(hog.waiting, 0);
    assert.ok(hog.served.every((n) => n <= REQUESTS_PER_CONNECTION));
});
test('waiting connections alternate', async () => {
    const s = new Scheduler();
    const log = [];
    const a = new Fake(100, log, 'a');
    const b = new Fake(100, log, 'b');
    s.wake(a);
    s.wake(b);
    await tick();
    // a's first share was served at once; then turns alternate.
    assert.deepEqual(log, ['a32', 'a32', 'b32', 'a32', 'b32', 'a4', 'b32', 'b4']);
});
test('watch events fired count against the turn', async () => {
    const s = new Scheduler();
    const log = [];
    // Each request fires 64 events: 8 requests' worth of the turn.
    const noisy = new Fake(1000, log, 'n');
    const serve = noisy.serve.bind(noisy);
    noisy.serve = (max) => {
        const n = serve(max);
        s.charge(n * 64);
        return n;
    };
    s.wake(noisy);
    const before = noisy.served.length;
    await tick();
    const inTurn = noisy.served.slice(before).reduce((a, n) => a + n, 0);
    // One share costs 32 requests and 32 * 64 / 8 = 256 more: the turn is over after it.
    assert.equal(inTurn, REQUESTS_PER_CONNECTION, `one turn handled ${inTurn} requests`);
});
//# sourceMappingURL=scheduler.test.js.map