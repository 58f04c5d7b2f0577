// One ring of blkfront: requests out, responses in, a shadow entry per ring slot remembering
// what each request id stands for (Linux's blk_shadow). Each slot's shadow is made once, with
// the ring, and filled in again by every request the slot carries: a request in flight costs
// the guest no object of its own. Responses are checked before they are believed: an id the
// frontend did not issue, or an rsp_prod beyond what the ring can hold, means the backend is
// broken. The ring's bytes are read and written where its RingIo runs (ring-io.ts): a shared
// pCPU's domains have it done in the pCPU's one copy of that code.
import { BLKIF_SLOT_SIZE, encodeBlkifRequest, type BlkifRequest } from '../../../abi/blkif.js';
import { FrontRing } from '../../../abi/ring.js';
import { XenError } from '../../../errors.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
import type { BoundPort } from '../../../hypervisor/port.js';
import { grantRing, revokeRing, type GrantedRing } from '../../ringpages.js';
import {
  POLL_BAD_ID, POLL_COUNT, POLL_MORE, POLL_OVERFLOW, POLL_RECORD, PUSH_NOTIFY, PUSH_RESPONSES, ringIoOf, STAGE_HANDLE, STAGE_ID, STAGE_INDEX,
  STAGE_NSEG, STAGE_OP, STAGE_RECORD, STAGE_SECTOR, STAGE_SEGS, type RingIo,
} from './ring-io.js';

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
  /** Where its ring work runs (ring-io.ts): on the domain's own views, or in its pCPU thread's copy. */
  readonly #io: RingIo;
  /** The reads and writes staged for the next flush(), STAGE_RECORD numbers each. */
  readonly #staged: Float64Array;
  #nstaged = 0;
  /** Where seg() writes: the segments of the last request staged. */
  #segBase = 0;
  /** Where poll()'s responses land, POLL_RECORD numbers each. */
  readonly #out: Int32Array;

  private constructor(granted: GrantedRing, port: BoundPort, newShadow: () => S, io: RingIo) {
    this.granted = granted;
    this.ring = FrontRing.create(granted.bytes, BLKIF_SLOT_SIZE);
    this.port = port;
    this.#io = io;
    const n = this.ring.nrEnts;
    this.#staged = new Float64Array(n * STAGE_RECORD);
    this.#out = new Int32Array(POLL_RECORD * n);
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
      return new FrontQueue<S>(granted, await allocUnbound(backend), newShadow, ringIoOf(hc.memory.buffers.memory));
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
    const id = this.#take();
    req.id = this.#ids[id]!;
    const ring = this.ring;
    encodeBlkifRequest(ring.view, ring.slotOffset(ring.reqProdPvt), req);
    ring.reqProdPvt = ring.reqProdPvt + 1;
    this.#dirty = true;
  }

  /** A read or write of `nseg` segments in the slot of `next`, each filled in by seg(); published by flush(). */
  stageSegments(operation: number, handle: number, sector: number, nseg: number): void {
    const id = this.#take();
    const st = this.#staged;
    const b = this.#nstaged++ * STAGE_RECORD;
    st[b + STAGE_INDEX] = this.ring.reqProdPvt;
    st[b + STAGE_ID] = id;
    st[b + STAGE_OP] = operation;
    st[b + STAGE_HANDLE] = handle;
    st[b + STAGE_SECTOR] = sector;
    st[b + STAGE_NSEG] = nseg;
    this.#segBase = b + STAGE_SEGS;
    this.ring.reqProdPvt = this.ring.reqProdPvt + 1;
    this.#dirty = true;
  }

  /** A free slot's id, marked busy, for the request about to be put in the slot of `next`. */
  #take(): number {
    const id = this.#freeIds.pop();
    if (id === undefined) throw new XenError('EAGAIN', 'blkfront ring is full');
    this.#busy[id] = 1;
    return id;
  }

  /** Segment `i` of the request stageSegments() just staged. */
  seg(i: number, gref: number, lastSect: number): void {
    this.#staged[this.#segBase + 2 * i] = gref;
    this.#staged[this.#segBase + 2 * i + 1] = lastSect;
  }

  /**
   * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY for everything posted since the last flush (ring-io.ts
   * encodes what was staged); true if responses are waiting to be polled.
   */
  flush(): boolean {
    if (!this.#dirty) return false;
    this.#dirty = false;
    this.port.expectEvents(true);
    const ring = this.ring;
    const n = this.#nstaged;
    this.#nstaged = 0;
    // Also re-arms rsp_event for half of what is now outstanding (poll() armed it before these
    // requests existed), so one wake-up still covers a batch.
    const r = this.#io.push(ring.bytes.byteOffset, ring.nrEnts, this.port.port, this.#staged, n, ring.reqProdPvt, ring.rspCons);
    if (r < 0) throw new XenError('EIO', 'blkfront ring is not in the domain\'s memory');
    if (r & PUSH_NOTIFY) this.port.notify();
    return (r & PUSH_RESPONSES) !== 0;
  }

  /**
   * Hand every response to `done` with its shadow, then ask to be woken when about half of
   * what is still in flight has been answered (one wake-up per batch instead of one per
   * response: DESIGN.md §10). Throws EIO if the backend misbehaves. The slot is taken again
   * only after `done` returns, so `done` may read the shadow but not keep it.
   */
  poll(done: (shadow: S, operation: number, status: number) => void): void {
    const ring = this.ring;
    const out = this.#out;
    for (;;) {
      const r = this.#io.poll(ring.bytes.byteOffset, ring.nrEnts, ring.rspCons, out);
      if (r === POLL_OVERFLOW) throw new XenError('EIO', `backend published rsp_prod ${out[0]! >>> 0}, beyond the ring`);
      if (r === POLL_BAD_ID) {
        throw new XenError('EIO', `backend answered request id ${BigInt(out[1]! >>> 0) * 2n ** 32n + BigInt(out[0]! >>> 0)}, which is not in flight`);
      }
      if (r < 0) throw new XenError('EIO', 'blkfront ring is not in the domain\'s memory');
      const n = r & POLL_COUNT;
      for (let k = 0; k < n; k++) {
        // Our ids are slot numbers; one past the ring is not busy either.
        const id = out[POLL_RECORD * k]! >>> 0;
        ring.rspCons = ring.rspCons + 1;
        if (this.#busy[id] !== 1) throw new XenError('EIO', `backend answered request id ${id}, which is not in flight`);
        this.#busy[id] = 0;
        try {
          done(this.#shadow[id]!, out[POLL_RECORD * k + 1]!, out[POLL_RECORD * k + 2]!);
        } finally {
          this.#freeIds.push(id); // after done: the slot's shadow is not handed out while done reads it
        }
      }
      if ((r & POLL_MORE) === 0) {
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
