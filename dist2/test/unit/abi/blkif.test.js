// blkif request/response encode/decode round trips, and what decoding a hostile slot yields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST, BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_OP_DISCARD, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_REQ_NR_SEGMENTS, BLKIF_REQ_SECTOR_NUMBER, BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, BLKIF_SEGS_PER_INDIRECT_FRAME, BLKIF_SLOT_SIZE, BLKIF_XS, blkifIndirectPages, blkifQueueKey, blkifRingRefKey, decodeBlkifRequest, decodeBlkifResponse, decodeBlkifSegment, encodeBlkifRequest, encodeBlkifResponse, encodeBlkifSegment, } from '../../../src/abi/blkif.js';
import { isXenError } from '../../../src/errors.js';
/** A slot at a non-zero offset of a shared buffer, as in a ring. */
function slot() {
    return { view: new DataView(new SharedArrayBuffer(4 * BLKIF_SLOT_SIZE)), off: 2 * BLKIF_SLOT_SIZE };
}
const requests = [
    {
        kind: 'segments', operation: BLKIF_OP_READ, nrSegments: 2, handle: 0x0301, id: 0xfedcba9876543210n,
        sectorNumber: 2 ** 53 - 1, seg: [{ gref: 0xffffffff, firstSect: 0, lastSect: 7 }, { gref: 8, firstSect: 3, lastSect: 4 }],
    },
    {
        kind: 'segments', operation: BLKIF_OP_WRITE, nrSegments: BLKIF_MAX_SEGMENTS_PER_REQUEST, handle: 0xffff, id: 0n,
        sectorNumber: 0,
        seg: Array.from({ length: BLKIF_MAX_SEGMENTS_PER_REQUEST }, (_, i) => ({ gref: 100 + i, firstSect: i % 8, lastSect: 7 })),
    },
    { kind: 'segments', operation: BLKIF_OP_FLUSH_DISKCACHE, nrSegments: 0, handle: 1, id: 42n, sectorNumber: 0, seg: [] },
    {
        kind: 'discard', operation: BLKIF_OP_DISCARD, flag: 1, handle: 2, id: 2n ** 64n - 1n, sectorNumber: 2 ** 40,
        nrSectors: 2 ** 33 + 5,
    },
    {
        kind: 'indirect', operation: BLKIF_OP_INDIRECT, indirectOp: BLKIF_OP_WRITE, nrSegments: 4096, id: 7n,
        sectorNumber: 123456789, handle: 0x0302,
        indirectGrefs: Array.from({ length: BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST }, (_, i) => 0x80000000 + i),
    },
];
test('each request layout round-trips through a ring slot', () => {
    for (const req of requests) {
        const { view, off } = slot();
        encodeBlkifRequest(view, off, req);
        assert.deepEqual(decodeBlkifRequest(view, off), req);
        // A backend that reads segments from its slot copy decodes everything else alike.
        assert.deepEqual(decodeBlkifRequest(view, off, false), req.kind === 'segments' ? { ...req, seg: [] } : req);
    }
});
test('responses round-trip, negative statuses included', () => {
    for (const rsp of [
        { id: 0xfeed000000000001n, operation: BLKIF_OP_WRITE, status: 0 },
        { id: 1n, operation: BLKIF_OP_DISCARD, status: BLKIF_RSP_EOPNOTSUPP },
        { id: 2n ** 63n, operation: BLKIF_OP_READ, status: BLKIF_RSP_ERROR },
    ]) {
        const { view, off } = slot();
        encodeBlkifResponse(view, off, rsp);
        assert.deepEqual(decodeBlkifResponse(view, off), rsp);
    }
});
test('indirect-page segments round-trip', () => {
    const view = new DataView(new ArrayBuffer(4096));
    const seg = { gref: 77, firstSect: 1, lastSect: 6 };
    encodeBlkifSegment(view, 4088, seg);
    assert.deepEqual(decodeBlkifSegment(view, 4088), seg);
    assert.equal(BLKIF_SEGS_PER_INDIRECT_FRAME, 512);
    assert.deepEqual([0, 1, 512, 513, 4096].map(blkifIndirectPages), [0, 1, 1, 2, 8]);
});
test('the decoded request is a copy: rewriting the slot afterwards changes nothing', () => {
    const { view, off } = slot();
    encodeBlkifRequest(view, off, requests[0]);
    const req = decodeBlkifRequest(view, off);
    new Uint8Array(view.buffer).fill(0xff);
    assert.deepEqual(req, requests[0]);
});
test('a hostile slot decodes to values the backend can reject, never beyond the slot', () => {
    const { view, off } = slot();
    encodeBlkifRequest(view, off, requests[1]);
    view.setUint8(off + BLKIF_REQ_NR_SEGMENTS, 200);
    view.setUint32(off + BLKIF_REQ_SECTOR_NUMBER + 4, 0xffffffff, true);
    const req = decodeBlkifRequest(view, off);
    assert.equal(req.kind, 'segments');
    if (req.kind !== 'segments')
        return;
    assert.equal(req.nrSegments, 200, 'the count is reported as found');
    assert.equal(req.seg.length, BLKIF_MAX_SEGMENTS_PER_REQUEST, 'but only the 11 segments of the slot are read');
    assert.ok(req.sectorNumber >= 2 ** 53 && !Number.isSafeInteger(req.sectorNumber), 'a u64 beyond 2^53 stays out of range');
    view.setUint8(off, 0xee); // an unknown operation decodes with the read/write layout
    assert.equal(decodeBlkifRequest(view, off).kind, 'segments');
});
test('encoders refuse values that do not fit their fields', () => {
    const { view, off } = slot();
    const base = requests[0];
    const indirect = requests[4];
    const bad = [
        { ...base, handle: 0x10000 },
        { ...base, operation: 256 },
        { ...base, id: -1n },
        { ...base, id: 2n ** 64n },
        { ...base, sectorNumber: 2 ** 53 },
        { ...base, sectorNumber: -1 },
        { ...base, nrSegments: 1, seg: [{ gref: 2 ** 32, firstSect: 0, lastSect: 7 }] },
        { ...base, nrSegments: 12, seg: new Array(12).fill({ gref: 1, firstSect: 0, lastSect: 7 }) },
        { ...indirect, nrSegments: 0x10000 },
        { ...indirect, indirectGrefs: new Array(9).fill(1) },
    ];
    for (const req of bad) {
        assert.throws(() => encodeBlkifRequest(view, off, req), (e) => isXenError(e, 'EINVAL'));
    }
    assert.throws(() => encodeBlkifResponse(view, off, { id: 1n, operation: 0, status: 0x8000 }), (e) => isXenError(e, 'EINVAL'));
});
test('xenstore keys', () => {
    assert.equal(BLKIF_XS.featurePersistent, 'feature-persistent');
    assert.equal(BLKIF_XS.featureMaxIndirectSegments, 'feature-max-indirect-segments');
    assert.equal(blkifRingRefKey(3), 'ring-ref3');
    assert.equal(blkifQueueKey(1), 'queue-1');
});
//# sourceMappingURL=blkif.test.js.map