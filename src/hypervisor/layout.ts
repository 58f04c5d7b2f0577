// Memory layouts the hypervisor lays down for every domain.
//
// Guest memory is one SharedArrayBuffer of 4 KiB frames. The first frames are the ones the
// domain builder sets up in Xen (shared_info, start_info, the xenstore and console rings,
// the grant-table frames); the frames after them are the domain's own RAM for I/O.
//
// The control block is a second SharedArrayBuffer per domain: event channel table, VIRQ
// bindings and the counters that several threads read. It is not private: the domain's own
// hypercall layer runs on its thread (in a shared pool, in its realm) and writes it, and its
// guest reaches it (`os.xen.memory.buffers.control`). So every word is guest-writable, and what
// another thread (dom0, a peer, a pCPU) reads here is a claim it checks, never an index it
// trusts or a lock it waits on (docs/SECURITY.md).
//
// The grant table's hypervisor side (its lock, the count of foreign pins, the active entries) is
// a third buffer, which the domain's own thread and realm never get: only dom0 and the domains
// that map its grants (whose threads pin them) hold it, as they hold its memory.
import { PAGE_SIZE } from '../abi/xen.js';
import { EVTCHN_FIFO_MAX_QUEUES, EVTCHN_FIFO_NR_CHANNELS, NR_VIRQS } from '../abi/event_channel.js';
import { GRANT_ENTRIES_PER_FRAME } from '../abi/grant_table.js';

export const PFN_SHARED_INFO = 0;
export const PFN_START_INFO = 1;
export const PFN_XENSTORE = 2;
export const PFN_CONSOLE = 3;
export const PFN_GRANT_TABLE = 4;

/** Xen's defaults (xen/common/grant_table.c, xl.cfg max_grant_frames / max_maptrack_frames). */
export const DEFAULT_MAX_GRANT_FRAMES = 64;
export const DEFAULT_MAX_MAPTRACK_FRAMES = 1024;
/** xl.cfg max_event_channels default. */
export const DEFAULT_MAX_EVTCHNS = 1023;
/** GNTTAB_RESERVED_CONSOLE / GNTTAB_RESERVED_XENSTORE (grant_table.h): seeded by the builder. */
export const GNTTAB_RESERVED_CONSOLE = 0;
export const GNTTAB_RESERVED_XENSTORE = 1;
export const GNTTAB_NR_RESERVED_ENTRIES = 8;

export interface MemoryGeometry {
  /** Grant-table frames reserved after the special pages (max_grant_frames). */
  readonly maxGrantFrames: number;
  /** RAM frames the guest may populate (its I/O memory). */
  readonly ramFrames: number;
}

export function firstRamPfn(g: MemoryGeometry): number {
  return PFN_GRANT_TABLE + g.maxGrantFrames;
}

export function totalFrames(g: MemoryGeometry): number {
  return firstRamPfn(g) + g.ramFrames;
}

export function frameOffset(pfn: number): number {
  return pfn * PAGE_SIZE;
}

// ---- control block, in 32-bit words ----
/** Pause count; the vCPU sleeps at its next scheduling point while it is non-zero. */
export const CB_PAUSE = 0;
/**
 * The vCPU's runstate (Xen's RUNSTATE_*): written by its Pool-0 thread (running or blocked), or
 * in a shared pool by its pCPU thread (running in its turn, runnable while it waits for one).
 */
export const CB_RUNSTATE = 1;
/** -1 while running, else the SHUTDOWN_* code. */
export const CB_SHUTDOWN = 2;
export const CB_NR_GRANT_FRAMES = 3;
export const CB_MAX_GRANT_FRAMES = 4;
/** Populated RAM frames and the limit (Xen's tot_pages / max_pages). */
export const CB_TOT_PAGES = 5;
export const CB_MAX_PAGES = 6;
/** Set once the domain is dying: event delivery and new maps are refused. */
export const CB_DYING = 7;
/** Next RAM frame never handed out (the allocator's high-water mark). */
export const CB_RAM_HWM = 8;
/** 1 while the vCPU runs a data-path hypercall (which may hold locks of other domains). */
export const CB_IN_HYPERCALL = 9;
/** Set by the authority before it kills the vCPU: no new hypercall may start. */
export const CB_KILL = 10;
/**
 * Set by the guest's runtime just before it calls main(). Its 'main' status travels on another
 * port than its hypercalls, so dom0 may see a crash in main() before that status: this word says
 * which came first. Guest-written: it decides only how the guest's own create is reported.
 */
export const CB_MAIN_CALLED = 11;
/**
 * FIFO ABI (evtchn-fifo.ts): byte offset in guest memory of vCPU 0's evtchn_fifo_control_block,
 * 0 while the domain uses the 2-level ABI; and the ports its event array covers (num_evtchns).
 */
export const CB_FIFO_CONTROL = 12;
export const CB_FIFO_NR_EVTCHNS = 13;
export const CB_HEADER_WORDS = 14;

/** Xen's values (public/vcpu.h). */
export const RUNSTATE_running = 0;
export const RUNSTATE_runnable = 1;
export const RUNSTATE_blocked = 2;

/** VIRQ -> port (0 = unbound), one word per VIRQ for vCPU 0. */
export const CB_VIRQ_BASE = CB_HEADER_WORDS;
/**
 * FIFO queues of vCPU 0, one per priority: Xen's q->lock and q->tail. The domain's own unmask
 * takes its locks, so they stay here, where its guest can write them: a thread other than its
 * own never waits for one (evtchn.ts deferral), and a tail is checked before it is used.
 */
export const CB_FIFO_QUEUE_LOCK = CB_VIRQ_BASE + NR_VIRQS;
export const CB_FIFO_QUEUE_TAIL = CB_FIFO_QUEUE_LOCK + EVTCHN_FIFO_MAX_QUEUES;
/** The guest frames of the FIFO event array, one word per page (1,024 event words each). */
export const CB_FIFO_ARRAY = CB_FIFO_QUEUE_TAIL + EVTCHN_FIFO_MAX_QUEUES;
export const EVENT_WORDS_PER_PAGE = PAGE_SIZE / 4;
export const FIFO_MAX_ARRAY_PAGES = EVTCHN_FIFO_NR_CHANNELS / EVENT_WORDS_PER_PAGE;
const CB_FIXED_WORDS = CB_FIFO_ARRAY + FIFO_MAX_ARRAY_PAGES;

/**
 * Event channel table, after the fixed words: 5 words per port, as many ports as the domain's
 * max_event_channels allows (dom0: the FIFO ABI's 2^17), so a guest's table stays small.
 */
export const EVTCHN_WORDS = 5;
export const EV_STATE = 0; // EVTCHNSTAT_*
export const EV_REMOTE_DOM = 1; // unbound: allowed remote domid; interdomain: remote domid; virq: virq
export const EV_REMOTE_PORT = 2; // interdomain: remote port
export const EV_VCPU = 3; // notify vCPU
/** FIFO: priority (bits 0-3), the queue it was last linked on (8-11), pending while no array page covers it (16). */
export const EV_FIFO = 4;

// ---- the grant table's hypervisor side (Xen's struct grant_table), in 32-bit words ----
export const GT_LOCK = 0;
/** domid + 1 of whoever holds GT_LOCK, so a vCPU that died holding it can be cleaned up. */
export const GT_LOCK_OWNER = 1;
/** Pins other domains hold on this domain's grants; a dying domain is reaped at zero. */
export const GT_FOREIGN_PINS = 2;
/** Active grant entries, after the header: 4 words per grant ref. */
export const ACT_BASE = 4;
export const ACT_WORDS = 4;
export const ACT_PIN = 0; // readers in bits 0-15, writers in bits 16-31
export const ACT_FRAME = 1;
export const ACT_DOMID = 2; // the mapping domain the pins belong to
export const PIN_READ = 1;
export const PIN_WRITE = 1 << 16;
export const PIN_MAX = 0xffff;

export function grantActiveBytes(maxGrantFrames: number): number {
  return (ACT_BASE + maxGrantFrames * GRANT_ENTRIES_PER_FRAME * ACT_WORDS) * 4;
}

/** Where the event channel table starts (its port 0). */
export const EVTCHN_TABLE_BASE = CB_FIXED_WORDS;

export function controlBlockBytes(maxEvtchns: number): number {
  return (EVTCHN_TABLE_BASE + (maxEvtchns + 1) * EVTCHN_WORDS) * 4;
}

// ---- maptrack (per mapping domain): 2 words per handle, as Xen's struct grant_mapping ----
export const MT_WORDS = 2;
export const MT_REF = 0; // the granting domain's ref; for a free entry, the next free handle
export const MT_FLAGS_DOM = 1; // GNTMAP_* flags in bits 0-15 (0 = free), granting domid in 16-31
export const MAPTRACK_PER_FRAME = PAGE_SIZE / (MT_WORDS * 4);

/** Word of the control block where a port's entry starts. */
export function portBase(d: { readonly evtchnBase: number }, port: number): number {
  return d.evtchnBase + port * EVTCHN_WORDS;
}
