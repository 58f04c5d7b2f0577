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
  BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_REQ_SEG, BLKIF_RESPONSE_ID, BLKIF_RESPONSE_OPERATION, BLKIF_RESPONSE_STATUS, BLKIF_SEGMENT_SIZE,
  BLKIF_SLOT_SIZE, encodeBlkifSegmentAt, encodeBlkifSegmentsAt,
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
function ringFits(mem: RingMemory, ringOff: number, nrEnts: number): boolean {
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
    const off = ringOff + SRING_RING + ((staged[b + STAGE_INDEX]! >>> 0) & mask) * BLKIF_SLOT_SIZE;
    const nseg = Math.min(BLKIF_MAX_SEGMENTS_PER_REQUEST, staged[b + STAGE_NSEG]! >>> 0);
    // The ABI's one encoder; its DataView setters cut any number (NaN, fractions, negatives) to the field's width.
    encodeBlkifSegmentsAt(v, off, staged[b + STAGE_OP]!, nseg, staged[b + STAGE_HANDLE]!, staged[b + STAGE_ID]!, 0, staged[b + STAGE_SECTOR]!);
    for (let i = 0; i < nseg; i++) {
      encodeBlkifSegmentAt(v, off + BLKIF_REQ_SEG + i * BLKIF_SEGMENT_SIZE, staged[b + STAGE_SEGS + 2 * i]!, 0, staged[b + STAGE_SEGS + 2 * i + 1]!);
    }
  }
  const w = mem.words;
  const base = ringWord(ringOff);
  const next = reqProdPvt >>> 0;
  const notify = frontPushAt(w, base, next);
  const cons = rspCons >>> 0;
  return (notify ? PUSH_NOTIFY : 0) | (arm(w, base, nrEnts, next, cons) !== cons ? PUSH_RESPONSES : 0);
}

/**
 * The word index of the ring's header: exact, as ringFits checked the offset page-aligned. Not
 * `>> 2`, which makes an offset of 2^31 or more (a domain's memory may be up to 2^32 bytes) negative.
 */
function ringWord(ringOff: number): number {
  return ringOff / 4;
}

/**
 * Ask to be woken when half of what is outstanding (at most the ring) is answered; the rsp_prod
 * last read, which is not rspCons if responses are already waiting.
 */
function arm(w: Int32Array, base: number, nrEnts: number, reqProd: number, rspCons: number): number {
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
  const base = ringWord(ringOff);
  const mask = nrEnts - 1;
  const max = Math.min(nrEnts, Math.floor(out.length / POLL_RECORD));
  let cons = rspCons >>> 0;
  let n = 0;
  let rp = rspProdAt(w, base);
  // Bounded without a count of passes: a pass after the first starts from the rsp_prod arm() saw
  // differ from cons, so it reads at least one response (or returns), and n stops at max. A
  // backend that takes rsp_prod back and forth cannot make a pass that reads nothing.
  for (;;) {
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
        if (out.length > 1) {
          out[0] = lo | 0;
          out[1] = hi | 0;
        }
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
    rp = arm(w, base, nrEnts, reqProdAt(w, base), cons);
    if (rp === cons) return n;
    if (n === max) return n | POLL_MORE;
  }
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
/** In a realm (guest/realm.ts): its blkfront's ring work runs in its pCPU thread's copy (null: on its own views again). */
export function ringIoThrough(io: RingIo | null): void {
  through = io;
}

/** The RingIo of a blkfront of the domain whose memory is `memory`. */
export function ringIoOf(memory: SharedArrayBuffer): RingIo {
  return through ?? localRingIo(ringMemory(memory));
}
