// The generic shared ring of xen/io/ring.h over one or more contiguous ring pages: the sring
// header, slot addressing, the front and back private state, and the index arithmetic of the
// RING_* macros (free-running uint32 indices, masked on access, notify hold-off through
// req_event/rsp_event).
//
// The four header indices are shared with the peer's thread, so they are only touched with
// Atomics. Atomics are sequentially consistent, which covers every xen_wmb/xen_rmb/xen_mb that
// ring.h places around them. Everything runs in uint32 arithmetic: `(a - b) >>> 0`.
import { XenError } from '../errors.js';

/** Byte offsets in the sring header (struct <name>_sring). */
export const SRING_REQ_PROD = 0;
export const SRING_REQ_EVENT = 4;
export const SRING_RSP_PROD = 8;
export const SRING_RSP_EVENT = 12;
/** union pvt (4 bytes; netif's smartpoll_active lives here), then uint8_t __pad[44]. */
export const SRING_PVT = 16;
export const SRING_PAD = 20;
/** offsetof(struct <name>_sring, ring): the first slot. */
export const SRING_RING = 64;

// Word indices of the header fields in an Int32Array over the ring.
const W_REQ_PROD = SRING_REQ_PROD >> 2;
const W_REQ_EVENT = SRING_REQ_EVENT >> 2;
const W_RSP_PROD = SRING_RSP_PROD >> 2;
const W_RSP_EVENT = SRING_RSP_EVENT >> 2;

const UINT32_LIMIT = 2 ** 32;

function checkUint32(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v >= UINT32_LIMIT) {
    throw new XenError('EINVAL', `${what} must be a uint32 ring index, got ${v}`);
  }
  return v;
}

/** __RD32: round a uint32 down to a power of two (0 stays 0). */
function roundDownPow2(n: number): number {
  return n === 0 ? 0 : 0x80000000 >>> Math.clz32(n);
}

/**
 * __RING_SIZE: the number of slots of `slotSize` bytes (sizeof the union <name>_sring_entry) that
 * fit in `bytes` of ring memory after the header, rounded down to a power of two so an index can
 * be masked. 0 when not even one slot fits.
 */
export function ringSize(bytes: number, slotSize: number): number {
  if (!Number.isInteger(slotSize) || slotSize <= 0) {
    throw new XenError('EINVAL', `ring slot size must be a positive integer, got ${slotSize}`);
  }
  if (!Number.isInteger(bytes) || bytes < 0) {
    throw new XenError('EINVAL', `ring size in bytes must be a non-negative integer, got ${bytes}`);
  }
  if (bytes < SRING_RING) return 0;
  return roundDownPow2(Math.min(Math.floor((bytes - SRING_RING) / slotSize), UINT32_LIMIT - 1));
}

function headerWords(bytes: Uint8Array): Int32Array {
  if (bytes.byteOffset % 4 !== 0) {
    throw new XenError('EINVAL', `ring memory must be 4-byte aligned (byteOffset ${bytes.byteOffset})`);
  }
  if (bytes.byteLength < SRING_RING) {
    throw new XenError('EINVAL', `ring memory of ${bytes.byteLength} bytes cannot hold the ${SRING_RING}-byte sring header`);
  }
  return new Int32Array(bytes.buffer, bytes.byteOffset, SRING_RING >> 2);
}

/**
 * SHARED_RING_INIT: empty ring, both event thresholds at 1 so the first message notifies, pvt
 * and padding zeroed. Only the frontend does this; a backend attaches to what it finds.
 */
export function sharedRingInit(bytes: Uint8Array): void {
  const w = headerWords(bytes);
  Atomics.store(w, W_REQ_PROD, 0);
  Atomics.store(w, W_RSP_PROD, 0);
  Atomics.store(w, W_REQ_EVENT, 1);
  Atomics.store(w, W_RSP_EVENT, 1);
  bytes.fill(0, SRING_PVT, SRING_RING);
}

/**
 * RING_PUSH_{REQUESTS,RESPONSES}_AND_CHECK_NOTIFY: publish `next` as the producer index and
 * report whether the peer asked to be woken for an index in (old, next].
 */
function pushAndCheckNotify(w: Int32Array, prodWord: number, eventWord: number, next: number): boolean {
  const old = Atomics.load(w, prodWord);
  Atomics.store(w, prodWord, next | 0);
  const event = Atomics.load(w, eventWord);
  return ((next - event) >>> 0) < ((next - old) >>> 0);
}

/**
 * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY on a ring whose header is at word `base` of `w`, with
 * req_prod_pvt passed in: for code that holds no FrontRing (drivers/blk/front/ring-io.ts runs a
 * realm's ring in its pCPU thread's copy). FrontRing's own is this at word 0.
 */
export function frontPushAt(w: Int32Array, base: number, reqProdPvt: number): boolean {
  return pushAndCheckNotify(w, base + W_REQ_PROD, base + W_REQ_EVENT, reqProdPvt);
}

/**
 * RING_FINAL_CHECK_FOR_RESPONSES as frontPushAt does it: `wakeAfter` is the caller's to bound.
 * Returns the rsp_prod it read last (uint32): responses wait if it is not rspCons.
 */
export function frontFinalCheckAt(w: Int32Array, base: number, rspCons: number, wakeAfter: number): number {
  const rp = rspProdAt(w, base);
  if (rp !== rspCons >>> 0) return rp;
  Atomics.store(w, base + W_RSP_EVENT, (rspCons + wakeAfter) | 0);
  return rspProdAt(w, base);
}

/** req_prod and rsp_prod of a ring whose header is at word `base` of `w` (uint32). */
export function reqProdAt(w: Int32Array, base: number): number {
  return Atomics.load(w, base + W_REQ_PROD) >>> 0;
}
export function rspProdAt(w: Int32Array, base: number): number {
  return Atomics.load(w, base + W_RSP_PROD) >>> 0;
}

/** What the front and back halves share: the ring memory, its geometry and the header. */
abstract class RingHalf {
  /** The ring memory (header and slots), as given. */
  readonly bytes: Uint8Array;
  /** A DataView over `bytes`, for encoding and decoding slots at `slotOffset(idx)`. */
  readonly view: DataView;
  /** sizeof(union <name>_sring_entry). */
  readonly slotSize: number;
  /** RING_SIZE: the number of slots, a power of two. */
  readonly nrEnts: number;
  protected readonly words: Int32Array;
  readonly #mask: number;
  // One view per slot, made once, so copying a slot allocates nothing.
  readonly #slots: Uint8Array[];

  constructor(bytes: Uint8Array, slotSize: number) {
    this.words = headerWords(bytes);
    this.nrEnts = ringSize(bytes.byteLength, slotSize);
    if (this.nrEnts === 0) {
      throw new XenError('EINVAL', `${bytes.byteLength} bytes of ring memory hold no ${slotSize}-byte slot`);
    }
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.slotSize = slotSize;
    this.#mask = this.nrEnts - 1;
    this.#slots = [];
    for (let i = 0; i < this.nrEnts; i++) {
      const off = SRING_RING + i * slotSize;
      this.#slots.push(bytes.subarray(off, off + slotSize));
    }
  }

  /** Byte offset in `bytes` of the slot for ring index `idx` (RING_GET_REQUEST/RESPONSE). */
  slotOffset(idx: number): number {
    return SRING_RING + (idx & this.#mask) * this.slotSize;
  }

  /** The slot for `idx` as a view of shared memory: for producers to fill in place. */
  slot(idx: number): Uint8Array {
    return this.#slots[idx & this.#mask]!;
  }

  get reqProd(): number {
    return reqProdAt(this.words, 0);
  }

  get reqEvent(): number {
    return Atomics.load(this.words, W_REQ_EVENT) >>> 0;
  }

  get rspProd(): number {
    return rspProdAt(this.words, 0);
  }

  get rspEvent(): number {
    return Atomics.load(this.words, W_RSP_EVENT) >>> 0;
  }

  /** RING_COPY_*: one read of the slot into private memory, which is then the only copy used. */
  protected copySlot(idx: number, dst: Uint8Array): void {
    if (dst.length < this.slotSize) {
      throw new XenError('EINVAL', `slot copy needs ${this.slotSize} bytes, destination has ${dst.length}`);
    }
    dst.set(this.#slots[idx & this.#mask]!);
  }

  protected checkWakeAfter(wakeAfter: number): void {
    if (!Number.isInteger(wakeAfter) || wakeAfter < 1 || wakeAfter > this.nrEnts) {
      throw new XenError('EINVAL', `wake-up threshold must be 1..${this.nrEnts}, got ${wakeAfter}`);
    }
  }
}

/** The front end: produces requests, consumes responses. */
export class FrontRing extends RingHalf {
  #reqProdPvt: number;
  #rspCons: number;

  /** FRONT_RING_ATTACH at index `start` (FRONT_RING_INIT when 0); the shared header is left alone. */
  constructor(bytes: Uint8Array, slotSize: number, start = 0) {
    super(bytes, slotSize);
    this.#reqProdPvt = this.#rspCons = checkUint32('start', start);
  }

  /** XEN_FRONT_RING_INIT: SHARED_RING_INIT, then FRONT_RING_INIT. */
  static create(bytes: Uint8Array, slotSize: number): FrontRing {
    sharedRingInit(bytes);
    return new FrontRing(bytes, slotSize);
  }

  /** req_prod_pvt: the next request index to fill; published by pushRequests*. Wraps at 2^32. */
  get reqProdPvt(): number {
    return this.#reqProdPvt;
  }

  set reqProdPvt(v: number) {
    this.#reqProdPvt = v >>> 0;
  }

  /** rsp_cons: the next response index to consume. Wraps at 2^32. */
  get rspCons(): number {
    return this.#rspCons;
  }

  set rspCons(v: number) {
    this.#rspCons = v >>> 0;
  }

  /** RING_FREE_REQUESTS */
  freeRequests(): number {
    return (this.nrEnts - ((this.#reqProdPvt - this.#rspCons) >>> 0)) >>> 0;
  }

  /** RING_FULL */
  full(): boolean {
    return this.freeRequests() === 0;
  }

  /** RING_HAS_UNCONSUMED_RESPONSES: the count (0 when none), as the macro gives it. */
  hasUnconsumedResponses(): number {
    return (Atomics.load(this.words, W_RSP_PROD) - this.#rspCons) >>> 0;
  }

  /** RING_RESPONSE_PROD_OVERFLOW: could a well-behaved backend have published `prod`? */
  responseProdOverflow(prod: number): boolean {
    return ((prod - this.#rspCons) >>> 0) > this.nrEnts;
  }

  /** RING_COPY_RESPONSE into `dst` (at least slotSize bytes). */
  copyResponse(idx: number, dst: Uint8Array): void {
    this.copySlot(idx, dst);
  }

  /** RING_PUSH_REQUESTS */
  pushRequests(): void {
    Atomics.store(this.words, W_REQ_PROD, this.#reqProdPvt | 0);
  }

  /** RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: true when the backend must be sent an event. */
  pushRequestsAndCheckNotify(): boolean {
    return frontPushAt(this.words, 0, this.#reqProdPvt);
  }

  /**
   * RING_FINAL_CHECK_FOR_RESPONSES: true if responses are waiting; otherwise ask to be woken by
   * the next one and look again (closing the race with a backend that pushed meanwhile).
   * `wakeAfter` > 1 is the batching variant ring.h suggests writing: be woken only when that
   * many responses are out, which the caller must know to be outstanding.
   */
  finalCheckForResponses(wakeAfter = 1): boolean {
    if (wakeAfter !== 1) this.checkWakeAfter(wakeAfter);
    return frontFinalCheckAt(this.words, 0, this.#rspCons, wakeAfter) !== this.#rspCons >>> 0;
  }

  /**
   * For responses up to `prod` that cannot be consumed yet (the first part of a chain): ask to
   * be woken by the next response after them and look again; true if one came meanwhile. The
   * final check above would answer true until the rest is published, so a caller looping on it
   * would spin.
   */
  finalCheckForResponsesAfter(prod: number): boolean {
    Atomics.store(this.words, W_RSP_EVENT, (prod + 1) | 0);
    return (Atomics.load(this.words, W_RSP_PROD) >>> 0) !== (prod >>> 0);
  }
}

/** The back end: consumes requests, produces responses. Everything the front wrote is hostile. */
export class BackRing extends RingHalf {
  #rspProdPvt: number;
  #reqCons: number;

  /** BACK_RING_ATTACH at index `start` (BACK_RING_INIT when 0); the shared header is left alone. */
  constructor(bytes: Uint8Array, slotSize: number, start = 0) {
    super(bytes, slotSize);
    this.#rspProdPvt = this.#reqCons = checkUint32('start', start);
  }

  /** rsp_prod_pvt: the next response index to fill; published by pushResponses*. Wraps at 2^32. */
  get rspProdPvt(): number {
    return this.#rspProdPvt;
  }

  set rspProdPvt(v: number) {
    this.#rspProdPvt = v >>> 0;
  }

  /** req_cons: the next request index to consume. Wraps at 2^32. */
  get reqCons(): number {
    return this.#reqCons;
  }

  set reqCons(v: number) {
    this.#reqCons = v >>> 0;
  }

  /**
   * RING_HAS_UNCONSUMED_REQUESTS: the count (0 when none). Bounded by the free response slots
   * (ring.h's min()), so a req_prod far beyond the ring never yields more than nrEnts.
   */
  hasUnconsumedRequests(): number {
    const req = (Atomics.load(this.words, W_REQ_PROD) - this.#reqCons) >>> 0;
    const rsp = (this.nrEnts - ((this.#reqCons - this.#rspProdPvt) >>> 0)) >>> 0;
    return req < rsp ? req : rsp;
  }

  /** RING_REQUEST_CONS_OVERFLOW: would consuming index `cons` overrun unanswered requests? */
  requestConsOverflow(cons: number): boolean {
    return ((cons - this.#rspProdPvt) >>> 0) >= this.nrEnts;
  }

  /** RING_REQUEST_PROD_OVERFLOW: could a well-behaved frontend have published `prod`? */
  requestProdOverflow(prod: number): boolean {
    return ((prod - this.#rspProdPvt) >>> 0) > this.nrEnts;
  }

  /** What a backend says as it halts on a req_prod that requestProdOverflow refused. */
  requestProdOverflowMessage(prod: number): string {
    return `req_prod ${prod} is ${(prod - this.#rspProdPvt) >>> 0} requests ahead of the responses on a ${this.nrEnts}-slot ring`;
  }

  /** RING_COPY_REQUEST into `dst` (at least slotSize bytes): validate the copy, never the slot. */
  copyRequest(idx: number, dst: Uint8Array): void {
    this.copySlot(idx, dst);
  }

  /** RING_PUSH_RESPONSES */
  pushResponses(): void {
    Atomics.store(this.words, W_RSP_PROD, this.#rspProdPvt | 0);
  }

  /** RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: true when the frontend must be sent an event. */
  pushResponsesAndCheckNotify(): boolean {
    return pushAndCheckNotify(this.words, W_RSP_PROD, W_RSP_EVENT, this.#rspProdPvt);
  }

  /**
   * RING_FINAL_CHECK_FOR_REQUESTS: true if requests are waiting; otherwise ask to be woken by
   * the next one (or, with `wakeAfter` > 1, the next that many) and look again.
   */
  finalCheckForRequests(wakeAfter = 1): boolean {
    if (wakeAfter !== 1) this.checkWakeAfter(wakeAfter);
    if (this.hasUnconsumedRequests() !== 0) return true;
    Atomics.store(this.words, W_REQ_EVENT, (this.#reqCons + wakeAfter) | 0);
    return this.hasUnconsumedRequests() !== 0;
  }
}
