// A pCPU's doorbell: the one word a shared pCPU thread sleeps on, and a bitmap with a bit per
// domain placed on it. Raising a domain's upcall (its evtchn_upcall_pending 0 -> 1 edge) also
// sets the domain's bit here and, on the word's own 0 -> 1 edge, wakes the thread: one wake for
// all the domains that got events meanwhile, where a thread per vCPU costs a wake per domain.
//
// Every peer a domain on the pCPU is connected to holds this buffer (it comes with the domain's
// buffers; a realm is handed them without it), so nothing here is trusted: a bit rung for nothing
// costs its pCPU a look at that domain, and one cleared before the pCPU took it is found by its
// upcall byte: at once when the ring that woke the pCPU finds no bit set (guest/pcpu.ts
// sweepStolen, at most once a millisecond), else at the pCPU's beat (sweepUpcalls). What the
// watchdog trusts lives in the pCPU's private stats (PcpuStats).

/** Word the pCPU thread waits on: non-zero while some domain's bit may be set. */
export const DB_PENDING = 0;
const DB_HEADER_WORDS = 2;

/** Domains one pCPU thread may host. */
export const DOORBELL_SLOTS = 16384;

export function doorbellBytes(): number {
  return (DB_HEADER_WORDS + DOORBELL_SLOTS / 32) * 4;
}

/** Where a domain's events ring: its pCPU's doorbell buffer and its bit there. */
export interface DoorbellSlot {
  readonly buffer: SharedArrayBuffer;
  readonly slot: number;
}

/** Set the domain's bit and wake the pCPU if it may sleep. */
export function ring(db: Int32Array, slot: number): void {
  Atomics.or(db, DB_HEADER_WORDS + (slot >>> 5), 1 << (slot & 31));
  if (Atomics.exchange(db, DB_PENDING, 1) !== 0) return;
  Atomics.notify(db, DB_PENDING, 1);
}

/**
 * pCPU side: the slots rung since the last call. The pending word is cleared first, so a ring
 * that lands after the scan finds it clear and wakes the thread again.
 */
export function takeRung(db: Int32Array, out: number[]): number[] {
  Atomics.store(db, DB_PENDING, 0);
  for (let w = 0; w < DOORBELL_SLOTS / 32; w++) {
    if (db[DB_HEADER_WORDS + w] === 0) continue;
    let bits = Atomics.exchange(db, DB_HEADER_WORDS + w, 0);
    while (bits !== 0) {
      const b = 31 - Math.clz32(bits & -bits);
      bits &= ~(1 << b);
      out.push(w * 32 + b);
    }
  }
  return out;
}

/** How often a pCPU thread's timer counts PcpuStats.BEAT: well within the watchdog's look (cpupool.ts). */
export const PCPU_BEAT_MS = 100;

/**
 * A pCPU's own figures, shared with dom0 only: which domain's turn runs and since when (the
 * watchdog), turns run, the beat of its event loop, and each slot's CPU time and JS heap (its
 * realm's, as V8 measured it); and each slot's pause count, which dom0 writes.
 */
export class PcpuStats {
  static readonly RUNNING = 0; // domid + 1 of the domain in its turn, 0 between turns
  static readonly TURN_START = 1; // whole ms since `epoch` when that turn started
  static readonly TURNS = 2;
  static readonly SENDS = 3; // EVTCHNOP_sends the thread did in its one copy of the hypercall (guest/pcpu-hypercalls.ts)
  static readonly LEFT = 4; // sends not done when made: held for a target it had no view of yet (a boot's first sends to dom0; counted under SENDS too once made), or the domain being killed
  static readonly BEAT = 5; // counted up by a timer of the thread every PCPU_BEAT_MS: its event loop comes round (the liveness watchdog)
  static readonly SWEPT = 6; // residents the beat found with their upcall byte set and no turn coming (a bit taken, guest/pcpu.ts sweepUpcalls)
  static readonly STOLEN = 7; // residents found so by a look after a ring whose bit was gone (guest/pcpu.ts sweepStolen)
  static readonly HEADER_WORDS = 8; // even: the Float64Arrays after the header start 8-byte aligned
  readonly words: Int32Array;
  /** Milliseconds of CPU each slot's domain has used. */
  readonly cpuMs: Float64Array;
  /** Bytes of JS heap each slot's realm held at the pCPU's last measurement (vm.measureMemory). */
  readonly heapBytes: Float64Array;
  /**
   * Each slot's domain's pause count, as the hypervisor keeps it (the toolstack's pauses, its
   * shutdown's, its creation's): the pCPU runs no turn of a domain while it is non-zero, nor its
   * kernel's code, its top level included (guest/pcpu.ts Resident.held). Here, not
   * only in the domain's control block (CB_PAUSE), which its guest can write.
   */
  readonly paused: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer, readonly epoch: number) {
    this.words = new Int32Array(buffer, 0, PcpuStats.HEADER_WORDS);
    this.cpuMs = new Float64Array(buffer, PcpuStats.HEADER_WORDS * 4, DOORBELL_SLOTS);
    this.heapBytes = new Float64Array(buffer, PcpuStats.HEADER_WORDS * 4 + DOORBELL_SLOTS * 8, DOORBELL_SLOTS);
    this.paused = new Int32Array(buffer, PcpuStats.HEADER_WORDS * 4 + DOORBELL_SLOTS * 16, DOORBELL_SLOTS);
  }

  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(PcpuStats.HEADER_WORDS * 4 + DOORBELL_SLOTS * 20);
  }

  /** The slot's pause count alone (Hypervisor's pauseWord for its domain). */
  pauseWord(slot: number): Int32Array {
    return this.paused.subarray(slot, slot + 1);
  }

  /** Milliseconds since the epoch, kept within an int32. */
  now(): number {
    return Math.floor(performance.timeOrigin + performance.now() - this.epoch) | 0;
  }

  /** The domid in its turn and how long it has run, or null between turns. */
  current(): { domid: number; ms: number } | null {
    const r = Atomics.load(this.words, PcpuStats.RUNNING);
    if (r === 0) return null;
    return { domid: r - 1, ms: this.now() - Atomics.load(this.words, PcpuStats.TURN_START) };
  }
}
