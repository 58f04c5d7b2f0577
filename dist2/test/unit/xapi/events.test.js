// The event log behind event.from: tokens, class filters, EVENTS_LOST for a client that fell
// behind what is kept, and waits bounded in number.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XapiError } from '../../../src/xapi/errors.js';
import { EventLog, classFilter, formatToken, parseToken } from '../../../src/xapi/events.js';
test('tokens are XAPI-shaped and parsed strictly', () => {
    assert.equal(formatToken(12), '00000000000000000012,00000000000000000000');
    assert.equal(parseToken(formatToken(12)), 12);
    assert.equal(parseToken('7'), 7);
    for (const bad of ['', 'x', '1,2,3', '-1', '99999999999999999999']) {
        assert.throws(() => parseToken(bad), (e) => e instanceof XapiError && e.code === 'EVENT_FROM_TOKEN_PARSE_FAILURE', bad);
    }
});
test('events after a token, filtered by class or object; EVENTS_LOST past what is kept', async () => {
    const log = new EventLog({ keep: 3, maxWaiters: 1, maxWaitMs: 10 });
    for (let i = 0; i < 5; i++)
        log.record(i % 2 ? 'VM' : 'task', 'mod', `OpaqueRef:${i}`);
    assert.deepEqual(log.since(3, classFilter(['*'])).map((e) => e.id), [4, 5]);
    assert.deepEqual(log.since(2, classFilter(['vm'])).map((e) => e.ref), ['OpaqueRef:3']);
    assert.deepEqual(log.since(2, classFilter(['task/OpaqueRef:4'])).map((e) => e.id), [5]);
    assert.throws(() => log.since(1, classFilter(['*'])), (e) => e instanceof XapiError && e.code === 'EVENTS_LOST');
    assert.throws(() => log.since(99, classFilter(['*'])), (e) => e instanceof XapiError && e.code === 'EVENTS_LOST', 'a token from before a restart');
    // Nothing new: waits (bounded), then the token stays where it was.
    assert.deepEqual(await log.wait(5, classFilter(['*']), 5), { events: [], last: 5 });
    // A waiter is woken by a matching event.
    const woken = log.wait(5, classFilter(['VM']), 10_000);
    log.record('VM', 'add', 'OpaqueRef:new');
    const got = await woken;
    assert.deepEqual(got.events.map((e) => e.ref), ['OpaqueRef:new']);
    assert.equal(got.last, 6);
});
//# sourceMappingURL=events.test.js.map