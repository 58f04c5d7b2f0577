// Guest transmit: the tx ring of one queue (xen-netback's xenvif_tx_action). Every slot is
// hostile: each request is copied out of the ring once (RING_COPY_REQUEST, XSA-155) and only
// the copy is checked and used; req_prod is bounded by the ring (XSA-39). The slot rules are
// netif.h's and the verdicts Linux's: a packet that breaks a rule the frontend could not have
// known is answered NETIF_RSP_ERROR; one that no well-behaved frontend would build (a slot
// across its page, a chain past fatal_skb_slots, a chain past req_prod, a bad extra-info or
// GSO descriptor) disables the vif (xenvif_fatal_tx_err).
import {
  NETIF_RSP_ERROR, NETIF_RSP_NULL, NETIF_RSP_OKAY, NETIF_TX_REQ_FLAGS, NETIF_TX_REQ_GREF, NETIF_TX_REQ_ID, NETIF_TX_REQ_OFFSET,
  NETIF_TX_REQ_SIZE, NETIF_TX_SLOT_SIZE, NETTXF_csum_blank, NETTXF_data_validated,
  NETTXF_extra_info, NETTXF_more_data, XEN_NETIF_EXTRA_FLAG_MORE, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_TYPE_MAX,
  XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_EXTRA_TYPE_MCAST_DEL, XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_GSO_TYPE_TCPV6,
  decodeNetifExtraInfo, decodeNetifTxRequest, encodeNetifTxResponse, type NetFrameInfo, type NetifExtraInfo,
  type NetifTxRequest, type NetifTxResponse,
} from '../../../abi/netif.js';
import { LE } from '../../../abi/fields.js';
import { gntstName } from '../../../abi/grant_table.js';
import type { BackRing } from '../../../abi/ring.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import { GrantCopyBatch } from '../../../hypervisor/grant.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
import type { FrameTail } from '../../../network/port.js';
import { ETH_HLEN, FATAL_SKB_SLOTS, MAX_SKB_SLOTS, plainFrameInfo, type NetRate } from '../protocol.js';
import type { Credit } from './credit.js';
import type { McastFilter } from './mcast.js';
import type { NetbackStats } from './stats.js';

/** The largest frame: netif.h's size field is 16 bits. */
const MAX_FRAME = 0xffff;
/** Bytes of a frame copied into dom0 whatever its size (Linux's XEN_NETBACK_TX_COPY_LEN): every header the switch and the queue hash read. */
export const TX_COPY_LEN = 128;
/** A frame longer than this leaves the rest of its bytes in the sender's pages, pinned while it crosses the switch. */
export const TX_TAIL_MIN = PAGE_SIZE;

export interface TxPathOptions {
  readonly ring: BackRing;
  readonly hc: Hypercalls;
  readonly frontendId: number;
  readonly stats: NetbackStats;
  /** rate=: this queue's credit (unlimited without a rate). */
  readonly credit: Credit;
  /** The vif's multicast subscriptions (one for all its queues). */
  readonly mcast: McastFilter;
  /** Tell the frontend responses are out (its tx event channel). */
  readonly notify: () => void;
  /** A frame for the switch; the view is valid during the call only, as are the tail's grants. */
  readonly output: (frame: Uint8Array, info: NetFrameInfo, tail?: FrameTail) => void;
  /** The frontend is malicious: disable the vif. */
  readonly onFatal: (why: string) => void;
  readonly log: (line: string) => void;
}

/** The packet breaks a rule no frontend may break: the vif goes down. */
class Fatal {
  constructor(readonly why: string) {}
}

export class TxPath {
  readonly #o: TxPathOptions;
  readonly #ring: BackRing;
  readonly #slot = new Uint8Array(NETIF_TX_SLOT_SIZE);
  readonly #slotView = new DataView(this.#slot.buffer);
  /** The copied requests of the packet being built (its first, then its more_data chain). */
  readonly #reqs: NetifTxRequest[] = [];
  /** The requests #reqs holds, decoded in place: nothing is allocated per slot. */
  readonly #pool: NetifTxRequest[] = Array.from({ length: FATAL_SKB_SLOTS }, () => ({ gref: 0, offset: 0, flags: 0, id: 0, size: 0 }));
  readonly #frame = new Uint8Array(MAX_FRAME);
  /** The last view of #frame handed to the switch: reused while frames keep their size (the switch's views live for the call only). */
  #view = this.#frame.subarray(0, 0);
  /** The copy of one packet's slots out of the frontend's grants. */
  readonly #copy = new GrantCopyBatch(FATAL_SKB_SLOTS);
  /** The grants holding the part of the frame past TX_COPY_LEN (a frame over TX_TAIL_MIN), pinned during output. */
  readonly #tailGrants = new GrantCopyBatch(FATAL_SKB_SLOTS);
  readonly #tail: TxTail;
  readonly #rsp: NetifTxResponse = { id: 0, status: 0 };
  #stopped = false;
  #servicing = false;
  #creditTimer: NodeJS.Timeout | undefined;
  #logged = 0;

  constructor(o: TxPathOptions) {
    this.#o = o;
    this.#ring = o.ring;
    this.#tail = new TxTail(o.hc, o.frontendId, this.#tailGrants, this.#copy, this.#frame);
  }

  /** Consume every packet the frontend published, until the ring is empty and it knows to wake us. */
  service(): void {
    if (this.#stopped || this.#servicing || this.#creditTimer) return;
    this.#servicing = true;
    const ring = this.#ring;
    try {
      for (;;) {
        const rp = ring.reqProd;
        if (ring.requestProdOverflow(rp)) {
          throw new Fatal(ring.requestProdOverflowMessage(rp));
        }
        while (ring.reqCons !== rp && !this.#stopped) {
          if (this.#waitForCredit()) return this.#push();
          this.#packet(rp);
        }
        this.#push();
        if (this.#stopped || !ring.finalCheckForRequests()) return;
      }
    } catch (e) {
      if (!(e instanceof Fatal)) throw e;
      this.stop();
      this.#o.onFatal(e.why);
    } finally {
      this.#servicing = false;
    }
  }

  /** rate=: true (and a timer set) when the next packet must wait for credit. */
  #waitForCredit(): boolean {
    const credit = this.#o.credit;
    if (!credit.rate) return false;
    // A peek at the size only decides whether to wait; the packet is copied afresh when consumed.
    this.#ring.copyRequest(this.#ring.reqCons, this.#slot);
    const wait = credit.take(decodeNetifTxRequest(this.#slotView, 0).size);
    if (wait === 0) return false;
    this.#creditTimer = setTimeout(() => {
      this.#creditTimer = undefined;
      this.service();
    }, wait);
    return true;
  }

  get rate(): NetRate | null {
    return this.#o.credit.rate;
  }

  /** The rate changed (xen_net_rate_changed): a packet held for credit is looked at again now. */
  rateChanged(rate: NetRate | null): void {
    const waiting = this.#creditTimer !== undefined;
    this.#o.credit.set(rate, waiting);
    if (!waiting || this.#stopped) return;
    clearTimeout(this.#creditTimer);
    this.#creditTimer = undefined;
    this.service();
  }

  /** Request `idx`, copied off the ring once and decoded from the copy into the packet's k-th request. */
  #copyReq(idx: number, k: number): NetifTxRequest {
    this.#ring.copyRequest(idx, this.#slot);
    const v = this.#slotView;
    const r = this.#pool[k]!;
    r.gref = v.getUint32(NETIF_TX_REQ_GREF, LE);
    r.offset = v.getUint16(NETIF_TX_REQ_OFFSET, LE);
    r.flags = v.getUint16(NETIF_TX_REQ_FLAGS, LE);
    r.id = v.getUint16(NETIF_TX_REQ_ID, LE);
    r.size = v.getUint16(NETIF_TX_REQ_SIZE, LE);
    return r;
  }

  /** One packet from reqCons: its extras, its chain; answered before the next is looked at. */
  #packet(rp: number): void {
    const ring = this.#ring;
    const start = ring.reqCons;
    const first = this.#copyReq(start, 0);
    let idx = start + 1;
    // Extra-info slots (netif.h: they follow the first request, chained by FLAG_MORE).
    let gso: NetifExtraInfo | undefined;
    let mcast: NetifExtraInfo | undefined;
    if (first.flags & NETTXF_extra_info) {
      let more = true;
      while (more) {
        if (idx === rp) throw new Fatal('missing extra info: the chain runs past req_prod');
        ring.copyRequest(idx, this.#slot);
        const extra = decodeNetifExtraInfo(this.#slotView, 0);
        idx = (idx + 1) >>> 0;
        if (extra.type === 0 || extra.type >= XEN_NETIF_EXTRA_TYPE_MAX) throw new Fatal(`invalid extra type ${extra.type}`);
        if (extra.type === XEN_NETIF_EXTRA_TYPE_GSO) gso = extra;
        if (extra.type === XEN_NETIF_EXTRA_TYPE_MCAST_ADD || extra.type === XEN_NETIF_EXTRA_TYPE_MCAST_DEL) mcast = extra;
        more = (extra.flags & XEN_NETIF_EXTRA_FLAG_MORE) !== 0;
      }
    }
    const extras = (idx - start - 1) >>> 0;
    if (mcast && mcast.kind === 'mcast') {
      // A subscription rides on a request of no data (xenvif_mcast_add/del); one past the
      // bound is answered NETIF_RSP_ERROR, as Linux's -ENOSPC is.
      let ok = true;
      if (mcast.type === XEN_NETIF_EXTRA_TYPE_MCAST_DEL) this.#o.mcast.delete(mcast.addr);
      else ok = this.#o.mcast.add(mcast.addr);
      ring.reqCons = idx;
      this.#respond(first.id, ok ? NETIF_RSP_OKAY : NETIF_RSP_ERROR, extras);
      return;
    }
    if (gso && gso.kind === 'gso') {
      if (gso.size === 0) throw new Fatal('GSO size must not be zero');
      if (gso.gsoType !== XEN_NETIF_GSO_TYPE_TCPV4 && gso.gsoType !== XEN_NETIF_GSO_TYPE_TCPV6) throw new Fatal(`bad GSO type ${gso.gsoType}`);
    }
    // The chain (xenvif_count_requests): the first slot carries the whole size, each further
    // slot its own part; what is left is the first slot's data.
    const reqs = this.#reqs;
    reqs.length = 0;
    reqs.push(first);
    let refuse: string | null = null;
    let remaining = first.size;
    let more = (first.flags & NETTXF_more_data) !== 0;
    while (more) {
      if (idx === rp) throw new Fatal(`a chain of ${reqs.length} slots runs past req_prod`);
      if (reqs.length >= FATAL_SKB_SLOTS) throw new Fatal(`a packet of more than ${FATAL_SKB_SLOTS} slots`);
      if (refuse === null && reqs.length >= MAX_SKB_SLOTS) refuse = `a packet of more than ${MAX_SKB_SLOTS} slots`;
      const txp = this.#copyReq(idx, reqs.length);
      idx = (idx + 1) >>> 0;
      if (refuse === null && txp.size > remaining) refuse = `slot size ${txp.size} is more than the ${remaining} bytes left of the packet`;
      remaining = txp.size > remaining ? 0 : remaining - txp.size;
      if (txp.offset + txp.size > PAGE_SIZE) throw new Fatal(`slot offset ${txp.offset} + size ${txp.size} crosses the page`);
      reqs.push(txp);
      more = (txp.flags & NETTXF_more_data) !== 0;
    }
    ring.reqCons = idx;
    if (first.offset + remaining > PAGE_SIZE) throw new Fatal(`first slot offset ${first.offset} + size ${remaining} crosses the page`);
    if (refuse === null && first.size < ETH_HLEN) refuse = `bad packet size ${first.size}`;
    if (refuse === null) refuse = this.#gather(reqs, remaining, first.size);
    if (refuse !== null) {
      this.#refuse(refuse, reqs, extras);
      return;
    }
    const csumBlank = (first.flags & NETTXF_csum_blank) !== 0;
    const dataValidated = (first.flags & NETTXF_data_validated) !== 0;
    const info: NetFrameInfo = gso && gso.kind === 'gso'
      ? { csumBlank, dataValidated, gso: { type: gso.gsoType as typeof XEN_NETIF_GSO_TYPE_TCPV4, size: gso.size } }
      : plainFrameInfo(csumBlank, dataValidated);
    const stats = this.#o.stats;
    stats.rxPackets++;
    stats.rxBytes += first.size;
    if (this.#view.length !== first.size) this.#view = this.#frame.subarray(0, first.size);
    const tail = this.#tailGrants.count !== 0 ? this.#tail : undefined;
    try {
      this.#o.output(this.#view, info, tail);
    } finally {
      // Answered once its pages are let go: the frontend may reuse them from then on.
      if (tail) this.#o.hc.grantUnpinLocal(this.#o.frontendId, this.#tailGrants);
    }
    this.#respondAll(reqs, extras, NETIF_RSP_OKAY);
  }

  /**
   * Copy the packet's first bytes (all of them, unless it is longer than TX_TAIL_MIN) out of
   * its grants into #frame, one batch; pin the grants of the rest (#tailGrants). The reason if
   * a slot will not copy or pin.
   */
  #gather(reqs: readonly NetifTxRequest[], firstLen: number, size: number): string | null {
    const b = this.#copy;
    const t = this.#tailGrants;
    b.reset(this.#frame, false);
    t.reset(this.#frame, false);
    const head = size > TX_TAIL_MIN ? TX_COPY_LEN : size;
    let at = 0;
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i]!;
      const len = i === 0 ? firstLen : r.size;
      const n = at < head ? Math.min(len, head - at) : 0;
      if (n > 0) b.add(r.gref, r.offset, n, at);
      if (len > n) t.add(r.gref, r.offset + n, len - n, 0);
      at += len;
    }
    const hc = this.#o.hc;
    if (hc.grantCopyLocal(this.#o.frontendId, b) !== 0) return this.#failed(b, reqs, -1);
    if (t.count === 0) return null;
    this.#tail.reset(head);
    if (hc.grantPinLocal(this.#o.frontendId, t) === 0) return null;
    hc.grantUnpinLocal(this.#o.frontendId, t);
    const why = this.#failed(t, reqs, head);
    t.reset(this.#frame, false);
    return why;
  }

  /** Which slot of the packet a failed op of `b` was (`head` >= 0: b is the tail's), and why. */
  #failed(b: GrantCopyBatch, reqs: readonly NetifTxRequest[], head: number): string {
    const k = b.status.findIndex((st, i) => i < b.count && st !== 0);
    const i = reqs.findIndex((r) => r.gref === b.ref[k]);
    return `slot ${i}${head >= 0 ? ` past byte ${head}` : ''} (gref ${b.ref[k]}): ${gntstName(b.status[k]!)}`;
  }

  #refuse(why: string, reqs: readonly NetifTxRequest[], extras: number): void {
    this.#o.stats.rxErrors++;
    if (this.#logged < 8) {
      this.#logged++;
      this.#o.log(`d${this.#o.frontendId}: packet ${reqs[0]!.id} refused: ${why}`);
    }
    this.#respondAll(reqs, extras, NETIF_RSP_ERROR);
  }

  /** One response per slot, in ring order: the first request, its extras (NULL), the chain. */
  #respondAll(reqs: readonly NetifTxRequest[], extras: number, status: number): void {
    this.#respond(reqs[0]!.id, status, extras);
    for (let i = 1; i < reqs.length; i++) this.#respond(reqs[i]!.id, status, 0);
  }

  #respond(id: number, status: number, extras: number): void {
    const ring = this.#ring;
    const rsp = this.#rsp;
    rsp.id = id;
    rsp.status = status;
    encodeNetifTxResponse(ring.view, ring.slotOffset(ring.rspProdPvt), rsp);
    ring.rspProdPvt = ring.rspProdPvt + 1;
    rsp.id = 0;
    rsp.status = NETIF_RSP_NULL;
    for (let i = 0; i < extras; i++) {
      encodeNetifTxResponse(ring.view, ring.slotOffset(ring.rspProdPvt), rsp);
      ring.rspProdPvt = ring.rspProdPvt + 1;
    }
  }

  #push(): void {
    if (this.#ring.pushResponsesAndCheckNotify()) this.#o.notify();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#creditTimer);
    this.#creditTimer = undefined;
  }
}

/** The tail of the frame being output: its grants (pinned by TxPath), filled into #frame on demand, once. */
class TxTail implements FrameTail {
  head = 0;
  #filled = false;
  #ok = false;

  constructor(readonly hc: Hypercalls, readonly domid: number, readonly grants: GrantCopyBatch, readonly copy: GrantCopyBatch, readonly frame: Uint8Array) {}

  reset(head: number): void {
    this.head = head;
    this.#filled = false;
  }

  get count(): number {
    return this.grants.count;
  }

  get ref(): Uint32Array {
    return this.grants.ref;
  }

  get offset(): Uint16Array {
    return this.grants.offset;
  }

  get len(): Uint16Array {
    return this.grants.len;
  }

  fill(): boolean {
    if (this.#filled) return this.#ok;
    this.#filled = true;
    const g = this.grants;
    const b = this.copy;
    b.reset(this.frame, false);
    for (let k = 0, at = this.head; k < g.count; at += g.len[k]!, k++) b.add(g.ref[k]!, g.offset[k]!, g.len[k]!, at);
    this.#ok = this.hc.grantCopyLocal(this.domid, b) === 0;
    return this.#ok;
  }
}
