import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clockFromTime, TimerSlot } from '../../../src/tcpip/clock.js';
import { ManualClock } from '../../support/tcpip-link.js';
test('clockFromTime: now in ms from the monotonic clock; timers are sleeps, cancelled ones do not fire', async () => {
    let ns = 5000000n;
    const sleeps = [];
    const clock = clockFromTime({ monotonic: () => ns, sleep: (ms) => new Promise((wake) => sleeps.push({ ms, wake })) });
    assert.equal(clock.now(), 5);
    ns = 7500000n;
    assert.equal(clock.now(), 7.5);
    const fired = [];
    clock.setTimer(10, () => fired.push('a'));
    const b = clock.setTimer(20, () => fired.push('b'));
    b.cancel();
    assert.deepEqual(sleeps.map((s) => s.ms), [10, 20]);
    for (const s of sleeps)
        s.wake();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(fired, ['a']);
});
test('TimerSlot: arming again replaces the pending timer; ensure keeps an earlier deadline', () => {
    const clock = new ManualClock();
    const slot = new TimerSlot(clock);
    const fired = [];
    slot.arm(10, () => fired.push(1));
    slot.arm(20, () => fired.push(2));
    slot.ensure(5, () => fired.push(3));
    clock.advanceTo(30);
    assert.deepEqual(fired, [2]);
    assert.equal(slot.armed, false);
});
//# sourceMappingURL=clock.test.js.map