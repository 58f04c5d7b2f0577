// blkfront's per-I/O ring work as functions of the domain's memory and numbers only: encoding
// staged read/write requests into the shared ring, publishing them with the notify check, and
// reading responses off it. A Pool-0 domain runs them on its own views; a shared pCPU's domains
// run them in the pCPU thread's one copy (guest/pcpu-hypercalls.ts), so the code is warm once
// for every realm of the thread. Everything read from the ring is the guest's and the backend's
// to rewrite at any time: each value is read once, and bounds are checked before use.
import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_REQ_HANDLE, BLKIF_REQ_ID, BLKIF_REQ_NR_SEGMENTS, BLKIF_REQ_OPERATION, BLKIF_REQ_SECTOR_NUMBER,
  BLKIF_REQ_SEG, BLKIF_RESPONSE_ID, BLKIF_RESPONSE_OPERATION, BLKIF_RESPONSE_STATUS, BLKIF_SEGMENT_SIZE, BLKIF_SLOT_SIZE,
} from '../../../abi/blkif.js';
import { SRING_REQ_EVENT, SRING_REQ_PROD, SRING_RING, SRING_RSP_EVENT, SRING_RSP_PROD } from '../../../abi/ring.js';
import { PAGE_SIZE } from '../../../abi/xen.js';

/** A staged request: ring index, id, operation, handle, sector, nr_segments, then (gref, last_sect) per segment. */
export const STAGE_INDEX = 0;
export const STAGE_ID = 1;
export const STAGE_OP = 2;
export const STAGE_HANDLE = 3;
export const STAGE_SECTOR = 4;
export const STAGE_NSEG = 5;
export const STAGE_SEGS = 6;
export const STAGE_RECORD = STAGE_SEGS + 2 * BLKIF_MAX_SEGMENTS_PER_REQUEST;

/** push(): responses are waiting; the backend must be sent an event (left to the caller). */
export const PUSH_RESPONSES = 1;
export const PUSH_NOTIFY = 2;
/** poll(): the count is in the low 16 bits; more responses wait beyond what `out` held. */
export const POLL_MORE = 1 << 16;
/** poll(): the backend published rsp_prod beyond the ring. */
export const POLL_OVERFLOW = -1;
/** poll(): a response's id is not a slot of the ring. */
export const POLL_BAD_ID = -2;
/** Either: the ring's place or size is not one the domain's memory holds. */
export const RING_BAD = -3;

/** The domain's memory as the ring code reads it. */
export interface RingMemory {
  readonly view: DataView;
  readonly words: Int32Array;
}

/** Whether `ringOff` and `nrEnts` place a blkif ring wholly in `mem` (page aligned, a power of two of slots). */
export function ringFits(mem: RingMemory, ringOff: number, nrEnts: number): boolean {
  return Number.isInteger(ringOff) && ringOff >= 0 && ringOff % PAGE_SIZE === 0 &&
    Number.isInteger(nrEnts) && nrEnts > 0 && nrEnts <= 4096 && (nrEnts & (nrEnts - 1)) === 0 &&
    ringOff + SRING_RING + nrEnts * BLKIF_SLOT_SIZE <= mem.view.byteLength;
}

/**
 * Encode staged[0..n) into the ring at `ringOff` and publish req_prod = reqProdPvt
 * (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY), then ask to be woken when half of what is outstanding is
 * answered (RING_FINAL_CHECK_FOR_RESPONSES). Returns PUSH_* flags, or RING_BAD.
 */
export function pushStaged(mem: RingMemory, ringOff: number, nrEnts: number, staged: Float64Array, n: number, reqProdPvt: number, rspCons: number): number {
  if (!ringFits(mem, ringOff, nrEnts) || !Number.isInteger(n) || n < 0 || n * STAGE_RECORD > staged.length) return RING_BAD;
  const v = mem.view;
  const mask = nrEnts - 1;
  for (let r = 0; r < n; r++) {
    const b = r * STAGE_RECORD;
    const off = ringOff + SRING_RING + ((staged[b + STAGE_INDEX]! >>> 0) & mask) * BLKIF_SLOT_SIZE;
    const nseg = Math.min(BLKIF_MAX_SEGMENTS_PER_REQUEST, staged[b + STAGE_NSEG]! >>> 0);
    v.setUint8(off + BLKIF_REQ_OPERATION, staged[b + STAGE_OP]!);
    v.setUint8(off + BLKIF_REQ_NR_SEGMENTS, nseg);
    v.setUint16(off + BLKIF_REQ_HANDLE, staged[b + STAGE_HANDLE]!, true);
    v.setUint32(off + BLKIF_REQ_ID, staged[b + STAGE_ID]!, true);
    v.setUint32(off + BLKIF_REQ_ID + 4, 0, true);
    const sector = staged[b + STAGE_SECTOR]!;
    v.setUint32(off + BLKIF_REQ_SECTOR_NUMBER, sector % 2 ** 32, true);
    v.setUint32(off + BLKIF_REQ_SECTOR_NUMBER + 4, sector / 2 ** 32, true);
    for (let i = 0; i < nseg; i++) {
      const s = off + BLKIF_REQ_SEG + i * BLKIF_SEGMENT_SIZE;
      v.setUint32(s, staged[b + STAGE_SEGS + 2 * i]!, true);
      v.setUint8(s + 4, 0);
      v.setUint8(s + 5, staged[b + STAGE_SEGS + 2 * i + 1]!);
    }
  }
  const w = mem.words;
  const hw = ringOff >> 2;
  const next = reqProdPvt >>> 0;
  const old = Atomics.load(w, hw + (SRING_REQ_PROD >> 2));
  Atomics.store(w, hw + (SRING_REQ_PROD >> 2), next | 0);
  const event = Atomics.load(w, hw + (SRING_REQ_EVENT >> 2));
  const notify = ((next - event) >>> 0) < ((next - old) >>> 0);
  return (notify ? PUSH_NOTIFY : 0) | (arm(w, hw, nrEnts, next, rspCons >>> 0) ? PUSH_RESPONSES : 0);
}

/** Ask to be woken when half of what is outstanding is answered; true if responses are already waiting. */
function arm(w: Int32Array, hw: number, nrEnts: number, reqProd: number, rspCons: number): boolean {
  const outstanding = Math.min(nrEnts, (reqProd - rspCons) >>> 0);
  const wakeAfter = Math.max(1, outstanding >> 1);
  const rspProd = hw + (SRING_RSP_PROD >> 2);
  if (Atomics.load(w, rspProd) !== (rspCons | 0)) return true;
  Atomics.store(w, hw + (SRING_RSP_EVENT >> 2), (rspCons + wakeAfter) | 0);
  return Atomics.load(w, rspProd) !== (rspCons | 0);
}

/**
 * Read the responses from `rspCons` into out (id, operation, status per response), as many as fit;
 * when all were read, arm rsp_event for half of what remains outstanding. Returns the count, with
 * POLL_MORE if responses still wait, or POLL_OVERFLOW / POLL_BAD_ID / RING_BAD.
 */
export function pollResponses(mem: RingMemory, ringOff: number, nrEnts: number, rspCons: number, out: Int32Array): number {
  if (!ringFits(mem, ringOff, nrEnts)) return RING_BAD;
  const v = mem.view;
  const w = mem.words;
  const hw = ringOff >> 2;
  const mask = nrEnts - 1;
  let cons = rspCons >>> 0;
  const max = Math.min(0xffff, Math.floor(out.length / 3));
  let n = 0;
  for (;;) {
    const rp = Atomics.load(w, hw + (SRING_RSP_PROD >> 2)) >>> 0;
    if (((rp - cons) >>> 0) > nrEnts) return POLL_OVERFLOW;
    while (cons !== rp && n < max) {
      const off = ringOff + SRING_RING + (cons & mask) * BLKIF_SLOT_SIZE;
      const lo = v.getUint32(off + BLKIF_RESPONSE_ID, true);
      if (v.getUint32(off + BLKIF_RESPONSE_ID + 4, true) !== 0 || lo >= nrEnts) return POLL_BAD_ID;
      out[3 * n] = lo;
      out[3 * n + 1] = v.getUint8(off + BLKIF_RESPONSE_OPERATION);
      out[3 * n + 2] = v.getInt16(off + BLKIF_RESPONSE_STATUS, true);
      n++;
      cons = (cons + 1) >>> 0;
    }
    if (cons !== rp) return n | POLL_MORE;
    if (!arm(w, hw, nrEnts, Atomics.load(w, hw + (SRING_REQ_PROD >> 2)) >>> 0, cons)) return n;
    if (n === max) return n | POLL_MORE;
  }
}

/** Where a domain's blkfront runs the functions above: on its own views, or in its pCPU's copy. */
export interface RingIo {
  /** pushStaged, and the event sent when due (PUSH_NOTIFY only if the caller must send it). */
  push(ringOff: number, nrEnts: number, port: number, staged: Float64Array, n: number, reqProdPvt: number, rspCons: number): number;
  poll(ringOff: number, nrEnts: number, rspCons: number, out: Int32Array): number;
}

/** The domain's own copy: the caller sends the event. */
export function localRingIo(mem: RingMemory): RingIo {
  return {
    push: (ringOff, nrEnts, _port, staged, n, reqProdPvt, rspCons) => pushStaged(mem, ringOff, nrEnts, staged, n, reqProdPvt, rspCons),
    poll: (ringOff, nrEnts, rspCons, out) => pollResponses(mem, ringOff, nrEnts, rspCons, out),
  };
}

let through: RingIo | null = null;
/** In a realm (guest/realm.ts): its blkfront's ring work runs in the pCPU thread's copy. */
export function ringIoThrough(io: RingIo): void {
  through = io;
}
/** The RingIo of a domain whose memory is `mem`. */
export function ringIoOf(mem: RingMemory): RingIo {
  return through ?? localRingIo(mem);
}
