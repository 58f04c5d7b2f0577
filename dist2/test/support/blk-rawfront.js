// A frontend written by hand, for tests that put on the ring exactly what they mean to: hostile
// requests, and legal ones no blkfront of ours would build (partial sectors, chosen frames).
import { BLKIF_SLOT_SIZE, decodeBlkifResponse, encodeBlkifRequest, } from '../../src/abi/blkif.js';
import { FrontRing } from '../../src/abi/ring.js';
import { XenbusState } from '../../src/abi/xenbus.js';
import { grantRing } from '../../src/drivers/ringpages.js';
import { switchState } from '../../src/drivers/xenbus.js';
import { within } from './blk.js';
/** A frontend written by hand: it puts whatever the test says on the ring. */
export class RawFront {
    g;
    port;
    ring;
    ringPfn;
    #responses = [];
    #waiters = [];
    #buf = new Uint8Array(BLKIF_SLOT_SIZE);
    constructor(g, ring, ringPfn, port) {
        this.g = g;
        this.port = port;
        this.ring = ring;
        this.ringPfn = ringPfn;
    }
    static async connect(rig, g, persistent) {
        const fe = `/local/domain/${g.domid}/device/vbd/51712`;
        const be = `/local/domain/0/backend/vbd/${g.domid}/51712`;
        const granted = grantRing(g.hc, 0, 1);
        const ring = FrontRing.create(granted.bytes, BLKIF_SLOT_SIZE);
        const port = await g.ctx.evtchn.allocUnbound(0);
        const f = new RawFront(g, ring, granted.pfns[0], port);
        port.onEvent(() => f.#collect());
        await g.xs.write(`${fe}/ring-ref`, String(granted.refs[0]));
        await g.xs.write(`${fe}/event-channel`, String(port.port));
        await g.xs.write(`${fe}/feature-persistent`, persistent ? '1' : '0');
        await switchState(g.xs, fe, XenbusState.Initialised);
        await within(rig.xs0.wait(`${be}/state`, (v) => v === String(XenbusState.Connected)), 'backend Connected');
        return f;
    }
    #collect() {
        const r = this.ring;
        do {
            while (r.rspCons !== r.rspProd) {
                r.copyResponse(r.rspCons, this.#buf);
                r.rspCons = r.rspCons + 1;
                this.#responses.push(decodeBlkifResponse(new DataView(this.#buf.buffer), 0));
            }
        } while (r.finalCheckForResponses());
        for (const w of this.#waiters.splice(0))
            w();
    }
    send(req) {
        const r = this.ring;
        encodeBlkifRequest(r.view, r.slotOffset(r.reqProdPvt), req);
        r.reqProdPvt = r.reqProdPvt + 1;
        if (r.pushRequestsAndCheckNotify())
            this.port.notify();
    }
    /** The next `n` responses. */
    async take(n) {
        while (this.#responses.length < n)
            await within(new Promise((r) => this.#waiters.push(r)), `${n} responses`);
        return this.#responses.splice(0, n);
    }
    /** A page of the guest's RAM granted to dom0. */
    page(readonly, fill = 0) {
        const [pfn] = this.g.hc.populatePhysmap(1);
        const page = this.g.hc.memory.frame(pfn);
        page.fill(fill);
        return { ref: this.g.hc.grantAccess(0, pfn, readonly), page, pfn };
    }
}
/** A read or write request with its segments in the slot (nrSegments may lie). */
export const rw = (operation, sectorNumber, seg, nrSegments = seg.length) => ({ kind: 'segments', operation, nrSegments, handle: 0, id: 1n, sectorNumber, seg });
//# sourceMappingURL=blk-rawfront.js.map