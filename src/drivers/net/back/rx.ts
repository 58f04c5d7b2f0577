// Guest receive: the rx ring of one queue (xen-netback's xenvif_rx_action, by copy: feature-rx-copy).
// A frame from the switch is copied at once into buffers the frontend posted, or dropped and
// counted when there are not enough: nothing waits in netback, so a frontend that keeps one
// slot free forever costs no memory (XSA-392). Responses go out once per batch (the frames
// the switch delivers in one turn), with ring.h's event hold-off.
import {
  NETIF_RSP_ERROR, NETIF_RX_SLOT_SIZE, NETRXF_csum_blank, NETRXF_data_validated, NETRXF_extra_info, NETRXF_more_data,
  XEN_NETIF_EXTRA_TYPE_GSO, decodeNetifRxRequest, encodeNetifExtraInfo, encodeNetifRxResponse, type NetFrameInfo,
  type NetifExtraGso, type NetifRxResponse,
} from '../../../abi/netif.js';
import type { BackRing } from '../../../abi/ring.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
import { rxSlotsFor } from '../protocol.js';
import { copyToGrant } from './copy.js';
import type { NetbackStats } from './stats.js';

export interface RxFeatures {
  /** feature-sg: a frame may span several rx buffers. */
  readonly sg: boolean;
  /** feature-gso-tcpv4/v6: GSO super-frames may be given whole, with a GSO extra-info. */
  readonly gsoTcpv4: boolean;
  readonly gsoTcpv6: boolean;
}

export interface RxPathOptions {
  readonly ring: BackRing;
  readonly hc: Hypercalls;
  readonly frontendId: number;
  readonly stats: NetbackStats;
  readonly features: RxFeatures;
  /** Tell the frontend responses are out (its rx event channel). */
  readonly notify: () => void;
  /** The frontend published an impossible req_prod: disable the vif. */
  readonly onFatal: (why: string) => void;
  readonly log: (line: string) => void;
}

export class RxPath {
  readonly #o: RxPathOptions;
  readonly #ring: BackRing;
  readonly #slot = new Uint8Array(NETIF_RX_SLOT_SIZE);
  readonly #slotView = new DataView(this.#slot.buffer);
  readonly #rsp: NetifRxResponse = { id: 0, offset: 0, flags: 0, status: 0 };
  readonly #gso: NetifExtraGso = { kind: 'gso', type: XEN_NETIF_EXTRA_TYPE_GSO, flags: 0, size: 0, gsoType: 0, features: 0 };
  #pushQueued = false;
  #stopped = false;
  #logged = 0;

  constructor(o: RxPathOptions) {
    this.#o = o;
    this.#ring = o.ring;
  }

  /** Copy `frame` into the frontend's posted buffers; false (dropped, counted) when it has too few. */
  deliver(frame: Uint8Array, info: NetFrameInfo): boolean {
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
    const needed = dataSlots + (gso ? 1 : 0);
    if ((dataSlots > 1 && !f.sg) || (info.gso && !gso)) {
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
    let failed = false;
    for (let i = 0, at = 0; i < dataSlots; i++) {
      ring.copyRequest(ring.reqCons, this.#slot);
      ring.reqCons = ring.reqCons + 1;
      const req = decodeNetifRxRequest(this.#slotView, 0);
      const len = Math.min(PAGE_SIZE, frame.length - at);
      let status = len;
      try {
        copyToGrant(this.#o.hc, this.#o.frontendId, req.gref, 0, frame.subarray(at, at + len));
      } catch (e) {
        status = NETIF_RSP_ERROR;
        failed = true;
        if (this.#logged < 8) {
          this.#logged++;
          this.#o.log(`d${this.#o.frontendId}: rx buffer ${req.id} (gref ${req.gref}): ${(e as Error).message}`);
        }
      }
      at += len;
      let flags = i < dataSlots - 1 ? NETRXF_more_data : 0;
      if (i === 0) {
        if (info.csumBlank) flags |= NETRXF_csum_blank | NETRXF_data_validated;
        else if (info.dataValidated) flags |= NETRXF_data_validated;
        if (gso) flags |= NETRXF_extra_info;
      }
      this.#respond(req.id, flags, status);
      if (i === 0 && gso) {
        // The GSO extra-info takes the next slot: its request is consumed, its response is the extra.
        ring.reqCons = ring.reqCons + 1;
        this.#gso.size = gso.size;
        this.#gso.gsoType = gso.type;
        encodeNetifExtraInfo(ring.view, ring.slotOffset(ring.rspProdPvt), this.#gso);
        ring.rspProdPvt = ring.rspProdPvt + 1;
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

  #respond(id: number, flags: number, status: number): void {
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
  #schedulePush(): void {
    if (this.#pushQueued) return;
    this.#pushQueued = true;
    queueMicrotask(() => {
      this.#pushQueued = false;
      if (!this.#stopped) this.flush();
    });
  }

  /** Publish the responses written so far. */
  flush(): void {
    if (this.#ring.pushResponsesAndCheckNotify()) this.#o.notify();
  }

  stop(): void {
    this.#stopped = true;
  }
}
