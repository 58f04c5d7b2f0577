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
    assert.throws(() => parseToken(bad), (e: unknown) => e instanceof XapiError && e.code === 'EVENT_FROM_TOKEN_PARSE_FAILURE', bad);
  }
});

test('events after a token, filtered by class or object; EVENTS_LOST past what is kept', async () => {
  const log = new EventLog({ keep: 3, maxWaiters: 1, perOwner: 1, maxWaitMs: 10 });
  for (let i = 0; i < 5; i++) log.record(i % 2 ? 'VM' : 'task', 'mod', `OpaqueRef:${i}`);
  assert.deepEqual(log.since(3, classFilter(['*'])).map((e) => e.id), [4, 5]);
  assert.deepEqual(log.since(2, classFilter(['vm'])).map((e) => e.ref), ['OpaqueRef:3']);
  assert.deepEqual(log.since(2, classFilter(['task/OpaqueRef:4'])).map((e) => e.id), [5]);
  assert.throws(() => log.since(1, classFilter(['*'])), (e: unknown) => e instanceof XapiError && e.code === 'EVENTS_LOST');
  assert.throws(() => log.since(99, classFilter(['*'])), (e: unknown) => e instanceof XapiError && e.code === 'EVENTS_LOST', 'a token from before a restart');
  // Nothing new: waits (bounded), then the token stays where it was.
  assert.deepEqual(await log.wait(5, classFilter(['*']), 5, { owner: 'u' }), { events: [], last: 5 });
  // A waiter is woken by a matching event.
  const woken = log.wait(5, classFilter(['VM']), 10_000, { owner: 'u' });
  log.record('VM', 'add', 'OpaqueRef:new');
  const got = await woken;
  assert.deepEqual(got.events.map((e) => e.ref), ['OpaqueRef:new']);
  assert.equal(got.last, 6);
});

test("one user's waits take at most perOwner of the places: its next is answered at once, another user's still waits", async () => {
  const log = new EventLog({ keep: 10, maxWaiters: 4, perOwner: 2, maxWaitMs: 60_000 });
  const vm = classFilter(['vm']);
  const hog = [log.wait(0, vm, 60_000, { owner: 'ro' }), log.wait(0, vm, 60_000, { owner: 'ro' })];
  assert.equal(log.waiting, 2);
  // Past its share: at once, with nothing (no event yet), and it holds no place.
  assert.deepEqual(await log.wait(0, vm, 60_000, { owner: 'ro' }), { events: [], last: 0 });
  assert.equal(log.waiting, 2);
  const other = log.wait(0, vm, 60_000, { owner: 'admin' });
  assert.equal(log.waiting, 3, "another user's wait parks");
  log.record('VM', 'add', 'OpaqueRef:a');
  for (const r of await Promise.all([...hog, other])) assert.deepEqual(r.events.map((e) => e.ref), ['OpaqueRef:a']);
  // Its places are back once its waits ended.
  const again = log.wait(1, vm, 60_000, { owner: 'ro' });
  assert.equal(log.waiting, 1);
  log.close();
  await again;
});

test('a wait whose caller is gone ends and frees its place; one gone already does not wait', async () => {
  const log = new EventLog({ keep: 10, maxWaiters: 1, perOwner: 1, maxWaitMs: 60_000 });
  const gone = new AbortController();
  const waiting = log.wait(0, classFilter(['*']), 60_000, { owner: 'u', closed: gone.signal });
  assert.equal(log.waiting, 1);
  gone.abort();
  // At once: not when its timeout comes.
  const freed = log.waiting;
  const again = log.wait(0, classFilter(['*']), 60_000, { owner: 'u', closed: gone.signal });
  const parkedAgain = log.waiting;
  log.close();
  assert.deepEqual(await waiting, { events: [], last: 0 });
  assert.deepEqual(await again, { events: [], last: 0 });
  assert.deepEqual([freed, parkedAgain], [0, 0]);
});
