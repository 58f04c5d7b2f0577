// One ring of blkfront: requests out, responses in, a shadow entry per ring slot remembering
// what each request id stands for (Linux's blk_shadow). Responses are checked before they are
// believed: an id the frontend did not issue, or an rsp_prod beyond what the ring can hold,
// means the backend is broken.
import { BLKIF_RESPONSE_ID, BLKIF_RESPONSE_OPERATION, BLKIF_RESPONSE_STATUS, BLKIF_SLOT_SIZE, encodeBlkifRequest, } from '../../../abi/blkif.js';
import { FrontRing } from '../../../abi/ring.js';
import { XenError } from '../../../errors.js';
import { grantRing, revokeRing } from '../../ringpages.js';
export class FrontQueue {
    ring;
    granted;
    port;
    #shadow;
    #freeIds = [];
    /** Every id of the ring as a bigint, made once, so posting a request allocates none. */
    #ids = [];
    #dirty = false;
    constructor(granted, port) {
        this.granted = granted;
        this.ring = FrontRing.create(granted.bytes, BLKIF_SLOT_SIZE);
        this.port = port;
        this.#shadow = new Array(this.ring.nrEnts);
        for (let i = this.ring.nrEnts - 1; i >= 0; i--) {
            this.#freeIds.push(i);
            this.#ids[i] = BigInt(i);
        }
    }
    /** A fresh ring of 2^order pages granted to `backend`, and an unbound port for it. */
    static async create(hc, allocUnbound, backend, order) {
        const granted = grantRing(hc, backend, 1 << order);
        try {
            return new FrontQueue(granted, await allocUnbound(backend));
        }
        catch (e) {
            revokeRing(hc, granted);
            throw e;
        }
    }
    get hasRoom() {
        return this.#freeIds.length > 0;
    }
    /** Requests published and not yet answered. */
    get inFlight() {
        return this.ring.nrEnts - this.#freeIds.length;
    }
    /** Put a request in the next slot; `req.id` is replaced by the shadow slot's id. Published by flush(). */
    post(req, shadow) {
        const id = this.#freeIds.pop();
        if (id === undefined)
            throw new XenError('EAGAIN', 'blkfront ring is full');
        this.#shadow[id] = shadow;
        req.id = this.#ids[id];
        const ring = this.ring;
        encodeBlkifRequest(ring.view, ring.slotOffset(ring.reqProdPvt), req);
        ring.reqProdPvt = ring.reqProdPvt + 1;
        this.#dirty = true;
    }
    /**
     * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY for everything posted since the last flush; true if
     * responses are waiting to be polled.
     */
    flush() {
        if (!this.#dirty)
            return false;
        this.#dirty = false;
        this.port.expectEvents(true);
        if (this.ring.pushRequestsAndCheckNotify())
            this.port.notify();
        // poll() armed rsp_event before these requests existed (often for the very next response):
        // re-arm it for half of what is now outstanding, so one wake-up still covers a batch.
        return this.#arm();
    }
    /** Ask to be woken when half of what is outstanding is answered; true if responses are already waiting. */
    #arm() {
        const ring = this.ring;
        const outstanding = (ring.reqProd - ring.rspCons) >>> 0;
        return ring.finalCheckForResponses(Math.max(1, outstanding >> 1));
    }
    /**
     * Hand every response to `done` with its shadow, then ask to be woken when about half of
     * what is still in flight has been answered (one wake-up per batch instead of one per
     * response: DESIGN.md §10). Throws EIO if the backend misbehaves.
     */
    poll(done) {
        const ring = this.ring;
        const v = ring.view;
        for (;;) {
            const rp = ring.rspProd;
            if (ring.responseProdOverflow(rp))
                throw new XenError('EIO', `backend published rsp_prod ${rp}, beyond the ring`);
            while (ring.rspCons !== rp) {
                // Each field is read from the slot once (no double fetch), so the slot need not be
                // copied first. The ids we issue are slot numbers: the high word is 0 (two words, no
                // bigint per response).
                const off = ring.slotOffset(ring.rspCons);
                ring.rspCons = ring.rspCons + 1;
                const lo = v.getUint32(off + BLKIF_RESPONSE_ID, true);
                const hi = v.getUint32(off + BLKIF_RESPONSE_ID + 4, true);
                const shadow = hi === 0 && lo < ring.nrEnts ? this.#shadow[lo] : undefined;
                if (shadow === undefined) {
                    throw new XenError('EIO', `backend answered request id ${BigInt(hi) * 2n ** 32n + BigInt(lo)}, which is not in flight`);
                }
                this.#shadow[lo] = undefined;
                this.#freeIds.push(lo);
                done(shadow, v.getUint8(off + BLKIF_RESPONSE_OPERATION), v.getInt16(off + BLKIF_RESPONSE_STATUS, true));
            }
            // Only published requests count: the backend cannot answer the others yet.
            if (!this.#arm()) {
                this.port.expectEvents(this.inFlight > 0);
                return;
            }
        }
    }
    /** The shadows of every request in flight, taken out of the ring (the connection is going). */
    takeInFlight() {
        const out = [];
        for (let i = 0; i < this.#shadow.length; i++) {
            const s = this.#shadow[i];
            if (s === undefined)
                continue;
            out.push(s);
            this.#shadow[i] = undefined;
            this.#freeIds.push(i);
        }
        return out;
    }
}
//# sourceMappingURL=queue.js.map