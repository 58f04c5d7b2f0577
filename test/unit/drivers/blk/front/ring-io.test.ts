// blkfront's ring work as a shared pCPU runs it for its realms (ring-io.ts): every argument may be
// the guest's forgery and the ring is the guest's and the backend's to rewrite, so a push writes
// only into the ring it names, which must lie in the domain's memory, a poll reads at most a
// ring's worth, and neither throws nor loops on any input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_SLOT_SIZE, decodeBlkifRequest, encodeBlkifResponse,
} from '../../../../../src/abi/blkif.js';
import { BackRing, FrontRing, SRING_RING } from '../../../../../src/abi/ring.js';
import { PAGE_SIZE } from '../../../../../src/abi/xen.js';
import {
  MAX_RING_SLOTS, POLL_BAD_ID, POLL_COUNT, POLL_MORE, POLL_OVERFLOW, POLL_RECORD, PUSH_NOTIFY, PUSH_RESPONSES, pollResponses, pushStaged, RING_BAD,
  ringMemory, STAGE_HANDLE, STAGE_ID, STAGE_INDEX, STAGE_NSEG, STAGE_OP, STAGE_RECORD, STAGE_SECTOR, STAGE_SEGS,
} from '../../../../../src/drivers/blk/front/ring-io.js';

const PAGES = 16;
/** A domain's memory of 16 pages with a one-page ring of 32 slots at page 4, the rest a pattern. */
function domain() {
  const sab = new SharedArrayBuffer(PAGES * PAGE_SIZE);
  const bytes = new Uint8Array(sab);
  bytes.fill(0x5a);
  const ringOff = 4 * PAGE_SIZE;
  const front = FrontRing.create(bytes.subarray(ringOff, ringOff + PAGE_SIZE), BLKIF_SLOT_SIZE);
  const back = new BackRing(bytes.subarray(ringOff, ringOff + PAGE_SIZE), BLKIF_SLOT_SIZE);
  return { sab, bytes, mem: ringMemory(sab), ringOff, front, back, nrEnts: front.nrEnts };
}

/** Bytes outside [from, to) that are no longer the pattern. */
function touchedOutside(bytes: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if ((i < from || i >= to) && bytes[i] !== 0x5a) n++;
  return n;
}

function stage(staged: Float64Array, r: number, index: number, id: number, op: number, sector: number, segs: [number, number][]): void {
  const b = r * STAGE_RECORD;
  staged[b + STAGE_INDEX] = index;
  staged[b + STAGE_ID] = id;
  staged[b + STAGE_OP] = op;
  staged[b + STAGE_HANDLE] = 0x1234;
  staged[b + STAGE_SECTOR] = sector;
  staged[b + STAGE_NSEG] = segs.length;
  segs.forEach(([gref, last], i) => {
    staged[b + STAGE_SEGS + 2 * i] = gref;
    staged[b + STAGE_SEGS + 2 * i + 1] = last;
  });
}

test('a push encodes the staged reads and writes as blkif requests, publishes req_prod and says when to notify', () => {
  const { mem, ringOff, back, nrEnts } = domain();
  const staged = new Float64Array(nrEnts * STAGE_RECORD);
  stage(staged, 0, 0, 7, BLKIF_OP_READ, 2 ** 40 + 8, [[100, 7]]);
  stage(staged, 1, 1, 3, BLKIF_OP_WRITE, 16, [[101, 7], [102, 3]]);
  const flags = pushStaged(mem, ringOff, nrEnts, staged, 2, 2, 0);
  assert.equal(flags, PUSH_NOTIFY, 'req_event was 1: the backend is to be told; no response yet');
  assert.equal(back.reqProd, 2);
  const [a, b] = [decodeBlkifRequest(back.view, back.slotOffset(0)), decodeBlkifRequest(back.view, back.slotOffset(1))];
  assert.deepEqual(a, { kind: 'segments', operation: BLKIF_OP_READ, nrSegments: 1, handle: 0x1234, id: 7n, sectorNumber: 2 ** 40 + 8, seg: [{ gref: 100, firstSect: 0, lastSect: 7 }] });
  assert.deepEqual(b.kind === 'segments' && b.seg, [{ gref: 101, firstSect: 0, lastSect: 7 }, { gref: 102, firstSect: 0, lastSect: 3 }]);
  assert.equal(back.rspEvent, 1, 'woken when half of the 2 outstanding is answered');
  // The backend asks to be woken only past index 10: the next push does not notify.
  back.reqCons = 2;
  back.finalCheckForRequests(9);
  stage(staged, 0, 2, 4, BLKIF_OP_READ, 0, [[103, 7]]);
  assert.equal(pushStaged(mem, ringOff, nrEnts, staged, 1, 3, 0), 0);
  encodeBlkifResponse(back.view, back.slotOffset(0), { id: 7n, operation: BLKIF_OP_READ, status: 0 });
  back.rspProdPvt = 1;
  back.pushResponses();
  assert.equal(pushStaged(mem, ringOff, nrEnts, staged, 0, 3, 0), PUSH_RESPONSES, 'a response waits');
});

test('a ring outside the domain\'s memory, unaligned, or of a size no blkfront ring has, and counts past the ring or the array, are RING_BAD: nothing is written', () => {
  const { bytes, mem, ringOff, nrEnts } = domain();
  const before = bytes.slice();
  const staged = new Float64Array(MAX_RING_SLOTS * STAGE_RECORD).fill(1);
  const out = new Int32Array(3 * MAX_RING_SLOTS);
  const bad: [number, number, number][] = [
    [(PAGES - 1) * PAGE_SIZE, 512, 1], // 16 pages of slots from the last page
    [PAGES * PAGE_SIZE, 32, 1], [-PAGE_SIZE, 32, 1], [ringOff + 8, 32, 1], [ringOff + 0.5, 32, 1], [NaN, 32, 1], [Infinity, 32, 1], [2 ** 60, 32, 1],
    [ringOff, 0, 0], [ringOff, 3, 1], [ringOff, 24, 1], [ringOff, 1024, 1], [ringOff, 2 ** 31, 1], [ringOff, -32, 1], [ringOff, NaN, 1],
    [ringOff, nrEnts, nrEnts + 1], [ringOff, nrEnts, -1], [ringOff, nrEnts, 1.5], [ringOff, nrEnts, NaN],
  ];
  for (const [off, ents, n] of bad) {
    assert.equal(pushStaged(mem, off, ents, staged, n, 5, 0), RING_BAD, `push ${off} ${ents} ${n}`);
    if (n === 1) assert.equal(pollResponses(mem, off, ents, 0, out), RING_BAD, `poll ${off} ${ents}`);
  }
  assert.equal(pushStaged(mem, ringOff, nrEnts, new Float64Array(STAGE_RECORD), 2, 2, 0), RING_BAD, 'two records from an array of one');
  assert.deepEqual(bytes, before);
});

test('fuzz: a push of any numbers writes only into its ring, and never throws', () => {
  const { bytes, mem, ringOff, nrEnts } = domain();
  const ringEnd = ringOff + SRING_RING + nrEnts * BLKIF_SLOT_SIZE;
  const odd = [NaN, Infinity, -Infinity, -1, -0.5, 2 ** 32, 2 ** 53, -(2 ** 53), 255, 256, 65536, 1e300, 31, 32, 11, 12];
  let seed = 0xb1c;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const any = () => (rnd() < 0.5 ? odd[Math.floor(rnd() * odd.length)]! : (rnd() - 0.5) * 2 ** (Math.floor(rnd() * 70)));
  const staged = new Float64Array(nrEnts * STAGE_RECORD);
  for (let round = 0; round < 2000; round++) {
    for (let i = 0; i < staged.length; i++) staged[i] = any();
    // The last slot with the most segments a field can claim: a naive encoder ran past the ring.
    staged[STAGE_INDEX] = nrEnts - 1;
    staged[STAGE_NSEG] = 255;
    const n = rnd() < 0.8 ? Math.floor(rnd() * (nrEnts + 1)) : any();
    const r = pushStaged(mem, ringOff, nrEnts, staged, n, any(), any());
    assert.ok(r === RING_BAD || (r >= 0 && r <= (PUSH_NOTIFY | PUSH_RESPONSES)), String(r));
  }
  assert.equal(touchedOutside(bytes, ringOff, ringEnd), 0);
});

test('a poll hands back responses as they came, and arms rsp_event for half of what is still outstanding', () => {
  const { mem, ringOff, back, nrEnts } = domain();
  const respond = (id: bigint, status = 0) => {
    encodeBlkifResponse(back.view, back.slotOffset(back.rspProdPvt), { id, operation: BLKIF_OP_READ, status });
    back.rspProdPvt++;
  };
  Atomics.store(new Int32Array(mem.words.buffer, ringOff, 1), 0, 10); // req_prod: 10 published
  respond(5n);
  respond(2n, -1);
  back.pushResponses();
  const out = new Int32Array(POLL_RECORD * nrEnts);
  assert.equal(pollResponses(mem, ringOff, nrEnts, 0, out), 2);
  assert.deepEqual([...out.subarray(0, 6)], [5, BLKIF_OP_READ, 0, 2, BLKIF_OP_READ, -1]);
  assert.equal(back.rspEvent, 2 + 4, 'woken after half of the 8 outstanding');
  // An array of one record takes one response at a time.
  respond(1n);
  respond(3n);
  back.pushResponses();
  assert.equal(pollResponses(mem, ringOff, nrEnts, 2, new Int32Array(POLL_RECORD)), 1 | POLL_MORE);
  assert.equal(pollResponses(mem, ringOff, nrEnts, 2, new Int32Array(2)), 0 | POLL_MORE, 'no room for one: nothing read');
});

test('forged responses: an rsp_prod beyond the ring, an id that is no slot, are refused before anything is read; the good ones before a bad id come first', () => {
  const { mem, ringOff, back, nrEnts } = domain();
  const out = new Int32Array(POLL_RECORD * nrEnts).fill(-7);
  back.rspProdPvt = nrEnts + 1;
  back.pushResponses();
  assert.equal(pollResponses(mem, ringOff, nrEnts, 0, out), POLL_OVERFLOW);
  assert.equal(out[0], nrEnts + 1, 'the rsp_prod, for the error');
  assert.equal(out[1], -7, 'no response read');
  for (const [id, words] of [[1n << 32n, [0, 1]], [BigInt(nrEnts), [nrEnts, 0]], [2n ** 64n - 1n, [-1, -1]]] as const) {
    const d = domain();
    encodeBlkifResponse(d.back.view, d.back.slotOffset(0), { id: 4n, operation: BLKIF_OP_READ, status: 0 });
    encodeBlkifResponse(d.back.view, d.back.slotOffset(1), { id, operation: BLKIF_OP_READ, status: 0 });
    d.back.rspProdPvt = 2;
    d.back.pushResponses();
    const o = new Int32Array(POLL_RECORD * d.nrEnts);
    assert.equal(pollResponses(d.mem, d.ringOff, d.nrEnts, 0, o), 1 | POLL_MORE, 'the good one first');
    assert.equal(o[0], 4);
    assert.equal(pollResponses(d.mem, d.ringOff, d.nrEnts, 1, o), POLL_BAD_ID);
    assert.deepEqual([o[0], o[1]], words);
  }
});

test('a backend that keeps publishing, or takes rsp_prod back, and a caller that polls in a loop with any numbers: each poll reads at most a ring, writes only its array, never throws', () => {
  const { bytes, mem, ringOff, back, nrEnts } = domain();
  const ringEnd = ringOff + SRING_RING + nrEnts * BLKIF_SLOT_SIZE;
  for (let i = 0; i < nrEnts; i++) encodeBlkifResponse(back.view, back.slotOffset(i), { id: BigInt(i), operation: BLKIF_OP_READ, status: 0 });
  const huge = new Int32Array(POLL_RECORD * 100_000);
  let cons = 0;
  for (let round = 0; round < 200; round++) {
    // A whole ring ahead each time: the most a well-behaved backend can be.
    back.rspProdPvt = cons + nrEnts;
    back.pushResponses();
    const r = pollResponses(mem, ringOff, nrEnts, cons, huge);
    assert.ok(r >= 0 && (r & POLL_COUNT) <= nrEnts, String(r));
    cons = (cons + (r & POLL_COUNT)) >>> 0;
  }
  let seed = 0x5eed;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const small = new Int32Array(POLL_RECORD * 4);
  for (let round = 0; round < 5000; round++) {
    // The ring's header and slots scribbled as the guest or the backend may.
    new DataView(bytes.buffer).setUint32(ringOff + Math.floor(rnd() * (ringEnd - ringOff - 4)), Math.floor(rnd() * 2 ** 32), true);
    const r = pollResponses(mem, rnd() < 0.9 ? ringOff : Math.floor(rnd() * 2 ** 20), rnd() < 0.9 ? nrEnts : Math.floor(rnd() * 100), Math.floor(rnd() * 2 ** 32), rnd() < 0.5 ? small : huge);
    assert.ok(r === POLL_OVERFLOW || r === POLL_BAD_ID || r === RING_BAD || (r >= 0 && (r & POLL_COUNT) <= nrEnts), String(r));
  }
  assert.equal(touchedOutside(bytes, ringOff, ringEnd), 0);
});

test('a ring at byte 2^31 or beyond (a domain\'s memory may be up to 2^32 bytes) is pushed and polled where it is', () => {
  // The pages of a SharedArrayBuffer are only touched where written: 2 GiB of address space, 3 pages of memory.
  const sab = new SharedArrayBuffer(2 ** 31 + 3 * PAGE_SIZE);
  for (const ringOff of [2 ** 31, 2 ** 31 + 2 * PAGE_SIZE]) {
    const bytes = new Uint8Array(sab, ringOff, PAGE_SIZE);
    const front = FrontRing.create(bytes, BLKIF_SLOT_SIZE);
    const back = new BackRing(bytes, BLKIF_SLOT_SIZE);
    const mem = ringMemory(sab);
    const staged = new Float64Array(STAGE_RECORD);
    stage(staged, 0, 0, 5, BLKIF_OP_WRITE, 8, [[77, 7]]);
    assert.equal(pushStaged(mem, ringOff, front.nrEnts, staged, 1, 1, 0), PUSH_NOTIFY);
    assert.equal(back.reqProd, 1, 'req_prod published in this ring, not below 2^31');
    assert.equal(back.rspEvent, 1);
    const req = decodeBlkifRequest(back.view, back.slotOffset(0));
    assert.equal(req.kind === 'segments' && req.seg[0]!.gref, 77);
    encodeBlkifResponse(back.view, back.slotOffset(0), { id: 5n, operation: BLKIF_OP_WRITE, status: 0 });
    back.rspProdPvt = 1;
    back.pushResponses();
    const out = new Int32Array(POLL_RECORD * front.nrEnts);
    assert.equal(pollResponses(mem, ringOff, front.nrEnts, 0, out), 1);
    assert.deepEqual([...out.subarray(0, POLL_RECORD)], [5, BLKIF_OP_WRITE, 0]);
  }
});
