// netfront's receive ring (one per queue), by copy (request-rx-copy): every slot of the ring
// holds a posted buffer, a page granted writable to the backend, and the buffer of ring index
// i has id i & mask (as Linux's xennet_rxidx), so the backend's response at index i must
// carry that id. A frame is one response, or a chain of them (NETRXF_more_data), with extra-info
// slots after the first (GSO). It is handed to the sink without a copy where it can be, as
// Linux's netfront hands up its rx pages as an skb's frags: as a view of the page when it fits
// one slot, and as a view of the buffers' pages when they lie end to end in RAM (the buffers
// are consecutive frames, id by id, and netback fills each to the page's end; see #inPlace).
// Those views are valid during the call. A chain filled so but across the ring's end (about
// one GSO frame in 16) is reassembled into a buffer kept for it, valid during the call too; a
// chain laid out otherwise (as another backend may fill it) into memory of its own that the
// sink may keep (`owned`: a TCP segment's payload is queued for the reader without a second
// copy). The buffers are posted again once the sink returns.
//
// Responses are hostile: an id that is not the one posted at that index, responses for slots
// never posted, or a status netif.h does not define break the connection (BackendMisbehaved);
// a slot past its page, a chain longer than XEN_NETIF_NR_SLOTS_MIN, a bad GSO extra or an
// error status drop the frame and count an rx error.
import {
  NETIF_RSP_DROPPED, NETIF_RX_RSP_FLAGS, NETIF_RX_RSP_ID, NETIF_RX_RSP_OFFSET, NETIF_RX_RSP_STATUS, NETIF_RX_SLOT_SIZE,
  NETIF_RSP_OKAY, NETRXF_csum_blank, NETRXF_data_validated, NETRXF_extra_info, NETRXF_more_data, XEN_NETIF_EXTRA_FLAG_MORE,
  XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_TYPE_MAX, XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_GSO_TYPE_TCPV6, XEN_NETIF_MAX_TX_SIZE,
  XEN_NETIF_NR_SLOTS_MIN, decodeNetifExtraInfo, encodeNetifRxRequest, type NetFrameInfo, type NetifRxRequest,
} from '../../../abi/netif.js';
import { FrontRing } from '../../../abi/ring.js';
import { LE } from '../../../abi/fields.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import { ownedFrameInfo, plainFrameInfo } from '../protocol.js';
import { BackendMisbehaved } from './errors.js';
import type { NetPage, NetPages } from './pages.js';
import { copyBytes } from '../../../hypervisor/copy.js';

/** Where received frames go; `frame` is valid only during the call; `error` counts a dropped frame. */
export interface RxSink {
  frame(frame: Uint8Array, info: NetFrameInfo): void;
  error(why: string): void;
}

/** The most a reassembled frame may hold (a GSO super-frame). */
const MAX_FRAME = XEN_NETIF_MAX_TX_SIZE + 1;
/** Reassembled frames are carved from chunks of this size. */
const CHUNK = 256 << 10;

interface Slot {
  id: number;
  offset: number;
  flags: number;
  status: number;
}

export class RxQueue {
  readonly ring: FrontRing;
  readonly #buf: NetPage[];
  /** Each buffer's frame number, by id; and the guest's RAM they are pages of. */
  readonly #pfn: Int32Array;
  readonly #ram: Uint8Array;
  readonly #mask: number;
  readonly #sink: RxSink;
  readonly #req: NetifRxRequest = { id: 0, gref: 0 };
  readonly #rsp = new Uint8Array(NETIF_RX_SLOT_SIZE);
  readonly #rspView = new DataView(this.#rsp.buffer);
  readonly #slots: Slot[] = Array.from({ length: XEN_NETIF_NR_SLOTS_MIN }, () => ({ id: 0, offset: 0, flags: 0, status: 0 }));
  readonly #scratch: Slot = { id: 0, offset: 0, flags: 0, status: 0 };
  /** Per buffer id, the view last handed up from it: reused while a stream's frames keep their offset and size (a view a frame saves an allocation a frame). */
  readonly #views: (Uint8Array | undefined)[];
  /** Where a chain filled as netback fills it but not end to end in RAM is reassembled, reused frame after frame. */
  #reassembly: Uint8Array | undefined;
  /** Where other reassembled frames are carved from; never written again once handed out. */
  #chunk = new Uint8Array(0);
  #chunkAt = 0;

  constructor(ringBytes: Uint8Array, pages: NetPages, sink: RxSink) {
    this.ring = FrontRing.create(ringBytes, NETIF_RX_SLOT_SIZE);
    this.#mask = this.ring.nrEnts - 1;
    this.#sink = sink;
    // In frame order, so that buffers of consecutive ids are consecutive frames (fresh frames are).
    this.#buf = pages.grantMany(this.ring.nrEnts).sort((a, b) => a.pfn - b.pfn);
    this.#pfn = Int32Array.from(this.#buf, (p) => p.pfn);
    this.#ram = new Uint8Array(pages.memory);
    this.#views = new Array<Uint8Array | undefined>(this.ring.nrEnts).fill(undefined);
  }

  /** Post a buffer in every free slot; true when the backend must be notified (feature-rx-notify). */
  refill(): boolean {
    const ring = this.ring;
    const start = ring.reqProdPvt;
    while (((ring.reqProdPvt - ring.rspCons) >>> 0) < ring.nrEnts) {
      const id = ring.reqProdPvt & this.#mask;
      this.#req.id = id;
      this.#req.gref = this.#buf[id]!.ref;
      encodeNetifRxRequest(ring.view, ring.slotOffset(ring.reqProdPvt), this.#req);
      ring.reqProdPvt++;
    }
    return ring.reqProdPvt !== start && ring.pushRequestsAndCheckNotify();
  }

  /**
   * Take the complete frames the backend has answered so far, at most `budget` of them; buffers
   * are posted again by refill(). True when more are there (past the budget) or came meanwhile
   * (else the backend will send an event for the next, or for the next slot of a chain
   * published in part).
   */
  poll(budget = Infinity): boolean {
    const ring = this.ring;
    const prod = ring.rspProd;
    const avail = (prod - ring.rspCons) >>> 0;
    if (avail > ((ring.reqProdPvt - ring.rspCons) >>> 0)) {
      throw new BackendMisbehaved(`rx rsp_prod ${prod} answers buffers never posted (rsp_cons ${ring.rspCons}, req_prod ${ring.reqProdPvt})`);
    }
    while (ring.rspCons !== prod) {
      if (budget-- === 0) return true;
      const used = this.#frame(ring.rspCons, prod);
      // A chain not wholly published yet: woken by its next slot, not by what is there already.
      if (used === 0) return ring.finalCheckForResponsesAfter(prod);
      ring.rspCons = (ring.rspCons + used) >>> 0;
    }
    return ring.finalCheckForResponses();
  }

  #read(idx: number, s: Slot): void {
    this.ring.copyResponse(idx, this.#rsp);
    s.id = this.#rspView.getUint16(NETIF_RX_RSP_ID, LE);
    s.offset = this.#rspView.getUint16(NETIF_RX_RSP_OFFSET, LE);
    s.flags = this.#rspView.getUint16(NETIF_RX_RSP_FLAGS, LE);
    s.status = this.#rspView.getInt16(NETIF_RX_RSP_STATUS, LE);
    if (s.id !== (idx & this.#mask)) throw new BackendMisbehaved(`rx response at index ${idx} has id ${s.id}, not the id ${idx & this.#mask} posted there`);
    if (s.status < NETIF_RSP_DROPPED) throw new BackendMisbehaved(`rx response status ${s.status} is not a NETIF_RSP_* code`);
  }

  /**
   * A frame runs up to rsp_prod: wait for the rest (0), unless every posted buffer is answered
   * already, when the rest can never come: then it is dropped, with all it used.
   */
  #unfinished(cons: number, prod: number): number {
    const used = (prod - cons) >>> 0;
    if (used < ((this.ring.reqProdPvt - cons) >>> 0)) return 0;
    this.#sink.error(`a frame of ${used} slots that never ends`);
    return used;
  }

  /** Parse the frame starting at `cons`: the slots it used, or 0 when it is not all there yet. */
  #frame(cons: number, prod: number): number {
    const ring = this.ring;
    const first = this.#slots[0]!;
    this.#read(cons, first);
    let i = 1;
    let bad: string | null = first.status < NETIF_RSP_OKAY ? `the backend answered status ${first.status}` : null;
    let gso: NetFrameInfo['gso'];
    // Extra-info slots follow the first response: a GSO extra, and others skipped.
    let more = (first.flags & NETRXF_extra_info) !== 0;
    for (let extras = 0; more; extras++) {
      if (((cons + i) >>> 0) === prod) return this.#unfinished(cons, prod);
      if (extras === XEN_NETIF_EXTRA_TYPE_MAX - 1) {
        bad ??= 'too many extra-info slots';
        break;
      }
      const idx = (cons + i++) >>> 0;
      const x = decodeNetifExtraInfo(ring.view, ring.slotOffset(idx));
      more = (x.flags & XEN_NETIF_EXTRA_FLAG_MORE) !== 0;
      if (x.kind === 'gso' && x.type === XEN_NETIF_EXTRA_TYPE_GSO) {
        if ((x.gsoType !== XEN_NETIF_GSO_TYPE_TCPV4 && x.gsoType !== XEN_NETIF_GSO_TYPE_TCPV6) || x.size === 0) {
          bad ??= `GSO extra-info of type ${x.gsoType}, size ${x.size}`;
        } else {
          gso = { type: x.gsoType, size: x.size };
        }
      }
    }
    // Data slots: the first response (#slots[0]), then the more_data chain in #slots[1..n).
    const data = this.#slots;
    let n = 1;
    let chain = (first.flags & NETRXF_more_data) !== 0;
    while (chain) {
      if (((cons + i) >>> 0) === prod) return this.#unfinished(cons, prod);
      if (n === XEN_NETIF_NR_SLOTS_MIN) {
        // Too long: drop it, and everything up to the end of the chain as published.
        bad ??= `a more_data chain longer than ${XEN_NETIF_NR_SLOTS_MIN} slots`;
        const s = this.#scratch;
        this.#read((cons + i++) >>> 0, s);
        chain = (s.flags & NETRXF_more_data) !== 0;
        continue;
      }
      const s = data[n++]!;
      this.#read((cons + i++) >>> 0, s);
      chain = (s.flags & NETRXF_more_data) !== 0;
    }
    let len = 0;
    for (let k = 0; k < n; k++) {
      const s = data[k]!;
      if (s.status < NETIF_RSP_OKAY) bad ??= `the backend answered status ${s.status}`;
      else if (s.offset + s.status > PAGE_SIZE) bad ??= `a slot of ${s.status} bytes at offset ${s.offset} runs past its page`;
      else len += s.status;
    }
    if (!bad && len === 0) bad = 'an empty frame';
    if (!bad && len > MAX_FRAME) bad = `a ${len}-byte frame`;
    if (bad) {
      this.#sink.error(bad);
      return i;
    }
    const csumBlank = (first.flags & NETRXF_csum_blank) !== 0;
    const dataValidated = (first.flags & NETRXF_data_validated) !== 0;
    const info = gso ? { csumBlank, dataValidated, gso } : plainFrameInfo(csumBlank, dataValidated);
    const view = n === 1 ? this.#slotView(first.id, first.offset, len) : this.#inPlace(n, i - n, cons, len);
    if (view) {
      this.#sink.frame(view, info);
      return i;
    }
    // Filled as netback fills a chain, but not end to end in RAM (across the ring's end): into
    // the reassembly buffer, valid during the call as a view is. A fresh buffer for it cost the
    // receiver about ten times the copy (page faults into new memory, collections).
    const reused = this.#asNetback(n);
    const frame = reused ? (this.#reassembly ??= new Uint8Array(MAX_FRAME)).subarray(0, len) : this.#carve(len);
    let at = 0;
    for (let k = 0; k < n; k++) {
      const s = data[k]!;
      copyBytes(frame, this.#buf[s.id]!.bytes.subarray(s.offset, s.offset + s.status), at);
      at += s.status;
    }
    if (reused) this.#sink.frame(frame, info);
    else this.#sink.frame(frame, gso ? { csumBlank, dataValidated, gso, owned: true } : ownedFrameInfo(csumBlank, dataValidated));
    return i;
  }

  /** Whether the chain's slots after the first (in #slots) are filled as netback fills them: from the page's start, and all but the last to its end. */
  #asNetback(n: number): boolean {
    const data = this.#slots;
    for (let k = 1; k < n; k++) {
      const s = data[k]!;
      if (s.offset !== 0 || (k < n - 1 && s.status !== PAGE_SIZE)) return false;
    }
    return true;
  }

  /** The view of `len` bytes at `offset` in buffer `id`. */
  #slotView(id: number, offset: number, len: number): Uint8Array {
    const bytes = this.#buf[id]!.bytes;
    const v = this.#views[id];
    if (v !== undefined && v.byteOffset === bytes.byteOffset + offset && v.length === len) return v;
    return (this.#views[id] = bytes.subarray(offset, offset + len));
  }

  /**
   * The frame of `n` data slots (in #slots, `extras` extra-info slots after the first, from
   * ring index `cons`) as one view of RAM, if its bytes can lie end to end there: the chain's
   * buffers are consecutive frames, each filled from its start and all but the last to its end;
   * the first slot's bytes end where the chain starts, as they are, or once moved to the end of
   * the buffer just before the chain, which is the last extra-info slot's (a buffer posted and
   * left unused, ours again; at most a page is copied). Undefined otherwise.
   */
  #inPlace(n: number, extras: number, cons: number, len: number): Uint8Array | undefined {
    const data = this.#slots;
    const pfn = this.#pfn;
    if (!this.#asNetback(n)) return undefined;
    for (let k = 2; k < n; k++) if (pfn[data[k]!.id] !== pfn[data[k - 1]!.id]! + 1) return undefined;
    const first = data[0]!;
    const chain = pfn[data[1]!.id]! * PAGE_SIZE;
    const start = chain - first.status;
    if (first.offset + first.status !== PAGE_SIZE || pfn[first.id]! * PAGE_SIZE !== chain - PAGE_SIZE) {
      if (extras === 0 || pfn[(cons + extras) & this.#mask]! * PAGE_SIZE !== chain - PAGE_SIZE) return undefined;
      const from = pfn[first.id]! * PAGE_SIZE + first.offset;
      const end = from + first.status;
      // One memcpy (copyWithin on guest RAM copies byte by byte when the two are not equally
      // aligned, and the headers' offset never is); copyWithin only for ranges that overlap,
      // which only a backend answering two slots with one buffer's id could make.
      if (end <= start || from >= chain) copyBytes(this.#ram, this.#ram.subarray(from, end), start);
      else this.#ram.copyWithin(start, from, end);
    }
    return this.#ram.subarray(start, start + len);
  }

  /**
   * Memory of its own for a reassembled frame, carved from a chunk that is never reused: one
   * allocation per CHUNK bytes rather than one per frame (a fresh 64 KiB buffer per GSO frame
   * is external memory that drives V8 into frequent full collections: GSO frames between two
   * guests fell from 34k/s to 5k/s). A frame the sink keeps pins its chunk: a sink that keeps
   * one 64 KiB frame of every chunk holds at most four times those bytes.
   */
  #carve(len: number): Uint8Array {
    if (this.#chunk.length - this.#chunkAt < len) {
      // Not zeroed first: every byte of a frame is written before it is handed out.
      this.#chunk = new Uint8Array(Buffer.allocUnsafeSlow(Math.max(CHUNK, len)).buffer);
      this.#chunkAt = 0;
    }
    const frame = this.#chunk.subarray(this.#chunkAt, this.#chunkAt + len);
    // Frames start 8-byte aligned, as the allocator's would.
    this.#chunkAt += (len + 7) & ~7;
    return frame;
  }
}
