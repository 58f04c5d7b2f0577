// The shared ring of xen/io/ring.h: geometry, uint32 index arithmetic across 2^32, the bound on a
// hostile req_prod, notify hold-off and copy-out. (Bit-for-bit agreement with the C macros is
// test/interop/abi-conformance.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackRing, FrontRing, SRING_RING, ringSize, sharedRingInit } from '../../../src/abi/ring.js';
import { BLKIF_SLOT_SIZE } from '../../../src/abi/blkif.js';
import { NETIF_RX_SLOT_SIZE, NETIF_TX_SLOT_SIZE } from '../../../src/abi/netif.js';
import { PAGE_SIZE } from '../../../src/abi/xen.js';
import { isXenError } from '../../../src/errors.js';
const SLOT = 16;
function ringMemory(pages = 1) {
    return new Uint8Array(new SharedArrayBuffer(PAGE_SIZE * pages));
}
/** A front and a back over one fresh page, both at index `start`, as if the ring had run that far. */
function pair(start = 0, slot = SLOT) {
    const mem = ringMemory();
    sharedRingInit(mem);
    const header = new Int32Array(mem.buffer, 0, 4);
    // Where SHARED_RING_INIT plus `start` messages each way would have left the header.
    Atomics.store(header, 0, start | 0);
    Atomics.store(header, 1, (start + 1) | 0);
    Atomics.store(header, 2, start | 0);
    Atomics.store(header, 3, (start + 1) | 0);
    return { mem, front: new FrontRing(mem, slot, start), back: new BackRing(mem, slot, start), header };
}
function produce(front, n) {
    for (let i = 0; i < n; i++) {
        front.view.setUint32(front.slotOffset(front.reqProdPvt), front.reqProdPvt, true);
        front.reqProdPvt++;
    }
}
function respond(back, n) {
    for (let i = 0; i < n; i++) {
        back.view.setUint32(back.slotOffset(back.rspProdPvt), back.rspProdPvt ^ 0xffffffff, true);
        back.rspProdPvt++;
    }
}
test('ringSize: __RING_SIZE rounded down to a power of two, for 1, 2 and 4 pages and each slot size', () => {
    const cases = [
        [BLKIF_SLOT_SIZE, [32, 64, 128]], // 36, 72, 145 slots fit
        [NETIF_TX_SLOT_SIZE, [256, 512, 1024]], // 336, 677, 1360
        [NETIF_RX_SLOT_SIZE, [256, 512, 1024]], // 504, 1016, 2040
        [20, [128, 256, 512]], // 201, 406, 816
        [64, [32, 64, 128]], // 63, 127, 255: one short of the next power
        [63, [64, 128, 256]], // 64, 129, 259
    ];
    for (const [slot, sizes] of cases) {
        assert.deepEqual([1, 2, 4].map((pages) => ringSize(pages * PAGE_SIZE, slot)), sizes, `slot size ${slot}`);
    }
    assert.equal(ringSize(SRING_RING + 16, 16), 1);
    assert.equal(ringSize(SRING_RING + 15, 16), 0);
    assert.equal(ringSize(10, 16), 0);
    for (const [bytes, slot] of [[4096, 0], [4096, 1.5], [-1, 8], [4096.5, 8]]) {
        assert.throws(() => ringSize(bytes, slot), (e) => isXenError(e, 'EINVAL'));
    }
});
test('sharedRingInit: empty ring, events at 1, pvt and padding zeroed, slots untouched', () => {
    const mem = ringMemory();
    mem.fill(0xee);
    sharedRingInit(mem);
    const dv = new DataView(mem.buffer);
    assert.deepEqual([0, 4, 8, 12].map((o) => dv.getUint32(o, true)), [0, 1, 0, 1]);
    assert.ok(mem.subarray(16, SRING_RING).every((b) => b === 0));
    assert.ok(mem.subarray(SRING_RING).every((b) => b === 0xee));
});
test('ring memory must be aligned and hold a slot', () => {
    const mem = ringMemory();
    assert.throws(() => new FrontRing(mem.subarray(2), SLOT), (e) => isXenError(e, 'EINVAL'));
    assert.throws(() => new BackRing(mem.subarray(0, 70), SLOT), (e) => isXenError(e, 'EINVAL'));
    assert.throws(() => new FrontRing(mem, SLOT, 2 ** 32), (e) => isXenError(e, 'EINVAL'));
    assert.throws(() => new BackRing(mem, SLOT, -1), (e) => isXenError(e, 'EINVAL'));
    assert.throws(() => sharedRingInit(mem.subarray(0, 32)), (e) => isXenError(e, 'EINVAL'));
    const r = new FrontRing(mem.subarray(PAGE_SIZE / 2), SLOT);
    assert.equal(r.nrEnts, 64); // (2048 - 64) / 16 = 124 -> 64
});
test('slots are masked: index i and i + k * nrEnts share a slot, up to 2^32 - 1', () => {
    const { front } = pair();
    assert.equal(front.nrEnts, 128);
    assert.equal(front.slotOffset(0), SRING_RING);
    assert.equal(front.slotOffset(127), SRING_RING + 127 * SLOT);
    assert.equal(front.slotOffset(128), SRING_RING);
    assert.equal(front.slotOffset(0xffffffff), SRING_RING + 127 * SLOT);
    assert.equal(front.slot(0xffffff85).byteOffset, front.slotOffset(5));
    assert.equal(front.slot(5).length, SLOT);
});
test('private indices wrap at 2^32 like RING_IDX', () => {
    const { front, back } = pair(0xffffffff);
    front.reqProdPvt++;
    assert.equal(front.reqProdPvt, 0);
    front.rspCons = 2 ** 32 + 7;
    assert.equal(front.rspCons, 7);
    back.reqCons += 3;
    assert.equal(back.reqCons, 2);
    back.rspProdPvt = -1;
    assert.equal(back.rspProdPvt, 0xffffffff);
});
test('a request/response round trip across the 2^32 wrap', () => {
    const start = 0xfffffff8;
    const { front, back } = pair(start);
    assert.equal(front.freeRequests(), 128);
    produce(front, 20); // indices 0xfffffff8 .. 0x0000000b
    assert.equal(front.reqProdPvt, 12);
    assert.equal(front.freeRequests(), 108);
    assert.equal(back.hasUnconsumedRequests(), 0, 'nothing is visible before the push');
    assert.equal(front.pushRequestsAndCheckNotify(), true, 'req_event = start + 1 lies in (old, new]');
    assert.equal(back.reqProd, 12);
    assert.equal(back.hasUnconsumedRequests(), 20);
    const copy = new Uint8Array(SLOT);
    const seen = [];
    while (back.hasUnconsumedRequests()) {
        back.copyRequest(back.reqCons, copy);
        seen.push(new DataView(copy.buffer).getUint32(0, true));
        back.reqCons++;
    }
    assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => (start + i) >>> 0));
    assert.equal(back.finalCheckForRequests(), false);
    assert.equal(back.reqEvent, 13);
    respond(back, 20);
    assert.equal(back.pushResponsesAndCheckNotify(), true);
    assert.equal(front.hasUnconsumedResponses(), 20);
    front.rspCons += 20;
    assert.equal(front.finalCheckForResponses(), false);
    assert.equal(front.rspEvent, 13);
    assert.equal(front.freeRequests(), 128);
});
test('freeRequests and full', () => {
    const { front, back } = pair(0xffffffc0);
    produce(front, 128);
    assert.equal(front.freeRequests(), 0);
    assert.ok(front.full());
    front.pushRequests();
    back.reqCons += 128;
    respond(back, 1);
    back.pushResponses();
    front.rspCons++;
    assert.equal(front.freeRequests(), 1);
    assert.ok(!front.full());
});
test('a hostile req_prod far beyond the ring never yields more than the free slots', () => {
    const { back, header } = pair(100);
    Atomics.store(header, 0, 100 + 1_000_000);
    assert.equal(back.hasUnconsumedRequests(), 128);
    assert.ok(back.requestProdOverflow(back.reqProd));
    assert.ok(!back.requestProdOverflow(100 + 128));
    let consumed = 0;
    while (back.hasUnconsumedRequests() && consumed < 10_000) {
        back.reqCons++;
        consumed++;
    }
    assert.equal(consumed, 128, 'consumption stops once every slot awaits a response');
    assert.ok(back.requestConsOverflow(back.reqCons));
    assert.equal(back.finalCheckForRequests(), false);
    respond(back, 5);
    assert.equal(back.hasUnconsumedRequests(), 5);
    // A req_prod behind req_cons is a huge uint32 distance: still bounded.
    Atomics.store(header, 0, 3);
    assert.equal(back.hasUnconsumedRequests(), 5);
    Atomics.store(header, 0, 0xffffffff | 0);
    assert.equal(back.hasUnconsumedRequests(), 5);
});
test('a hostile rsp_prod is detectable on the front', () => {
    const { front, header } = pair(0xfffffff0);
    produce(front, 4);
    front.pushRequests();
    Atomics.store(header, 2, (0xfffffff0 + 500) | 0);
    assert.ok(front.responseProdOverflow(front.rspProd));
    assert.ok(!front.responseProdOverflow((0xfffffff0 + 128) >>> 0));
});
test('notify hold-off: a front that asks to be woken after 4 responses', () => {
    const { front, back } = pair(0xfffffffe);
    produce(front, 8);
    assert.equal(front.pushRequestsAndCheckNotify(), true);
    back.reqCons += 8;
    assert.equal(front.finalCheckForResponses(4), false);
    assert.equal(front.rspEvent, 2); // 0xfffffffe + 4, wrapped
    respond(back, 3);
    assert.equal(back.pushResponsesAndCheckNotify(), false, 'three responses: not yet');
    respond(back, 1);
    assert.equal(back.pushResponsesAndCheckNotify(), true, 'the fourth crosses rsp_event');
    respond(back, 4);
    assert.equal(back.pushResponsesAndCheckNotify(), false, 'the front has not re-armed');
    assert.equal(back.pushResponsesAndCheckNotify(), false, 'an empty push never notifies');
    assert.equal(front.finalCheckForResponses(), true, 'responses are waiting: no re-arm');
    assert.equal(front.rspEvent, 2);
    assert.throws(() => front.finalCheckForResponses(0), (e) => isXenError(e, 'EINVAL'));
    assert.throws(() => back.finalCheckForRequests(129), (e) => isXenError(e, 'EINVAL'));
});
test('notify hold-off: the back keeps req_event where it last went idle', () => {
    const { front, back } = pair();
    produce(front, 1);
    assert.equal(front.pushRequestsAndCheckNotify(), true);
    produce(front, 1);
    assert.equal(front.pushRequestsAndCheckNotify(), false, 'the back has not gone idle since');
    back.reqCons += 2;
    assert.equal(back.finalCheckForRequests(), false);
    produce(front, 3);
    assert.equal(front.pushRequestsAndCheckNotify(), true);
});
test('finalCheck closes the race with a push that lands after the first look', () => {
    const { front, back } = pair();
    assert.equal(back.finalCheckForRequests(), false);
    produce(front, 1);
    front.pushRequests(); // published without looking at req_event
    assert.equal(back.finalCheckForRequests(), true);
});
test('copyRequest takes one snapshot: later writes to the slot do not reach the copy', () => {
    const { front, back } = pair();
    front.slot(0).fill(0x11);
    front.reqProdPvt++;
    front.pushRequests();
    const copy = new Uint8Array(SLOT + 4).fill(0x77);
    back.copyRequest(0, copy);
    front.slot(0).fill(0x22); // the frontend rewrites the slot after the backend read it
    assert.deepEqual([...copy], [...new Array(SLOT).fill(0x11), 0x77, 0x77, 0x77, 0x77]);
    assert.throws(() => back.copyRequest(0, new Uint8Array(SLOT - 1)), (e) => isXenError(e, 'EINVAL'));
    const rsp = new Uint8Array(SLOT);
    front.copyResponse(0, rsp);
    assert.ok(rsp.every((b) => b === 0x22));
});
test('multi-page rings address slots past the first page', () => {
    const mem = ringMemory(4);
    const front = FrontRing.create(mem, BLKIF_SLOT_SIZE);
    const back = new BackRing(mem, BLKIF_SLOT_SIZE);
    assert.equal(front.nrEnts, 128);
    assert.equal(back.slotOffset(127), SRING_RING + 127 * BLKIF_SLOT_SIZE);
    assert.ok(back.slotOffset(127) + BLKIF_SLOT_SIZE <= mem.length);
    assert.ok(back.slotOffset(127) > 3 * PAGE_SIZE);
});
//# sourceMappingURL=ring.test.js.map