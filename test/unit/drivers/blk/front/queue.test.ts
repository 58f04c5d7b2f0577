// blkfront's ring against a hostile backend: a response is believed only if its id is a
// request in flight (a slot number: the high word of the 64-bit id must be 0) and rsp_prod
// stays within the ring. Anything else is EIO, and no shadow is handed out twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_READ, BLKIF_SLOT_SIZE, decodeBlkifRequest, encodeBlkifResponse } from '../../../../../src/abi/blkif.js';
import { BackRing } from '../../../../../src/abi/ring.js';
import { FrontQueue } from '../../../../../src/drivers/blk/front/queue.js';
import { eventChannels } from '../../../../../src/drivers/evtchn.js';
import { isXenError } from '../../../../../src/errors.js';
import { harness } from '../../../../support/hypervisor.js';

/** A guest's queue with `n` flushes posted, and a backend's view of the same ring. */
async function setup(t: import('node:test').TestContext, n: number) {
  const h = harness(t);
  const g = h.local({ ramFrames: 32 });
  const q = await FrontQueue.create(g.hc, (d) => eventChannels(g.hc, g.events.loop).allocUnbound(d), 0, 0, () => ({ name: '' }));
  const back = new BackRing(q.granted.bytes, BLKIF_SLOT_SIZE);
  const ids: bigint[] = [];
  for (let i = 0; i < n; i++) {
    q.next.name = `req${i}`;
    q.post({ kind: 'segments', operation: BLKIF_OP_FLUSH_DISKCACHE, nrSegments: 0, handle: 0, id: 0n, sectorNumber: 0, seg: [] });
  }
  q.flush();
  for (let i = 0; i < n; i++) ids.push(decodeBlkifRequest(back.view, back.slotOffset(i)).id);
  /** Publish one response as a backend would, whatever its fields. */
  const respond = (id: bigint, operation = BLKIF_OP_FLUSH_DISKCACHE, status = 0) => {
    encodeBlkifResponse(back.view, back.slotOffset(back.rspProdPvt), { id, operation, status });
    back.rspProdPvt++;
    back.pushResponses();
  };
  const answered: [string, number, number][] = [];
  const poll = () => q.poll((s, op, status) => answered.push([s.name, op, status]));
  return { q, back, ids, respond, answered, poll };
}

const eio = (what: RegExp) => (e: unknown) => isXenError(e, 'EIO') && what.test((e as Error).message);

test('a response to a request in flight hands back its shadow, operation and status', async (t) => {
  const { ids, respond, answered, poll, q } = await setup(t, 3);
  respond(ids[1]!, BLKIF_OP_FLUSH_DISKCACHE, -2);
  respond(ids[0]!);
  poll();
  assert.deepEqual(answered, [['req1', BLKIF_OP_FLUSH_DISKCACHE, -2], ['req0', BLKIF_OP_FLUSH_DISKCACHE, 0]]);
  assert.equal(q.inFlight, 1);
});

test('hostile response ids are EIO: not issued, beyond the ring, high word set, answered twice', async (t) => {
  for (const bad of [
    (ids: bigint[]) => ids[0]! | (1n << 32n), // a slot number in the low word, but not an id we issued
    () => 0xffffffffffffffffn,
    () => 31n, // a slot of the ring with no request in it
    () => 32n, // past the 32 slots of a one-page ring
  ]) {
    const { ids, respond, answered, poll, q } = await setup(t, 2);
    respond(bad(ids));
    assert.throws(poll, eio(/backend answered request id \d+, which is not in flight/));
    assert.deepEqual(answered, []);
    assert.equal(q.inFlight, 2, 'nothing was taken out of flight');
  }
  const { ids, respond, answered, poll } = await setup(t, 2);
  respond(ids[0]!);
  respond(ids[0]!, BLKIF_OP_READ);
  assert.throws(poll, eio(/not in flight/));
  assert.deepEqual(answered, [['req0', BLKIF_OP_FLUSH_DISKCACHE, 0]], 'the first answer counts, the second does not');
});

test('an rsp_prod beyond what the ring can hold is EIO before any slot is read', async (t) => {
  const { back, ids, answered, poll } = await setup(t, 1);
  encodeBlkifResponse(back.view, back.slotOffset(0), { id: ids[0]!, operation: BLKIF_OP_FLUSH_DISKCACHE, status: 0 });
  back.rspProdPvt = back.nrEnts + 1;
  back.pushResponses();
  assert.throws(poll, eio(/rsp_prod 33, beyond the ring/));
  assert.deepEqual(answered, []);
});

test('fuzz: random response slots and rsp_prod give EIO or answers, never another error nor a shadow twice', async (t) => {
  let seed = 0x5eed;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let round = 0; round < 200; round++) {
    const { back, ids, answered, poll } = await setup(t, 1 + Math.floor(rnd() * 31));
    const slots = 1 + Math.floor(rnd() * 40);
    for (let i = 0; i < slots; i++) {
      // A real id, a near miss or garbage, in any slot the backend fills.
      const pick = rnd();
      const id = pick < 0.5 ? ids[Math.floor(rnd() * ids.length)]! : pick < 0.8 ? BigInt(Math.floor(rnd() * 64)) : BigInt(Math.floor(rnd() * 2 ** 32)) << 32n;
      encodeBlkifResponse(back.view, back.slotOffset(i), { id, operation: Math.floor(rnd() * 256), status: Math.floor(rnd() * 65536) - 32768 });
    }
    back.rspProdPvt = slots;
    back.pushResponses();
    try {
      poll();
    } catch (e) {
      assert.ok(isXenError(e, 'EIO'), `round ${round}: ${String(e)}`);
    }
    const shadows = answered.map(([s]) => s);
    assert.equal(new Set(shadows).size, shadows.length, `round ${round}: a shadow was handed out twice`);
  }
});

test("each slot's shadow is made once: an answered slot's shadow is the next one posted, and taking what is in flight frees the slots", async (t) => {
  const { ids, respond, poll, q } = await setup(t, 3);
  const answered: { name: string }[] = [];
  respond(ids[1]!);
  q.poll((s) => answered.push(s));
  assert.equal(q.next, answered[0], 'the slot just freed is taken first, with the same shadow');
  const taken = q.takeInFlight().map((s) => s.name);
  assert.deepEqual(taken.sort(), ['req0', 'req2']);
  assert.equal(q.inFlight, 0);
  assert.deepEqual(q.takeInFlight(), [], 'nothing is taken twice');
  respond(ids[0]!);
  assert.throws(poll, eio(/not in flight/), 'a slot taken out of flight cannot be answered');
});
