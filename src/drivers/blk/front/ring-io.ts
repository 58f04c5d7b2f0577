// blkfront's per-I/O ring work as functions of the domain's memory and numbers: encoding the
// reads and writes a turn staged into the shared ring, publishing them with the notify check,
// and reading responses off it. A domain on a thread of its own runs them on its own views; the
// domains of a shared pCPU run them in the pCPU thread's one copy (guest/pcpu-hypercalls.ts,
// through host.blkPush and host.blkPoll), so this code is compiled and warm once for all the
// thread's realms instead of once per realm (docs/PERFORMANCE.md, twenty-fifth pass). The
// guest's promises, Io objects and shadows stay in its realm (queue.ts, datapath.ts).
//
// Every argument may be the guest's forgery, and the ring is the guest's and the backend's to
// rewrite at any time: the ring's place is checked against the domain's memory, every index is
// masked into the ring, counts are bounded by the ring's size, each field is read once. What is
// written goes only into that ring, which is the domain's own memory.
import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_REQ_HANDLE, BLKIF_REQ_ID, BLKIF_REQ_NR_SEGMENTS, BLKIF_REQ_OPERATION, BLKIF_REQ_SECTOR_NUMBER,
  BLKIF_REQ_SEG, BLKIF_RESPONSE_ID, BLKIF_RESPONSE_OPERATION, BLKIF_RESPONSE_STATUS, BLKIF_SEG_FIRST_SECT, BLKIF_SEG_GREF,
  BLKIF_SEG_LAST_SECT, BLKIF_SEGMENT_SIZE, BLKIF_SLOT_SIZE,
} from '../../../abi/blkif.js';
import { frontFinalCheckAt, frontPushAt, reqProdAt, rspProdAt, SRING_RING } from '../../../abi/ring.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import { blkRingSlots, FRONT_MAX_RING_PAGE_ORDER } from '../protocol.js';

/**
 * A staged read or write, STAGE_RECORD numbers: ring index, id (a slot number), operation,
 * handle, sector, nr_segments, then gref and last_sect of each segment (first_sect is 0).
 */
export const STAGE_INDEX = 0;
export const STAGE_ID = 1;
export const STAGE_OP = 2;
export const STAGE_HANDLE = 3;
export const STAGE_SECTOR = 4;
export const STAGE_NSEG = 5;
export const STAGE_SEGS = 6;
export const STAGE_RECORD = STAGE_SEGS + 2 * BLKIF_MAX_SEGMENTS_PER_REQUEST;
/** poll(): id, operation and status of each response. */
export const POLL_RECORD = 3;

/** push(): responses are waiting to be polled. */
export const PUSH_RESPONSES = 1;
/** push(): the backend is to be sent an event, which was left to the caller. */
export const PUSH_NOTIFY = 2;
/** poll(): the count of responses is in these bits... */
export const POLL_COUNT = 0xffff;
/** ...and this one says more wait beyond what `out` held. */
export const POLL_MORE = 1 << 16;
/** poll(): the backend published an rsp_prod beyond the ring (out[0] has it). */
export const POLL_OVERFLOW = -1;
/** poll(): a response's id is not a slot of the ring (out[0] and out[1]: its low and high words). */
export const POLL_BAD_ID = -2;
/** Either: the ring's place or size is not one of the domain's blkfront rings, or a count is out of bounds. */
export const RING_BAD = -3;

/** The most slots a blkfront ring has (blkfront.ts caps its ring at 2^FRONT_MAX_RING_PAGE_ORDER pages). */
export const MAX_RING_SLOTS = blkRingSlots(FRONT_MAX_RING_PAGE_ORDER);

/** The domain's memory as the ring code reads it. */
export interface RingMemory {
  readonly view: DataView;
  readonly words: Int32Array;
}

export function ringMemory(memory: SharedArrayBuffer): RingMemory {
  return { view: new DataView(memory), words: new Int32Array(memory) };
}

/** Whether a blkif ring of `nrEnts` slots (a power of two up to MAX_RING_SLOTS) at page-aligned byte `ringOff` lies wholly in `mem`. */
export function ringFits(mem: RingMemory, ringOff: number, nrEnts: number): boolean {
  return Number.isSafeInteger(ringOff) && ringOff >= 0 && ringOff % PAGE_SIZE === 0 &&
    Number.isSafeInteger(nrEnts) && nrEnts > 0 && nrEnts <= MAX_RING_SLOTS && (nrEnts & (nrEnts - 1)) === 0 &&
    ringOff + SRING_RING + nrEnts * BLKIF_SLOT_SIZE <= mem.view.byteLength;
}

/**
 * Encode staged[0..n) into the ring at byte `ringOff` of `mem` and publish req_prod = reqProdPvt
 * (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY); then ask to be woken when half of what is outstanding is
 * answered (RING_FINAL_CHECK_FOR_RESPONSES: one wake-up covers a batch, DESIGN.md §10).
 * Returns PUSH_* flags, or RING_BAD (nothing done).
 */
export function pushStaged(mem: RingMemory, ringOff: number, nrEnts: number, staged: Float64Array, n: number, reqProdPvt: number, rspCons: number): number {
  if (!ringFits(mem, ringOff, nrEnts) || !Number.isInteger(n) || n < 0 || n > nrEnts || n * STAGE_RECORD > staged.length) return RING_BAD;
  const v = mem.view;
  const mask = nrEnts - 1;
  for (let r = 0; r < n; r++) {
    const b = r * STAGE_RECORD;
    // DataView's setters convert any number (NaN, fractions, negatives) to the field's width.
    const off = ringOff + SRING_RING + ((staged[b + STAGE_INDEX]! >>> 0) & mask) * BLKIF_SLOT_SIZE;
    const nseg = Math.min(BLKIF_MAX_SEGMENTS_PER_REQUEST, staged[b + STAGE_NSEG]! >>> 0);
    const sector = staged[b + STAGE_SECTOR]!;
    v.setUint8(off + BLKIF_REQ_OPERATION, staged[b + STAGE_OP]!);
    v.setUint8(off + BLKIF_REQ_NR_SEGMENTS, nseg);
    v.setUint16(off + BLKIF_REQ_HANDLE, staged[b + STAGE_HANDLE]!, true);
    v.setUint32(off + BLKIF_REQ_ID, staged[b + STAGE_ID]!, true);
    v.setUint32(off + BLKIF_REQ_ID + 4, 0, true);
    v.setUint32(off + BLKIF_REQ_SECTOR_NUMBER, sector % 2 ** 32, true);
    v.setUint32(off + BLKIF_REQ_SECTOR_NUMBER + 4, sector / 2 ** 32, true);
    for (let i = 0; i < nseg; i++) {
      const s = off + BLKIF_REQ_SEG + i * BLKIF_SEGMENT_SIZE;
      v.setUint32(s + BLKIF_SEG_GREF, staged[b + STAGE_SEGS + 2 * i]!, true);
      v.setUint8(s + BLKIF_SEG_FIRST_SECT, 0);
      v.setUint8(s + BLKIF_SEG_LAST_SECT, staged[b + STAGE_SEGS + 2 * i + 1]!);
    }
  }
  const w = mem.words;
  const base = ringOff >> 2;
  const next = reqProdPvt >>> 0;
  const notify = frontPushAt(w, base, next);
  return (notify ? PUSH_NOTIFY : 0) | (arm(w, base, nrEnts, next, rspCons >>> 0) ? PUSH_RESPONSES : 0);
}

/** Ask to be woken when half of what is outstanding (at most the ring) is answered; true if responses are already waiting. */
function arm(w: Int32Array, base: number, nrEnts: number, reqProd: number, rspCons: number): boolean {
  const outstanding = Math.min(nrEnts, (reqProd - rspCons) >>> 0);
  return frontFinalCheckAt(w, base, rspCons, Math.max(1, outstanding >> 1));
}

/**
 * Read the responses from index `rspCons` into `out` (POLL_RECORD numbers each), at most a ring's
 * worth and as many as `out` holds; once all are read, arm rsp_event for half of what is still
 * outstanding of the published requests. Returns the count, with POLL_MORE if responses still wait
 * (or a bad one follows them); or POLL_OVERFLOW, POLL_BAD_ID or RING_BAD, with nothing read.
 */
export function pollResponses(mem: RingMemory, ringOff: number, nrEnts: number, rspCons: number, out: Int32Array): number {
  if (!ringFits(mem, ringOff, nrEnts)) return RING_BAD;
  const v = mem.view;
  const w = mem.words;
  const base = ringOff >> 2;
  const mask = nrEnts - 1;
  const max = Math.min(nrEnts, Math.floor(out.length / POLL_RECORD));
  let cons = rspCons >>> 0;
  let n = 0;
  // A pass that reads nothing (a backend that takes rsp_prod back) still counts: bounded either way.
  for (let pass = 0; pass <= max; pass++) {
    const rp = rspProdAt(w, base);
    if (((rp - cons) >>> 0) > nrEnts) {
      if (n > 0) return n | POLL_MORE;
      if (out.length > 0) out[0] = rp;
      return POLL_OVERFLOW;
    }
    while (cons !== rp && n < max) {
      const off = ringOff + SRING_RING + (cons & mask) * BLKIF_SLOT_SIZE;
      const lo = v.getUint32(off + BLKIF_RESPONSE_ID, true);
      const hi = v.getUint32(off + BLKIF_RESPONSE_ID + 4, true);
      if (hi !== 0 || lo >= nrEnts) {
        // The responses before it are handed over first, as they came; the next call fails.
        if (n > 0) return n | POLL_MORE;
        if (out.length > 1) [out[0], out[1]] = [lo | 0, hi | 0];
        return POLL_BAD_ID;
      }
      out[POLL_RECORD * n] = lo;
      out[POLL_RECORD * n + 1] = v.getUint8(off + BLKIF_RESPONSE_OPERATION);
      out[POLL_RECORD * n + 2] = v.getInt16(off + BLKIF_RESPONSE_STATUS, true);
      n++;
      cons = (cons + 1) >>> 0;
    }
    if (cons !== rp) return n | POLL_MORE;
    // Only published requests count: the backend cannot answer the others yet.
    if (!arm(w, base, nrEnts, reqProdAt(w, base), cons)) return n;
    if (n === max) break;
  }
  return n | POLL_MORE;
}

/** Where a domain's blkfront runs the functions above: on its own views, or in its pCPU's copy. */
export interface RingIo {
  /** pushStaged; the event is sent by the RingIo when it can (then PUSH_NOTIFY is not returned). */
  push(ringOff: number, nrEnts: number, port: number, staged: Float64Array, n: number, reqProdPvt: number, rspCons: number): number;
  /** pollResponses. */
  poll(ringOff: number, nrEnts: number, rspCons: number, out: Int32Array): number;
}

/** The domain's own copy, on its own views: the caller sends the event. */
export function localRingIo(mem: RingMemory): RingIo {
  return {
    push: (ringOff, nrEnts, _port, staged, n, reqProdPvt, rspCons) => pushStaged(mem, ringOff, nrEnts, staged, n, reqProdPvt, rspCons),
    poll: (ringOff, nrEnts, rspCons, out) => pollResponses(mem, ringOff, nrEnts, rspCons, out),
  };
}

let through: RingIo | null = null;
/** In a realm (guest/realm.ts): its blkfront's ring work runs in its pCPU thread's copy. */
export function ringIoThrough(io: RingIo): void {
  through = io;
}

/** The RingIo of a blkfront of the domain whose memory is `memory`. */
export function ringIoOf(memory: SharedArrayBuffer): RingIo {
  return through ?? localRingIo(ringMemory(memory));
}
