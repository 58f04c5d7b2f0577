// The suspend record as dom0 reads it (every restore and migration): bytes the guest wrote into
// its own RAM. Lists in it are bounded and dense before they are walked: V8's deserializer
// builds a sparse array of length 2^32-1 from a few bytes, which a walk of every index (every(),
// for-of) takes minutes over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serialize } from 'node:v8';
import { MAX_SUSPEND_STACKS, SUSPEND_RECORD_VERSION, decodeSuspendRecord, encodeSuspendRecord, type SuspendRecord } from '../../../src/abi/suspend.js';
import { isXenError } from '../../../src/errors.js';

const FIRST = 16;
const HWM = 1000;

function sparse(length: number, at: Record<number, unknown> = {}): unknown[] {
  const a: unknown[] = [];
  a.length = length;
  for (const [i, v] of Object.entries(at)) a[Number(i)] = v;
  return a;
}

function refused(message: RegExp) {
  return (e: Error) => {
    assert.ok(isXenError(e), `not a XenError: ${e.name}: ${e.message}`);
    assert.equal(e.errno, 'EINVAL', e.message);
    assert.match(e.message, message);
    return true;
  };
}

const decode = (r: object) => () => decodeSuspendRecord(serialize({ version: SUSPEND_RECORD_VERSION, hasState: false, io: [], ...r }), FIRST, HWM);

test('a record as the guest writes it decodes', () => {
  const r: SuspendRecord = { version: SUSPEND_RECORD_VERSION, hasState: true, state: { a: [1, 2] }, io: [[FIRST, 4], [100, 1]] as const, tcpip: [{ devid: 0, state: 'x' }, { devid: undefined, state: 1, defaults: true }] };
  assert.deepEqual(decodeSuspendRecord(encodeSuspendRecord(r), FIRST, HWM), r);
});

test('lists with holes are refused before they are walked: TCP/IP stacks, I/O pages, an I/O range', () => {
  // Within the bounds, holes only: refused by the index check.
  assert.throws(decode({ tcpip: sparse(3, { 0: { devid: 0 } }) }), refused(/TCP\/IP stacks: a hole at index 1/));
  assert.throws(decode({ io: sparse(2, { 0: [FIRST, 1] }) }), refused(/I\/O pages: a hole at index 1/));
  assert.throws(decode({ io: [sparse(2, { 1: 1 })] }), refused(/I\/O range 0: a hole at index 0/));
  // Beyond them (a few bytes each): refused by the length, with no walk.
  assert.throws(decode({ tcpip: sparse(2 ** 32 - 1) }), refused(/TCP\/IP stacks: not a list of at most 256/));
  assert.throws(decode({ io: sparse(2 ** 32 - 1) }), refused(/I\/O pages: not a list of at most 984/));
  assert.throws(decode({ io: [sparse(2 ** 32 - 1)] }), refused(/I\/O range 0: not a list of at most 2/));
});

test('lists longer than a real record holds are refused: stacks past one per device, ranges past one per RAM frame, a range of three', () => {
  const stacks = Array.from({ length: MAX_SUSPEND_STACKS + 1 }, (_, i) => ({ devid: i, state: 0 }));
  assert.doesNotThrow(decode({ tcpip: stacks.slice(0, MAX_SUSPEND_STACKS) }));
  assert.throws(decode({ tcpip: stacks }), refused(/TCP\/IP stacks: not a list of at most 256/));
  const ranges = Array.from({ length: HWM - FIRST + 1 }, () => [FIRST, 1]);
  assert.doesNotThrow(decode({ io: ranges.slice(1) }));
  assert.throws(decode({ io: ranges }), refused(/I\/O pages: not a list of at most 984/));
  assert.throws(decode({ io: [[FIRST, 1, 0]] }), refused(/I\/O range 0: not a list of at most 2/));
  assert.throws(decode({ io: [[FIRST]] }), refused(/I\/O pages outside RAM frames/));
});
