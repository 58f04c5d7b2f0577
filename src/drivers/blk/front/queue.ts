// One ring of blkfront: requests out, responses in, a shadow entry per ring slot remembering
// what each request id stands for (Linux's blk_shadow). Each slot's shadow is made once, with
// the ring, and filled in again by every request the slot carries: a request in flight costs
// the guest no object of its own. Responses are checked before they are believed: an id the
// frontend did not issue, or an rsp_prod beyond what the ring can hold, means the backend is
// broken.
import {
  BLKIF_RESPONSE_ID, BLKIF_RESPONSE_OPERATION, BLKIF_RESPONSE_STATUS, BLKIF_SLOT_SIZE, encodeBlkifRequest, type BlkifRequest,
} from '../../../abi/blkif.js';
import { FrontRing } from '../../../abi/ring.js';
import { XenError } from '../../../errors.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
import type { BoundPort } from '../../../hypervisor/port.js';
import { grantRing, revokeRing, type GrantedRing } from '../../ringpages.js';

export class FrontQueue<S> {
  readonly ring: FrontRing;
  readonly granted: GrantedRing;
  readonly port: BoundPort;
  readonly #shadow: S[];
  /** 1 while the slot's request is in flight: only those ids may be answered. */
  readonly #busy: Uint8Array;
  readonly #freeIds: number[] = [];
  /** Every id of the ring as a bigint, made once, so posting a request allocates none. */
  readonly #ids: bigint[] = [];
  #dirty = false;

  private constructor(granted: GrantedRing, port: BoundPort, newShadow: () => S) {
    this.granted = granted;
    this.ring = FrontRing.create(granted.bytes, BLKIF_SLOT_SIZE);
    this.port = port;
    const n = this.ring.nrEnts;
    this.#shadow = Array.from({ length: n }, newShadow);
    this.#busy = new Uint8Array(n);
    for (let i = n - 1; i >= 0; i--) {
      this.#freeIds.push(i);
      this.#ids[i] = BigInt(i);
    }
  }

  /**
   * A fresh ring of 2^order pages granted to `backend`, and an unbound port for it; `newShadow`
   * makes each slot's shadow.
   */
  static async create<S>(
    hc: Hypercalls, allocUnbound: (d: number) => Promise<BoundPort>, backend: number, order: number, newShadow: () => S,
  ): Promise<FrontQueue<S>> {
    const granted = grantRing(hc, backend, 1 << order);
    try {
      return new FrontQueue<S>(granted, await allocUnbound(backend), newShadow);
    } catch (e) {
      revokeRing(hc, granted);
      throw e;
    }
  }

  get hasRoom(): boolean {
    return this.#freeIds.length > 0;
  }

  /** Requests published and not yet answered. */
  get inFlight(): number {
    return this.ring.nrEnts - this.#freeIds.length;
  }

  /**
   * The shadow of the slot the next post() takes, to fill in before posting; it is the
   * caller's again once its response has been handed to poll()'s `done`.
   */
  get next(): S {
    const id = this.#freeIds[this.#freeIds.length - 1];
    if (id === undefined) throw new XenError('EAGAIN', 'blkfront ring is full');
    return this.#shadow[id]!;
  }

  /** Put a request in the slot of `next`; `req.id` is replaced by the slot's id. Published by flush(). */
  post(req: BlkifRequest): void {
    const id = this.#freeIds.pop();
    if (id === undefined) throw new XenError('EAGAIN', 'blkfront ring is full');
    this.#busy[id] = 1;
    req.id = this.#ids[id]!;
    const ring = this.ring;
    encodeBlkifRequest(ring.view, ring.slotOffset(ring.reqProdPvt), req);
    ring.reqProdPvt = ring.reqProdPvt + 1;
    this.#dirty = true;
  }

  /**
   * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY for everything posted since the last flush; true if
   * responses are waiting to be polled.
   */
  flush(): boolean {
    if (!this.#dirty) return false;
    this.#dirty = false;
    this.port.expectEvents(true);
    if (this.ring.pushRequestsAndCheckNotify()) this.port.notify();
    // poll() armed rsp_event before these requests existed (often for the very next response):
    // re-arm it for half of what is now outstanding, so one wake-up still covers a batch.
    return this.#arm();
  }

  /** Ask to be woken when half of what is outstanding is answered; true if responses are already waiting. */
  #arm(): boolean {
    const ring = this.ring;
    const outstanding = (ring.reqProd - ring.rspCons) >>> 0;
    return ring.finalCheckForResponses(Math.max(1, outstanding >> 1));
  }

  /**
   * Hand every response to `done` with its shadow, then ask to be woken when about half of
   * what is still in flight has been answered (one wake-up per batch instead of one per
   * response: DESIGN.md §10). Throws EIO if the backend misbehaves. The slot is taken again
   * only after `done` returns, so `done` may read the shadow but not keep it.
   */
  poll(done: (shadow: S, operation: number, status: number) => void): void {
    const ring = this.ring;
    const v = ring.view;
    for (;;) {
      const rp = ring.rspProd;
      if (ring.responseProdOverflow(rp)) throw new XenError('EIO', `backend published rsp_prod ${rp}, beyond the ring`);
      while (ring.rspCons !== rp) {
        // Each field is read from the slot once (no double fetch), so the slot need not be
        // copied first. The ids we issue are slot numbers: the high word is 0 (two words, no
        // bigint per response).
        const off = ring.slotOffset(ring.rspCons);
        ring.rspCons = ring.rspCons + 1;
        const lo = v.getUint32(off + BLKIF_RESPONSE_ID, true);
        const hi = v.getUint32(off + BLKIF_RESPONSE_ID + 4, true);
        if (hi !== 0 || lo >= ring.nrEnts || this.#busy[lo] === 0) {
          throw new XenError('EIO', `backend answered request id ${BigInt(hi) * 2n ** 32n + BigInt(lo)}, which is not in flight`);
        }
        this.#busy[lo] = 0;
        try {
          done(this.#shadow[lo]!, v.getUint8(off + BLKIF_RESPONSE_OPERATION), v.getInt16(off + BLKIF_RESPONSE_STATUS, true));
        } finally {
          this.#freeIds.push(lo); // after done: the slot's shadow is not handed out while done reads it
        }
      }
      // Only published requests count: the backend cannot answer the others yet.
      if (!this.#arm()) {
        this.port.expectEvents(this.inFlight > 0);
        return;
      }
    }
  }

  /**
   * The shadows of every request in flight, taken out of the ring (the connection is going);
   * their slots are free again, so read them before posting anything more.
   */
  takeInFlight(): S[] {
    const out: S[] = [];
    for (let i = 0; i < this.#shadow.length; i++) {
      if (this.#busy[i] === 0) continue;
      out.push(this.#shadow[i]!);
      this.#busy[i] = 0;
      this.#freeIds.push(i);
    }
    return out;
  }
}
