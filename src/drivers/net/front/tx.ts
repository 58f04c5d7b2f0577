// netfront's transmit ring (one per queue): a frame goes out as netif.h's slot rules say. Its
// bytes lie in pages of the transmit arena (./arena.ts), one slot per page (so offset+size
// always fits a page): copied there when it is posted, or built there in place beforehand; the
// first slot carries the whole frame's size, more_data chains the rest, and a GSO super-frame's
// first slot is followed by its GSO extra-info slot. Responses are checked
// before they are believed: an id not in flight, or a status netif.h does not define, means
// the backend is broken (the caller closes the device).
import {
  NETIF_RSP_DROPPED, NETIF_RSP_NULL, NETIF_RSP_OKAY, NETIF_TX_RSP_ID, NETIF_TX_RSP_STATUS, NETIF_TX_SLOT_SIZE,
  NETTXF_csum_blank, NETTXF_data_validated, NETTXF_extra_info, NETTXF_more_data, XEN_NETIF_EXTRA_TYPE_GSO,
  encodeNetifExtraInfo, encodeNetifTxRequest, type NetFrameInfo, type NetifExtraGso, type NetifTxRequest,
} from '../../../abi/netif.js';
import { FrontRing } from '../../../abi/ring.js';
import { LE } from '../../../abi/fields.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import type { TxArena, TxRun } from './arena.js';
import { BackendMisbehaved } from './errors.js';
import { copyBytes } from '../../../hypervisor/copy.js';

/** A frame waiting for the ring or in flight; `settle` is called once, with its status. */
export interface TxFrame {
  /** Its bytes: the caller's, or the arena's when it was built in place (then `run.bytes`). */
  data: Uint8Array;
  readonly info: NetFrameInfo;
  /** Its pages in the arena, from the time it is built in place or posted until it is answered. */
  run: TxRun | undefined;
  /** Data slots still unanswered. */
  left: number;
  status: number;
  settle(f: TxFrame): void;
}

/** Data slots a frame of `len` bytes takes (a page each). */
export function txSlots(len: number): number {
  return Math.ceil(len / PAGE_SIZE);
}

export class TxQueue {
  readonly ring: FrontRing;
  readonly #arena: TxArena;
  readonly #inFlight: (TxFrame | null)[];
  readonly #freeIds: number[] = [];
  readonly #req: NetifTxRequest = { gref: 0, offset: 0, flags: 0, id: 0, size: 0 };
  readonly #gso: NetifExtraGso = { kind: 'gso', type: XEN_NETIF_EXTRA_TYPE_GSO, flags: 0, size: 0, gsoType: 0, features: 0 };
  readonly #rsp = new Uint8Array(NETIF_TX_SLOT_SIZE);
  readonly #rspView = new DataView(this.#rsp.buffer);
  #dirty = false;
  #notifyDue = false;

  constructor(ringBytes: Uint8Array, arena: TxArena) {
    this.ring = FrontRing.create(ringBytes, NETIF_TX_SLOT_SIZE);
    this.#arena = arena;
    this.#inFlight = new Array<TxFrame | null>(this.ring.nrEnts).fill(null);
    for (let i = this.ring.nrEnts - 1; i >= 0; i--) this.#freeIds.push(i);
  }

  get inFlight(): number {
    return this.ring.nrEnts - this.#freeIds.length;
  }

  /** Whether a frame of `len` bytes (`gso`: with its extra-info slot) fits on the ring now. */
  fits(len: number, gso: boolean): boolean {
    const n = txSlots(len);
    return this.#freeIds.length >= n && this.ring.freeRequests() >= n + (gso ? 1 : 0);
  }

  /** Put `f` on the ring; false when there is no room for all its slots (or, to copy it, arena pages) yet. */
  post(f: TxFrame): boolean {
    const ring = this.ring;
    const len = f.data.length;
    const n = txSlots(len);
    const gso = f.info.gso;
    if (!this.fits(len, gso !== undefined)) return false;
    const arena = this.#arena;
    let run = f.run;
    if (!run) {
      // A frame of several pages goes into pages that follow one another in RAM where the arena
      // has such a run free: one copy, not one a page (a copy costs a call as much as 8 KiB).
      const whole = n > 1 ? arena.findContiguous(len) : undefined;
      run = whole ?? arena.allocAny(n);
      if (!run) return false;
      f.run = run;
      // A one-slot frame goes whole: no view of it is made.
      if (n === 1) copyBytes(arena.view(run.pages[0]!), f.data);
      else if (whole) copyBytes(whole.bytes!, f.data);
      else for (let k = 0; k < n; k++) copyBytes(arena.view(run.pages[k]!), f.data.subarray(k * PAGE_SIZE, Math.min(len, (k + 1) * PAGE_SIZE)));
    }
    const req = this.#req;
    let flags = (f.info.csumBlank ? NETTXF_csum_blank : 0) | (f.info.dataValidated ? NETTXF_data_validated : 0);
    if (gso) flags |= NETTXF_extra_info;
    f.left = n;
    for (let k = 0; k < n; k++) {
      const id = this.#freeIds.pop()!;
      this.#inFlight[id] = f;
      req.gref = arena.ref(run.pages[k]!);
      req.offset = 0;
      req.id = id;
      req.size = k === 0 ? len : Math.min(PAGE_SIZE, len - k * PAGE_SIZE);
      req.flags = (k === 0 ? flags : 0) | (k < n - 1 ? NETTXF_more_data : 0);
      encodeNetifTxRequest(ring.view, ring.slotOffset(ring.reqProdPvt), req);
      ring.reqProdPvt++;
      if (k === 0 && gso) {
        this.#gso.size = gso.size;
        this.#gso.gsoType = gso.type;
        encodeNetifExtraInfo(ring.view, ring.slotOffset(ring.reqProdPvt), this.#gso);
        ring.reqProdPvt++;
      }
    }
    this.#dirty = true;
    return true;
  }

  /**
   * Publish what post() wrote, now; the event the backend may need waits for flush() at the end
   * of the turn. A backend still working on earlier frames takes these as soon as it looks again
   * (it copies a burst's first frames while the stack builds the rest); one that sleeps is woken
   * once a turn, as before: waking it for each frame cost more than the overlap gained.
   */
  publish(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    if (this.ring.pushRequestsAndCheckNotify()) this.#notifyDue = true;
  }

  /** Publish what post() wrote; true when the backend must be notified (of these or of those publish() put out). */
  flush(): boolean {
    this.publish();
    const due = this.#notifyDue;
    this.#notifyDue = false;
    return due;
  }

  /**
   * Take the responses; `settle` of each frame whose slots are all answered runs. Then ask to be
   * woken by the next response, or, `lazy`, only by one that leaves the ring full of answers:
   * frames built in place wait for nothing but their pages, and the ACKs that wake the sender
   * anyway (whose handler polls first) give them back, so a wake-up per backend pass (one per
   * burst, each a sleep and a wake of the sender's thread) buys nothing. Linux's netfront also
   * takes tx responses in its transmit path (xennet_start_xmit's xennet_tx_buf_gc), and its older
   * versions asked for the tx event only half-way through what was outstanding.
   */
  poll(lazy = false): void {
    const ring = this.ring;
    do {
      const prod = ring.rspProd;
      if (ring.responseProdOverflow(prod)) throw new BackendMisbehaved(`tx rsp_prod ${prod} is beyond the ring (rsp_cons ${ring.rspCons})`);
      for (let i = ring.rspCons; i !== prod; i = (i + 1) >>> 0) {
        ring.copyResponse(i, this.#rsp);
        ring.rspCons = (i + 1) >>> 0;
        const id = this.#rspView.getUint16(NETIF_TX_RSP_ID, LE);
        const status = this.#rspView.getInt16(NETIF_TX_RSP_STATUS, LE);
        if (status === NETIF_RSP_NULL) continue; // the answer to an extra-info slot
        if (status < NETIF_RSP_DROPPED || status > NETIF_RSP_OKAY) throw new BackendMisbehaved(`tx response status ${status} is not a NETIF_RSP_* code`);
        const f = id < this.#inFlight.length ? this.#inFlight[id] : null;
        if (!f) throw new BackendMisbehaved(`tx response for id ${id}, which is not in flight`);
        this.#inFlight[id] = null;
        this.#freeIds.push(id);
        if (status !== NETIF_RSP_OKAY && f.status === NETIF_RSP_OKAY) f.status = status;
        if (--f.left === 0) f.settle(f);
      }
    } while (ring.finalCheckForResponses(lazy ? ring.nrEnts : 1));
  }

  /** Be woken by the next response from now on; true when responses already wait (poll them). */
  wantResponses(): boolean {
    return this.ring.finalCheckForResponses(1);
  }

  /** The connection went: the frames in flight, once each (to send again or to fail). */
  takeInFlight(): TxFrame[] {
    const out = new Set<TxFrame>();
    for (let id = 0; id < this.#inFlight.length; id++) {
      const f = this.#inFlight[id];
      if (f) out.add(f);
      this.#inFlight[id] = null;
    }
    return [...out];
  }
}
