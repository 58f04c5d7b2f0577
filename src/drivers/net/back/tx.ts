// Guest transmit: the tx ring of one queue (xen-netback's xenvif_tx_action). Every slot is
// hostile: each request is copied out of the ring once (RING_COPY_REQUEST, XSA-155) and only
// the copy is checked and used; req_prod is bounded by the ring (XSA-39). The slot rules are
// netif.h's and the verdicts Linux's: a packet that breaks a rule the frontend could not have
// known is answered NETIF_RSP_ERROR; one that no well-behaved frontend would build (a slot
// across its page, a chain past fatal_skb_slots, a chain past req_prod, a bad extra-info or
// GSO descriptor) disables the vif (xenvif_fatal_tx_err). A receiver short of rx room may
// pause this queue (FrameSender, back-pressure): the frames of the pass not yet out wait in the
// pass, the requests after them on the ring, until it resumes us.
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
import type { FramePass, FrameSender, FrameTail } from '../../../network/port.js';
import { inLaterTurn } from '../../turn.js';
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
  /** A frame for the switch; the view is valid during the call (or until `pass` ends), the tail's grants during the call; a receiver short of room may pause `sender`. */
  readonly output: (frame: Uint8Array, info: NetFrameInfo, tail: FrameTail | undefined, pass: FramePass | undefined, sender: FrameSender) => void;
  /** The frontend is malicious: disable the vif. */
  readonly onFatal: (why: string) => void;
  readonly log: (line: string) => void;
}

/** The packet breaks a rule no frontend may break: the vif goes down. */
class Fatal {
  constructor(readonly why: string) {}
}

/**
 * Packets gathered in one pass over the ring at most before their copy runs and they go out.
 * Not the ring's 256: a guest that answers a batch at once (a client writing after an await)
 * puts 30 requests on its ring, and the receiver got none of them until the pass had copied
 * and forwarded all 30. In passes of 8 the receiver is woken for the first 8 while netback
 * copies the rest, as netfront pushes every 8 rx frames (RX_PUSH_BUDGET); Linux's netback
 * hands each packet up its stack as it goes. A frame with a tail is a pass of its own anyway.
 */
const PASS_PACKETS = 8;
/**
 * Packets one service() call takes at most before it gives dom0's thread back (Linux's NAPI
 * weight). Responses go out every pass, so a frontend that refills its ring as fast as they come
 * would otherwise keep the call going for ever, and with it every other vif, xenstored and the
 * toolstack waiting; past this many, the rest is taken in a later turn of dom0's event loop.
 */
const SERVICE_PACKETS = 64;
/**
 * Slots of one pass at most, and copy ops (a slot's bytes are in one page: one op at most):
 * PASS_PACKETS packets of the longest chain a frontend may send (FATAL_SKB_SLOTS; a longer one
 * takes the vif down). So a pass is bounded by its packets and its bytes, never by its slots.
 * (It was 256 + FATAL_SKB_SLOTS, for a pass of the whole ring.)
 */
const PASS_SLOTS = PASS_PACKETS * FATAL_SKB_SLOTS;

/**
 * The packets of one pass over the ring (xenvif_tx_build_gops' batch): their first bytes are
 * copied out of the frontend's grants by one GNTTABOP_copy batch into #frame, packed; then
 * every packet is answered, in ring order (one refused before the copy too), and each goes to
 * the switch. The views stay valid until the receivers that deferred their copies (FramePass)
 * have made them.
 */
class TxPass implements FramePass {
  /** Packets gathered. */
  count = 0;
  /** Bytes of the pass buffer used. */
  used = 0;
  /** Slots gathered (their ids, for the responses). */
  slots = 0;
  readonly ids = new Uint16Array(PASS_SLOTS);
  /** Per copy op: the slot of its packet (an index into the packet's chain). */
  readonly opSlot = new Uint8Array(PASS_SLOTS);
  /** Per packet: its first slot in ids, its slots, its extras, its first op, its bytes, where they sit, its info or why it is refused. */
  readonly slot0 = new Uint16Array(PASS_PACKETS);
  readonly nslots = new Uint8Array(PASS_PACKETS);
  readonly extras = new Uint16Array(PASS_PACKETS);
  readonly op0 = new Uint16Array(PASS_PACKETS + 1);
  readonly size = new Uint32Array(PASS_PACKETS);
  readonly at = new Uint32Array(PASS_PACKETS);
  readonly info: (NetFrameInfo | undefined)[] = new Array<NetFrameInfo | undefined>(PASS_PACKETS).fill(undefined);
  readonly refuse: (string | null)[] = new Array<string | null>(PASS_PACKETS).fill(null);
  /** The views of the pass buffer handed to the switch, made as needed per packet and reused while a stream's frames keep their place and size. */
  readonly views: Uint8Array[] = [];
  /** The receivers' deferred copies, made when the pass ends. */
  readonly #deferred: (() => void)[] = [];

  constructor(readonly memory: Uint8Array) {}

  /** Room for a packet of `bytes` bytes copied? Its slots have room if the packet has (PASS_SLOTS). */
  fits(bytes: number): boolean {
    return this.count < PASS_PACKETS && this.used + bytes <= this.memory.length;
  }

  defer(finish: () => void): void {
    this.#deferred.push(finish);
  }

  /** The receivers' copies are made: the buffer is the sender's again. */
  end(): void {
    const d = this.#deferred;
    try {
      for (let i = 0; i < d.length; i++) d[i]!();
    } finally {
      d.length = 0;
    }
  }

  clear(): void {
    this.count = 0;
    this.used = 0;
    this.slots = 0;
  }
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
  /** The pass buffer: the packed first bytes of a pass's packets (or one frame with a tail, whole once filled). */
  readonly #frame = new Uint8Array(MAX_FRAME);
  /** The copy of a pass's slots out of the frontend's grants; also the tail's fill. */
  readonly #copy = new GrantCopyBatch(PASS_SLOTS);
  readonly #pass = new TxPass(this.#frame);
  /** The grants holding the part of the frame past TX_COPY_LEN (a frame over TX_TAIL_MIN), pinned during output. */
  readonly #tailGrants = new GrantCopyBatch(FATAL_SKB_SLOTS);
  readonly #tail: TxTail;
  readonly #rsp: NetifTxResponse = { id: 0, status: 0 };
  #stopped = false;
  #servicing = false;
  /** The ring still has requests, and this call took its share: take them in a later turn. */
  readonly #continue = inLaterTurn(() => this.service());
  #creditTimer: NodeJS.Timeout | undefined;
  #logged = 0;
  /** Paused by a receiver short of room (back-pressure): nothing more is taken off the ring until it resumes us. */
  #paused = false;
  #resumeQueued = false;
  /** The pass's next packet to go out (the rest of a pass a receiver paused). */
  #next = 0;
  readonly #sender: FrameSender = {
    pause: () => {
      this.#paused = true;
    },
    resume: () => {
      if (!this.#paused) return;
      this.#paused = false;
      if (this.#resumeQueued) return;
      this.#resumeQueued = true;
      queueMicrotask(() => {
        this.#resumeQueued = false;
        this.service();
      });
    },
  };

  constructor(o: TxPathOptions) {
    this.#o = o;
    this.#ring = o.ring;
    this.#tail = new TxTail(o.hc, o.frontendId, this.#tailGrants, this.#frame);
    this.#copy.reset(this.#frame, false);
  }

  /**
   * Consume every packet the frontend published, until the ring is empty and it knows to wake
   * us, or a receiver pauses us (then the rest of the pass waits, and the ring, for its resume).
   */
  service(): void {
    if (this.#stopped || this.#servicing || this.#creditTimer || this.#paused) return;
    this.#servicing = true;
    const ring = this.#ring;
    const p = this.#pass;
    let budget = SERVICE_PACKETS;
    try {
      // The rest of a pass a receiver paused goes first.
      this.#flush(true);
      for (;;) {
        const rp = ring.reqProd;
        if (ring.requestProdOverflow(rp)) {
          throw new Fatal(ring.requestProdOverflowMessage(rp));
        }
        while (ring.reqCons !== rp && !this.#stopped && !this.#paused) {
          if (this.#waitForCredit()) {
            this.#flush();
            return this.#push();
          }
          // A full pass goes out before the next packet is taken, so a pause can leave it whole on the ring.
          if (!p.fits(TX_TAIL_MIN)) this.#flush(true);
          else if (budget === 0) {
            this.#flush(true);
            this.#push();
            return this.#continue();
          } else {
            this.#packet(rp);
            budget--;
          }
        }
        this.#flush(true);
        this.#push();
        if (this.#stopped || this.#paused || !ring.finalCheckForRequests()) return;
      }
    } catch (e) {
      if (!(e instanceof Fatal)) {
        this.#drop();
        throw e;
      }
      // The packets before the bad one go out, as they would have one by one.
      this.#flush();
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

  /** One packet from reqCons: its extras, its chain, checked; it joins the pass (a subscription is answered at once). */
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
      // bound is answered NETIF_RSP_ERROR, as Linux's -ENOSPC is. The packets before it go first.
      this.#flush();
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
    const csumBlank = (first.flags & NETTXF_csum_blank) !== 0;
    const dataValidated = (first.flags & NETTXF_data_validated) !== 0;
    const info: NetFrameInfo = gso && gso.kind === 'gso'
      ? { csumBlank, dataValidated, gso: { type: gso.gsoType as typeof XEN_NETIF_GSO_TYPE_TCPV4, size: gso.size } }
      : plainFrameInfo(csumBlank, dataValidated);
    this.#enqueue(reqs, remaining, extras, info, refuse);
  }

  /**
   * The packet joins the pass: its ids, and the ops that copy its first bytes (all of them,
   * unless it is longer than TX_TAIL_MIN) to the end of the pass buffer; the grants of the
   * rest go to #tailGrants. A packet with a tail goes alone, at the start of the buffer, which
   * its fill completes.
   */
  #enqueue(reqs: readonly NetifTxRequest[], firstLen: number, extras: number, info: NetFrameInfo, refuse: string | null): void {
    const size = reqs[0]!.size;
    const tail = refuse === null && size > TX_TAIL_MIN;
    const head = refuse !== null ? 0 : tail ? TX_COPY_LEN : size;
    const p = this.#pass;
    if (tail || !p.fits(head)) this.#flush();
    const k = p.count;
    const base = p.used;
    p.slot0[k] = p.slots;
    p.nslots[k] = reqs.length;
    p.extras[k] = extras;
    p.size[k] = size;
    p.at[k] = base;
    p.info[k] = info;
    p.refuse[k] = refuse;
    for (let i = 0; i < reqs.length; i++) p.ids[p.slots + i] = reqs[i]!.id;
    p.slots += reqs.length;
    p.op0[k] = this.#copy.count;
    if (refuse === null) {
      const b = this.#copy;
      const t = this.#tailGrants;
      if (tail) t.reset(this.#frame, false);
      let at = 0;
      for (let i = 0; i < reqs.length; i++) {
        const r = reqs[i]!;
        const len = i === 0 ? firstLen : r.size;
        const n = at < head ? Math.min(len, head - at) : 0;
        if (n > 0) {
          p.opSlot[b.count] = i;
          b.add(r.gref, r.offset, n, base + at);
        }
        if (len > n) {
          this.#tail.slot[t.count] = i;
          t.add(r.gref, r.offset + n, len - n, 0);
        }
        at += len;
      }
    }
    p.op0[k + 1] = this.#copy.count;
    p.used = base + head;
    p.count = k + 1;
    if (tail) this.#flush();
  }

  /**
   * The pass's copy, one GNTTABOP_copy batch, and at once the answers to its packets (their
   * bytes are in dom0 now, so the frontend may reuse its pages while we forward, as Linux's
   * netback releases a copied slot before the packet goes up the stack); then each packet, in
   * ring order: counted as refused if it was or its slots did not copy, else to the switch, its
   * view valid during the call. A frame with a tail is answered after its output, once its
   * pages are let go (or refused if its tail's grants did not pin). `pausable`: stop where a
   * receiver paused us, the rest (answered) kept for resume (else it all goes: a packet is being built).
   */
  #flush(pausable = false): void {
    const p = this.#pass;
    const n = p.count;
    if (n === 0 || (pausable && this.#paused)) return;
    const b = this.#copy;
    const hc = this.#o.hc;
    const domid = this.#o.frontendId;
    let k = this.#next;
    if (k === 0) {
      if (b.count !== 0 && hc.grantCopyLocal(domid, b) !== 0) for (let j = 0; j < n; j++) p.refuse[j] ??= this.#failedCopy(j);
      // A pass is all frames without a tail, or one frame with one.
      if (p.refuse[0] !== null || p.size[0]! <= TX_TAIL_MIN) {
        for (let j = 0; j < n; j++) this.#respondAll(j, p.refuse[j] === null ? NETIF_RSP_OKAY : NETIF_RSP_ERROR);
        this.#push();
      }
    }
    const stats = this.#o.stats;
    let done = false;
    try {
      for (; k < n && !this.#stopped && !(pausable && this.#paused); k++) {
        let why: string | null = p.refuse[k]!;
        const size = p.size[k]!;
        const tail = why === null && size > TX_TAIL_MIN ? this.#tail : undefined;
        if (tail) {
          tail.reset(TX_COPY_LEN);
          if (hc.grantPinLocal(domid, this.#tailGrants) !== 0) {
            hc.grantUnpinLocal(domid, this.#tailGrants);
            why = tail.failed();
            this.#respondAll(k, NETIF_RSP_ERROR);
          }
        }
        if (why !== null) {
          this.#refused(why, k);
          continue;
        }
        stats.rxPackets++;
        stats.rxBytes += size;
        const at = p.at[k]!;
        let view = p.views[k];
        if (!view || view.byteOffset !== at || view.length !== size) view = p.views[k] = this.#frame.subarray(at, at + size);
        if (!tail) {
          this.#o.output(view, p.info[k]!, undefined, p, this.#sender);
          continue;
        }
        try {
          this.#o.output(view, p.info[k]!, tail, undefined, this.#sender);
        } finally {
          // Answered once its pages are let go: the frontend may reuse them from then on.
          hc.grantUnpinLocal(domid, this.#tailGrants);
        }
        this.#respondAll(k, NETIF_RSP_OKAY);
      }
      done = true;
    } finally {
      try {
        p.end();
      } finally {
        // Paused: the rest stays in the pass buffer (their views stay valid: nothing joins the pass meanwhile).
        if (done && k < n && !this.#stopped) this.#next = k;
        else this.#drop();
      }
    }
  }

  /** The pass is over (out, or let go). */
  #drop(): void {
    this.#pass.clear();
    this.#copy.reset(this.#frame, false);
    this.#next = 0;
  }

  /** Why packet `k`'s copy failed (its first failed op's slot), or null if it did not. */
  #failedCopy(k: number): string | null {
    const p = this.#pass;
    const b = this.#copy;
    for (let op = p.op0[k]!; op < p.op0[k + 1]!; op++) {
      const st = b.status[op]!;
      if (st !== 0) return `slot ${p.opSlot[op]} (gref ${b.ref[op]}): ${gntstName(st)}`;
    }
    return null;
  }

  /** Pass packet `k` was refused (and answered NETIF_RSP_ERROR): counted, and the first few logged. */
  #refused(why: string, k: number): void {
    this.#o.stats.rxErrors++;
    if (this.#logged < 8) {
      this.#logged++;
      this.#o.log(`d${this.#o.frontendId}: packet ${this.#pass.ids[this.#pass.slot0[k]!]} refused: ${why}`);
    }
  }

  /** One response per slot of pass packet `k`, in ring order: the first request, its extras (NULL), the chain. */
  #respondAll(k: number, status: number): void {
    const p = this.#pass;
    const s0 = p.slot0[k]!;
    const end = s0 + p.nslots[k]!;
    this.#respond(p.ids[s0]!, status, p.extras[k]!);
    for (let s = s0 + 1; s < end; s++) this.#respond(p.ids[s]!, status, 0);
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

/** The tail of the frame being output: its grants (pinned by TxPath), filled into #frame from those pins on demand, once. */
class TxTail implements FrameTail {
  head = 0;
  /** Per grant: the slot of the packet it is part of. */
  readonly slot = new Uint8Array(FATAL_SKB_SLOTS);
  #filled = false;
  #ok = false;

  constructor(readonly hc: Hypercalls, readonly domid: number, readonly pins: GrantCopyBatch, readonly frame: Uint8Array) {}

  reset(head: number): void {
    this.head = head;
    this.#filled = false;
  }

  /** Why the grants did not pin: the first that failed. */
  failed(): string {
    const g = this.pins;
    let k = 0;
    while (k < g.count - 1 && g.status[k] === 0) k++;
    return `slot ${this.slot[k]} past byte ${this.head} (gref ${g.ref[k]}): ${gntstName(g.status[k]!)}`;
  }

  fill(): boolean {
    if (this.#filled) return this.#ok;
    this.#filled = true;
    this.#ok = this.hc.grantCopyFromPins(this.domid, this.pins, this.frame, this.head);
    return this.#ok;
  }
}
