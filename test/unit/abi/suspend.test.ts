// The suspend record as dom0 reads it (every restore and migration): bytes the guest wrote into
// its own RAM. Lists in it are bounded and dense before they are walked: V8's deserializer
// builds a sparse array of length 2^32-1 from a few bytes, which a walk of every index (every(),
// for-of) takes minutes over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serialize } from 'node:v8';
import { MAX_SUSPEND_STACKS, SUSPEND_RECORD_VERSION, decodeSuspendRecord, encodeSuspendRecord, ioRangesHold, type SuspendRecord } from '../../../src/abi/suspend.js';
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
  assert.throws(decode({ tcpip: sparse(2 ** 32 - 1) }), refused(/TCP\/IP stacks: not a list of at most 257/));
  assert.throws(decode({ io: sparse(2 ** 32 - 1) }), refused(/I\/O pages: not a list of at most 984/));
  assert.throws(decode({ io: [sparse(2 ** 32 - 1)] }), refused(/I\/O range 0: not a list of at most 2/));
});

test('lists longer than a real record holds are refused: stacks past one per device, ranges past one per RAM frame, a range of three', () => {
  // 256 vifs: os.net() without a devid keys the first as undefined, apart from devid 0.
  const stacks = [{ devid: undefined, state: 0 }, ...Array.from({ length: 256 }, (_, i) => ({ devid: i, state: 0 }))];
  assert.equal(stacks.length, MAX_SUSPEND_STACKS);
  assert.doesNotThrow(decode({ tcpip: stacks }));
  assert.throws(decode({ tcpip: [...stacks, { devid: 256, state: 0 }] }), refused(/TCP\/IP stacks: not a list of at most 257/));
  const ranges = Array.from({ length: HWM - FIRST }, (_, i) => [FIRST + i, 1]);
  assert.doesNotThrow(decode({ io: ranges }));
  assert.throws(decode({ io: [...ranges, [HWM - 1, 1]] }), refused(/I\/O pages: not a list of at most 984/));
  assert.throws(decode({ io: [[FIRST, 1, 0]] }), refused(/I\/O range 0: not a list of at most 2/));
  assert.throws(decode({ io: [[FIRST]] }), refused(/I\/O pages outside RAM frames/));
});

test('I/O ranges out of order or overlapping are refused: dom0 finds a frame among them by binary search', () => {
  assert.throws(decode({ io: [[100, 1], [FIRST, 4]] }), refused(/I\/O range 1 begins at 16, before the end of the one before it \(101\): ranges must be in order and disjoint/));
  assert.throws(decode({ io: [[FIRST, 4], [FIRST + 3, 1]] }), refused(/I\/O range 1 begins at 19, before the end of the one before it \(20\)/));
  // The hostile record of a range [first, 1] per RAM frame: before, dom0 walked every range for each frame it asked about.
  assert.throws(decode({ io: Array.from({ length: HWM - FIRST }, () => [FIRST, 1]) }), refused(/I\/O range 1 begins at 16/));
  assert.doesNotThrow(decode({ io: [[FIRST, 4], [FIRST + 4, 1]] }));
});

test('a lookup among I/O ranges reads a logarithmic number of them, not all', () => {
  const n = 100_000;
  const ranges = Array.from({ length: n }, (_, i) => [FIRST + 2 * i, 1] as const);
  let reads = 0;
  const io = new Proxy(ranges, { get: (t, k, r) => (typeof k === 'string' && /^\d+$/.test(k) && reads++, Reflect.get(t, k, r)) });
  for (let pfn = FIRST - 1; pfn < FIRST + 2 * n + 1; pfn += 997) assert.equal(ioRangesHold(io, pfn), pfn >= FIRST && (pfn - FIRST) % 2 === 0, `frame ${pfn}`);
  const lookups = Math.ceil((2 * n + 2) / 997);
  assert.ok(reads <= lookups * 18, `${reads} reads for ${lookups} lookups among ${n} ranges`);
});
