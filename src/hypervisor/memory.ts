// A domain's memory and control block as typed views, shared by every thread that holds them.
import { PAGE_SIZE } from '../abi/xen.js';
import {
  CB_DYING, CB_MAX_GRANT_FRAMES, CB_MAX_PAGES, CB_NR_GRANT_FRAMES, CB_RAM_HWM, CB_SHUTDOWN, EVTCHN_TABLE_BASE, EVTCHN_WORDS,
  GT_FOREIGN_PINS, MAPTRACK_PER_FRAME, MT_WORDS, controlBlockBytes, firstRamPfn, grantActiveBytes, totalFrames,
  type MemoryGeometry,
} from './layout.js';
import type { DoorbellSlot } from './doorbell.js';

/** What crosses a thread boundary to give a thread access to a domain (all shared memory). */
export interface DomainBuffers {
  readonly domid: number;
  readonly geometry: MemoryGeometry;
  readonly memory: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
  /**
   * The grant table's hypervisor side (layout.ts GT_*, the active entries): dom0's and its
   * mappers'. Absent from what the domain's own thread or realm gets (guestBuffers).
   */
  readonly grants?: SharedArrayBuffer;
  /** Set for a domain on a shared pCPU (cpupool.ts): its upcalls ring the pCPU's doorbell too. */
  readonly doorbell?: DoorbellSlot;
}

export interface DomainLimits extends MemoryGeometry {
  readonly maxEvtchns: number;
  readonly doorbell?: DoorbellSlot;
  /** Grant-table frames the guest starts with (Xen sets up one, grows on setup_table). */
  readonly initialGrantFrames: number;
}

/** `alloc` gives zeroed memory (the hypervisor's DomHeap reuses buffers of gone domains). */
export function allocateDomainBuffers(
  domid: number,
  limits: DomainLimits,
  alloc: (bytes: number) => SharedArrayBuffer = (bytes) => new SharedArrayBuffer(bytes),
): DomainBuffers {
  const geometry = { maxGrantFrames: limits.maxGrantFrames, ramFrames: limits.ramFrames };
  const memory = alloc(totalFrames(geometry) * PAGE_SIZE);
  const control = new SharedArrayBuffer(controlBlockBytes(limits.maxEvtchns));
  const grants = new SharedArrayBuffer(grantActiveBytes(geometry.maxGrantFrames));
  const ctl = new Int32Array(control);
  ctl[CB_SHUTDOWN] = -1;
  ctl[CB_NR_GRANT_FRAMES] = limits.initialGrantFrames;
  ctl[CB_MAX_GRANT_FRAMES] = geometry.maxGrantFrames;
  ctl[CB_MAX_PAGES] = geometry.ramFrames;
  ctl[CB_RAM_HWM] = firstRamPfn(geometry);
  return limits.doorbell ? { domid, geometry, memory, control, grants, doorbell: limits.doorbell } : { domid, geometry, memory, control, grants };
}

/**
 * What the domain's own thread or realm is given of its buffers: all but its grant table's
 * hypervisor side. Its guest can write whatever that thread holds (layout.ts), and a lock or a
 * pin count there is one its mappers would wait on, and its reap would trust.
 */
export function guestBuffers(b: DomainBuffers): DomainBuffers {
  const { grants: _, ...own } = b;
  return own;
}

/** Typed views over a domain's buffers; built once per thread per domain. */
export class DomainView {
  readonly domid: number;
  readonly geometry: MemoryGeometry;
  readonly buffers: DomainBuffers;
  readonly mem8: Uint8Array;
  readonly mem32: Int32Array;
  readonly ctl: Int32Array;
  /** The grant table's hypervisor side (GT_*, the active entries); null on the domain's own thread. */
  readonly grants: Int32Array | null;
  readonly nrFrames: number;
  /** The shared pCPU's doorbell words and this domain's bit there; null on a thread of its own, and in its realm (guest/pcpu.ts place). */
  readonly doorbell: Int32Array | null;
  readonly doorbellSlot: number;
  /** Word of the control block where the event channel table starts. */
  readonly evtchnBase: number;
  /**
   * The domain's max_event_channels: the ports its table holds, from the buffer's size (a word
   * in the control block would be its guest's to rewrite, and other threads index the table by it).
   */
  readonly maxEvtchns: number;

  constructor(buffers: DomainBuffers) {
    this.buffers = buffers;
    this.domid = buffers.domid;
    this.geometry = buffers.geometry;
    this.mem8 = new Uint8Array(buffers.memory);
    this.mem32 = new Int32Array(buffers.memory);
    this.ctl = new Int32Array(buffers.control);
    this.grants = buffers.grants ? new Int32Array(buffers.grants) : null;
    this.nrFrames = buffers.memory.byteLength / PAGE_SIZE;
    this.doorbell = buffers.doorbell ? new Int32Array(buffers.doorbell.buffer) : null;
    this.doorbellSlot = buffers.doorbell?.slot ?? 0;
    this.evtchnBase = EVTCHN_TABLE_BASE;
    this.maxEvtchns = (this.ctl.length - this.evtchnBase) / EVTCHN_WORDS - 1;
  }

  frame(pfn: number): Uint8Array {
    return new Uint8Array(this.buffers.memory, pfn * PAGE_SIZE, PAGE_SIZE);
  }

  get dying(): boolean {
    return Atomics.load(this.ctl, CB_DYING) !== 0;
  }

  /**
   * The RAM high-water mark (CB_RAM_HWM), within the RAM its geometry gives: its guest may have
   * rewritten the word, and dom0 walks the frames below it (a save, a migration).
   */
  get ramHwm(): number {
    const first = firstRamPfn(this.geometry);
    return Math.min(Math.max(Atomics.load(this.ctl, CB_RAM_HWM), first), first + this.geometry.ramFrames);
  }

  /** Pins other domains hold on its grants (0 on its own thread, which has no view of them). */
  get foreignPins(): number {
    return this.grants ? Atomics.load(this.grants, GT_FOREIGN_PINS) : 0;
  }
}

/**
 * The maptrack table of a mapping domain (Xen's struct grant_mapping array). Only the thread
 * that runs the domain's hypercalls touches it, and dom0 once that thread is gone.
 */
export function allocateMaptrack(maxMaptrackFrames: number): SharedArrayBuffer {
  return new SharedArrayBuffer(maxMaptrackFrames * MAPTRACK_PER_FRAME * MT_WORDS * 4);
}
