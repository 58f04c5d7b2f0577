// Guest receive: the rx ring of one queue (xen-netback's xenvif_rx_action, by copy: feature-rx-copy).
// A frame from the switch is copied at once into buffers the frontend posted, or dropped and
// counted when there are not enough: nothing waits in netback, so a frontend that keeps one
// slot free forever costs no memory (XSA-392). Responses go out once per batch (the frames
// the switch delivers in one turn), with ring.h's event hold-off.
import { NETIF_RSP_ERROR, NETIF_RX_SLOT_SIZE, NETRXF_csum_blank, NETRXF_data_validated, NETRXF_extra_info, NETRXF_more_data, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, XEN_NETIF_EXTRA_FLAG_MORE, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_TYPE_HASH, NETIF_RX_REQ_GREF, NETIF_RX_REQ_ID, encodeNetifExtraInfo, encodeNetifRxResponse, } from '../../../abi/netif.js';
import { LE } from '../../../abi/fields.js';
import { gntstName } from '../../../abi/grant_table.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import { GrantCopyBatch } from '../../../hypervisor/grant.js';
import { GSO_MAX_SIZE, rxSlotsFor } from '../protocol.js';
/** The most rx buffers one frame takes (a GSO super-frame). */
const RX_MAX_SLOTS = rxSlotsFor(GSO_MAX_SIZE);
export class RxPath {
    #o;
    #ring;
    #slot = new Uint8Array(NETIF_RX_SLOT_SIZE);
    #slotView = new DataView(this.#slot.buffer);
    #rsp = { id: 0, offset: 0, flags: 0, status: 0 };
    /** The copy of one frame into the frontend's buffers, and the ids of those buffers. */
    #copy = new GrantCopyBatch(RX_MAX_SLOTS);
    #ids = new Uint16Array(RX_MAX_SLOTS);
    #gso = { kind: 'gso', type: XEN_NETIF_EXTRA_TYPE_GSO, flags: 0, size: 0, gsoType: 0, features: 0 };
    #hash = { kind: 'hash', type: XEN_NETIF_EXTRA_TYPE_HASH, flags: 0, hashType: 0, algorithm: XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, value: 0 };
    #pushQueued = false;
    #stopped = false;
    #logged = 0;
    constructor(o) {
        this.#o = o;
        this.#ring = o.ring;
    }
    /**
     * Copy `frame` into the frontend's posted buffers; false (dropped, counted) when it has too
     * few. `hashType` >= 0: the frontend's Toeplitz hash of the frame (see QueueSelector), which
     * goes with it as a HASH extra-info, after the GSO one if any (xenvif_rx_next_skb).
     */
    deliver(frame, info, hashType = -1, hashValue = 0) {
        const stats = this.#o.stats;
        if (this.#stopped) {
            stats.txDropped++;
            return false;
        }
        const ring = this.#ring;
        const rp = ring.reqProd;
        if (ring.requestProdOverflow(rp)) {
            this.stop();
            this.#o.onFatal(`rx ${ring.requestProdOverflowMessage(rp)}`);
            stats.txDropped++;
            return false;
        }
        const f = this.#o.features;
        const gso = info.gso && ((info.gso.type === 1 && f.gsoTcpv4) || (info.gso.type === 2 && f.gsoTcpv6)) ? info.gso : undefined;
        const dataSlots = rxSlotsFor(frame.length);
        const extras = (gso ? 1 : 0) + (hashType >= 0 ? 1 : 0);
        const needed = dataSlots + extras;
        if ((dataSlots > 1 && !f.sg) || (info.gso && !gso) || dataSlots > RX_MAX_SLOTS) {
            // The switch splits GSO frames for ports without it; one that still arrives is not ours to take.
            stats.txDropped++;
            return false;
        }
        if (ring.hasUnconsumedRequests() < needed) {
            // Ask to be woken when enough buffers are posted (xenvif_rx_ring_slots_available); the
            // switch's next frame finds them. The frame is not kept.
            ring.finalCheckForRequests(Math.min(needed, ring.nrEnts));
            stats.txDropped++;
            return false;
        }
        // The buffers, then one copy batch into them, then the responses in ring order.
        const b = this.#copy;
        b.reset(frame, true);
        let consumed = ring.reqCons;
        for (let i = 0, at = 0; i < dataSlots; i++) {
            ring.copyRequest(consumed, this.#slot);
            // The extra-infos take the slots after the first: their requests are consumed, their responses are the extras.
            consumed += i === 0 ? 1 + extras : 1;
            const len = Math.min(PAGE_SIZE, frame.length - at);
            this.#ids[i] = this.#slotView.getUint16(NETIF_RX_REQ_ID, LE);
            b.add(this.#slotView.getUint32(NETIF_RX_REQ_GREF, LE), 0, len, at);
            at += len;
        }
        ring.reqCons = consumed;
        const failed = this.#o.hc.grantCopyLocal(this.#o.frontendId, b) !== 0;
        for (let i = 0; i < dataSlots; i++) {
            const st = b.status[i];
            if (st !== 0 && this.#logged < 8) {
                this.#logged++;
                this.#o.log(`d${this.#o.frontendId}: rx buffer ${this.#ids[i]} (gref ${b.ref[i]}): ${gntstName(st)}`);
            }
            let flags = i < dataSlots - 1 ? NETRXF_more_data : 0;
            if (i === 0) {
                if (info.csumBlank)
                    flags |= NETRXF_csum_blank | NETRXF_data_validated;
                else if (info.dataValidated)
                    flags |= NETRXF_data_validated;
                if (extras)
                    flags |= NETRXF_extra_info;
            }
            this.#respond(this.#ids[i], flags, st === 0 ? b.len[i] : NETIF_RSP_ERROR);
            if (i === 0 && gso) {
                this.#gso.flags = hashType >= 0 ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
                this.#gso.size = gso.size;
                this.#gso.gsoType = gso.type;
                this.#extra(this.#gso);
            }
            if (i === 0 && hashType >= 0) {
                this.#hash.hashType = hashType;
                this.#hash.value = hashValue;
                this.#extra(this.#hash);
            }
        }
        this.#schedulePush();
        if (failed) {
            stats.txErrors++;
            return false;
        }
        stats.txPackets++;
        stats.txBytes += frame.length;
        return true;
    }
    #extra(x) {
        const ring = this.#ring;
        encodeNetifExtraInfo(ring.view, ring.slotOffset(ring.rspProdPvt), x);
        ring.rspProdPvt = ring.rspProdPvt + 1;
    }
    #respond(id, flags, status) {
        const ring = this.#ring;
        const rsp = this.#rsp;
        rsp.id = id;
        rsp.offset = 0;
        rsp.flags = flags;
        rsp.status = status;
        encodeNetifRxResponse(ring.view, ring.slotOffset(ring.rspProdPvt), rsp);
        ring.rspProdPvt = ring.rspProdPvt + 1;
    }
    /** One push and at most one event for the frames delivered in this turn. */
    #schedulePush() {
        if (this.#pushQueued)
            return;
        this.#pushQueued = true;
        queueMicrotask(() => {
            this.#pushQueued = false;
            if (!this.#stopped)
                this.flush();
        });
    }
    /** Publish the responses written so far. */
    flush() {
        if (this.#ring.pushResponsesAndCheckNotify())
            this.#o.notify();
    }
    stop() {
        this.#stopped = true;
    }
}
//# sourceMappingURL=rx.js.map