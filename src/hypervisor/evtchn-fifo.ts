// Event channels, FIFO ABI: the hypervisor's side of xen/common/event_fifo.c. A domain that
// calls EVTCHNOP_init_control gets, instead of the 2-level bitmaps, an event word per port in
// pages of its own memory (the event array, grown by EVTCHNOP_expand_array) and a queue per
// priority whose head and ready bits live in its evtchn_fifo_control_block; 2^17 ports.
//
// The event words and the control block are guest memory: the guest may write anything there.
// What the queues rest on (each queue's tail and lock, the array's frames, the control block's
// place, each port's priority and last queue) is in the domain's control block (layout.ts),
// which its guest can write too: so every index read there is checked before a sender uses it
// (a frame of the domain's RAM, a port the array covers), and every read-modify-write of a guest
// word is a bounded compare-and-swap: garbage costs the guest its own events, never the sender's
// thread a spin (evtchn_fifo_set_link's four tries) or an exception (an index past its memory).
import {
  EVTCHN_FIFO_BUSY, EVTCHN_FIFO_CB_HEAD, EVTCHN_FIFO_CB_READY, EVTCHN_FIFO_CONTROL_BLOCK_SIZE, EVTCHN_FIFO_LINK_BITS,
  EVTCHN_FIFO_LINK_MASK, EVTCHN_FIFO_LINKED, EVTCHN_FIFO_MASKED, EVTCHN_FIFO_NR_CHANNELS, EVTCHN_FIFO_PENDING,
  EVTCHN_FIFO_PRIORITY_DEFAULT, EVTCHN_FIFO_PRIORITY_MIN, EVTCHNSTAT_closed,
} from '../abi/event_channel.js';
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import {
  CB_FIFO_ARRAY, CB_FIFO_CONTROL, CB_FIFO_NR_EVTCHNS, CB_FIFO_QUEUE_LOCK, CB_FIFO_QUEUE_TAIL, EVENT_WORDS_PER_PAGE,
  EV_FIFO, EV_STATE, FIFO_MAX_ARRAY_PAGES, firstRamPfn, portBase,
} from './layout.js';
import { breakAbandoned, tryLock, unlock } from './lock.js';
import type { DomainView } from './memory.js';

export const PENDING = 1 << EVTCHN_FIFO_PENDING;
export const MASKED = 1 << EVTCHN_FIFO_MASKED;
export const LINKED = 1 << EVTCHN_FIFO_LINKED;
export const BUSY = 1 << EVTCHN_FIFO_BUSY;

// EV_FIFO, a port's hypervisor-private FIFO state (struct evtchn's priority, fifo_lastq, pending)
const PRIO_MASK = 0xf;
const LASTQ_SHIFT = 8;
const SAVED_PENDING = 1 << 16;

/** Whether the domain switched to the FIFO ABI (EVTCHNOP_init_control). */
export function fifoActive(d: DomainView): boolean {
  return Atomics.load(d.ctl, CB_FIFO_CONTROL) !== 0;
}

/**
 * The index in mem32 of the port's event word, or -1 if no array page covers it yet
 * (evtchn_fifo_word_from_port). Pages are published before the count (expandArray), so a
 * count read here covers pages whose frame is already written. A port or frame its guest wrote
 * into the control block (a queue's tail, a page of the array) that is out of range reads as
 * not covered: a word outside its memory is never touched.
 */
export function eventWord(d: DomainView, port: number): number {
  if (port >>> 0 >= Atomics.load(d.ctl, CB_FIFO_NR_EVTCHNS) || port >= EVTCHN_FIFO_NR_CHANNELS) return -1;
  const pfn = d.ctl[CB_FIFO_ARRAY + Math.floor(port / EVENT_WORDS_PER_PAGE)]!;
  if (pfn >>> 0 >= d.nrFrames) return -1;
  return pfn * EVENT_WORDS_PER_PAGE + (port % EVENT_WORDS_PER_PAGE);
}

/** Both queues' locks, or false, holding neither, if one is held by another thread (never waited for: evtchn.ts). */
function lockQueues(c: Int32Array, a: number, b: number): boolean {
  // Lower queue first, as Xen orders its queue locks by address.
  const lo = CB_FIFO_QUEUE_LOCK + Math.min(a, b);
  const hi = CB_FIFO_QUEUE_LOCK + Math.max(a, b);
  if (!tryLock(c, lo)) return false;
  if (a === b || tryLock(c, hi)) return true;
  unlock(c, lo);
  return false;
}

function unlockQueues(c: Int32Array, a: number, b: number): void {
  if (a !== b) unlock(c, CB_FIFO_QUEUE_LOCK + Math.max(a, b));
  unlock(c, CB_FIFO_QUEUE_LOCK + Math.min(a, b));
}

/**
 * Link `link` after the tail word `w` iff the tail is still LINKED (evtchn_fifo_set_link). The
 * guest may only set or clear MASKED, clear PENDING, or unlink a linked word; BUSY keeps it
 * from unmasking meanwhile, so four tries suffice for an honest guest, and a hostile one that
 * keeps rewriting its word loses this event's link (counted as linked: the head is not reset).
 */
function setLink(m: Int32Array, w: number, link: number): boolean {
  let cur = Atomics.load(m, w);
  const r = trySetLink(m, w, cur, link);
  if (r !== undefined) return r;
  Atomics.or(m, w, BUSY);
  cur = Atomics.load(m, w);
  for (let tries = 0; tries < 4; tries++) {
    if (!(cur & LINKED)) {
      Atomics.and(m, w, ~BUSY);
      return false;
    }
    const next = (cur & ~(BUSY | EVTCHN_FIFO_LINK_MASK)) | link;
    const seen = Atomics.compareExchange(m, w, cur, next);
    if (seen === cur) return true;
    cur = seen;
  }
  Atomics.and(m, w, ~BUSY);
  return true;
}

/** One try_set_link: true linked, false the tail was unlinked, undefined it changed under us. */
function trySetLink(m: Int32Array, w: number, cur: number, link: number): boolean | undefined {
  if (!(cur & LINKED)) return false;
  const next = (cur & ~(BUSY | EVTCHN_FIFO_LINK_MASK)) | link;
  return Atomics.compareExchange(m, w, cur, next) === cur ? true : undefined;
}

/**
 * evtchn_fifo_set_pending: set PENDING and, if the event is unmasked and not yet on a queue,
 * link it at the tail of its priority's queue (or make it the head of an empty one). Returns
 * true when the caller must raise the vCPU's upcall: the queue was empty and its ready bit
 * was clear. A queue lock another thread holds is not waited for: nothing is done and
 * undefined returned, for the caller to try again later (evtchn.ts).
 */
export function fifoSetPending(d: DomainView, port: number): boolean | undefined {
  const c = d.ctl;
  const m = d.mem32;
  const ev = portBase(d, port) + EV_FIFO;
  const w = eventWord(d, port);
  if (w < 0) {
    // No array page yet: remembered, and raised when the page comes (expandArray).
    Atomics.or(c, ev, SAVED_PENDING);
    return false;
  }
  // Lock the event's queue and the one it was last linked on; its priority may change meanwhile.
  let q = 0;
  let oldQ = 0;
  let tries = 0;
  for (; tries < 3; tries++) {
    let f = Atomics.load(c, ev);
    q = f & PRIO_MASK;
    oldQ = (f >> LASTQ_SHIFT) & PRIO_MASK;
    if (!lockQueues(c, q, oldQ)) return undefined;
    f = Atomics.load(c, ev);
    if ((f & PRIO_MASK) === q && ((f >> LASTQ_SHIFT) & PRIO_MASK) === oldQ) break;
    unlockQueues(c, q, oldQ);
  }
  Atomics.or(m, w, PENDING);
  if (tries === 3) return false; // lost: too many queue changes, as in Xen
  let linked = true;
  let cb = -1;
  try {
    if (!(Atomics.load(m, w) & MASKED) && !(Atomics.or(m, w, LINKED) & LINKED)) {
      // This event was the old queue's tail: that queue is empty now.
      if (c[CB_FIFO_QUEUE_TAIL + oldQ] === port) c[CB_FIFO_QUEUE_TAIL + oldQ] = 0;
      if (oldQ !== q) {
        // Given up if its guest keeps rewriting the word: the next event locks the stale queue too.
        updateFifoWord(c, ev, PRIO_MASK << LASTQ_SHIFT, q << LASTQ_SHIFT);
        unlock(c, CB_FIFO_QUEUE_LOCK + oldQ);
        oldQ = q;
      }
      linked = false;
      const tail = c[CB_FIFO_QUEUE_TAIL + q]!;
      const tailWord = tail ? eventWord(d, tail) : -1;
      if (tailWord >= 0) linked = setLink(m, tailWord, port);
      cb = controlWord(d);
      if (!linked && cb >= 0) Atomics.store(m, cb + (EVTCHN_FIFO_CB_HEAD >> 2) + q, port);
      c[CB_FIFO_QUEUE_TAIL + q] = port;
    }
  } finally {
    unlockQueues(c, q, oldQ);
  }
  if (linked || cb < 0) return false;
  const bit = 1 << q;
  return (Atomics.or(m, cb + (EVTCHN_FIFO_CB_READY >> 2), bit) & bit) === 0;
}

/** The queue a port's next event goes to (its priority) and the one it was last linked on. */
export function fifoPortQueues(d: DomainView, port: number): { priority: number; lastQueue: number } {
  const f = Atomics.load(d.ctl, portBase(d, port) + EV_FIFO);
  return { priority: f & PRIO_MASK, lastQueue: (f >> LASTQ_SHIFT) & PRIO_MASK };
}

/**
 * Tries of a compare-and-swap on a port's EV_FIFO word, which its guest can rewrite from another
 * thread: honest writers (dom0's set_priority, a sender's last-queue update) each succeed within
 * a few, so a word that keeps changing past these is its guest's doing.
 */
const FIFO_WORD_TRIES = 64;

/** Set the bits `mask` of the port's EV_FIFO word `ev` to `bits`; false if it kept changing under the tries. */
function updateFifoWord(c: Int32Array, ev: number, mask: number, bits: number): boolean {
  for (let i = 0; i < FIFO_WORD_TRIES; i++) {
    const f = Atomics.load(c, ev);
    if (Atomics.compareExchange(c, ev, f, (f & ~mask) | bits) === f) return true;
  }
  return false;
}

/**
 * The index in mem32 of the domain's evtchn_fifo_control_block, or -1 if the word its guest may
 * have rewritten does not place a whole one in its RAM (initControl's checks).
 */
export function controlWord(d: DomainView): number {
  // Unsigned: a domain's memory reaches 4 GiB, and a control block past 2 GiB read as negative.
  const at = Atomics.load(d.ctl, CB_FIFO_CONTROL) >>> 0;
  const ok = (at & 7) === 0 && at >= firstRamPfn(d.geometry) * PAGE_SIZE && at + EVTCHN_FIFO_CONTROL_BLOCK_SIZE <= d.nrFrames * PAGE_SIZE;
  return ok ? at >>> 2 : -1;
}

/** evtchn_fifo_unmask: clear MASKED and relink if pending; true if the upcall must be raised, undefined as fifoSetPending. */
export function fifoUnmask(d: DomainView, port: number): boolean | undefined {
  const w = eventWord(d, port);
  if (w < 0) return false;
  Atomics.and(d.mem32, w, ~MASKED);
  return (Atomics.load(d.mem32, w) & PENDING) !== 0 && fifoSetPending(d, port);
}

/** Set MASKED (the guest does this in its own word; xenode's guests ask the hypervisor). */
export function fifoMask(d: DomainView, port: number): void {
  const w = eventWord(d, port);
  if (w >= 0) Atomics.or(d.mem32, w, MASKED);
}

/** Mark the event pending without linking it (delivered when unmasked). */
export function fifoKeepPending(d: DomainView, port: number): void {
  const w = eventWord(d, port);
  if (w >= 0) Atomics.or(d.mem32, w, PENDING);
  else Atomics.or(d.ctl, portBase(d, port) + EV_FIFO, SAVED_PENDING);
}

/** evtchn_fifo_clear_pending, for a port being closed: the guest unlinks and skips it. */
export function fifoClearPending(d: DomainView, port: number): void {
  Atomics.and(d.ctl, portBase(d, port) + EV_FIFO, ~SAVED_PENDING);
  const w = eventWord(d, port);
  if (w >= 0) Atomics.and(d.mem32, w, ~PENDING);
}

/** evtchn_fifo_is_busy: a closed port still LINKED on a queue is not handed out again. */
export function fifoBusy(d: DomainView, port: number): boolean {
  const w = eventWord(d, port);
  return w >= 0 && (Atomics.load(d.mem32, w) & LINKED) !== 0;
}

/** evtchn_fifo_init, at allocation: the default priority (the last queue stays: it may still hold the port). */
export function fifoInitPort(d: DomainView, port: number): void {
  const ev = portBase(d, port) + EV_FIFO;
  const f = Atomics.load(d.ctl, ev);
  Atomics.store(d.ctl, ev, (f & (PRIO_MASK << LASTQ_SHIFT)) | EVTCHN_FIFO_PRIORITY_DEFAULT);
}

/** A guest frame the hypervisor may use for FIFO state: RAM the domain has populated (map_guest_page). */
function guestFrame(d: DomainView, pfn: number, what: string): number {
  const first = firstRamPfn(d.geometry);
  if (!Number.isInteger(pfn) || pfn < first || pfn >= d.ramHwm) {
    throw new XenError('EINVAL', `d${d.domid}: ${what} frame ${pfn} is not populated RAM`);
  }
  return pfn;
}

/**
 * EVTCHNOP_init_control for vCPU 0 (xenode domains have one vCPU). Switches the domain to the
 * FIFO ABI with an empty event array; bound ports keep a 2-level pending bit as a saved pending
 * event (setup_ports) and get the default priority. `maxPort2l`: the last port of the 2-level
 * table; `pending2l`: its pending bit. The authority's (dom0's thread, every table's only writer). Returns link_bits.
 */
export function initControl(
  d: DomainView, gfn: number, offset: number, vcpu: number, maxPort2l: number, pending2l: (port: number) => boolean,
): number {
  if (vcpu !== 0) throw new XenError('ENOENT', `d${d.domid} has no vCPU ${vcpu}`);
  if (!Number.isInteger(offset) || offset < 0 || offset > PAGE_SIZE - EVTCHN_FIFO_CONTROL_BLOCK_SIZE) {
    throw new XenError('EINVAL', `d${d.domid}: control block offset ${offset} crosses its page`);
  }
  if (offset & 7) throw new XenError('EINVAL', `d${d.domid}: control block offset ${offset} is not 8-byte aligned`);
  if (fifoActive(d)) throw new XenError('EINVAL', `d${d.domid}: vCPU 0 already has a FIFO control block`);
  const pfn = guestFrame(d, gfn, 'control block');
  const c = d.ctl;
  for (let q = 0; q <= EVTCHN_FIFO_PRIORITY_MIN; q++) c[CB_FIFO_QUEUE_TAIL + q] = 0;
  Atomics.store(c, CB_FIFO_NR_EVTCHNS, 0);
  for (let port = 1; port <= maxPort2l; port++) {
    const ev = portBase(d, port) + EV_FIFO;
    const saved = c[portBase(d, port) + EV_STATE] !== EVTCHNSTAT_closed && pending2l(port);
    Atomics.store(c, ev, EVTCHN_FIFO_PRIORITY_DEFAULT | (saved ? SAVED_PENDING : 0));
  }
  Atomics.store(c, CB_FIFO_CONTROL, pfn * PAGE_SIZE + offset); // stored as int32, read back unsigned (controlWord)
  return EVTCHN_FIFO_LINK_BITS;
}

/**
 * EVTCHNOP_expand_array: one more page of event words (add_page_to_event_array); events that
 * arrived for its ports while it was missing are raised now. `raise` sets one pending and
 * raises the upcall; `maxPort` is the last port the domain may have. The authority's (dom0's
 * thread, every table's only writer).
 */
export function expandArray(d: DomainView, gfn: number, maxPort: number, raise: (port: number) => void): void {
  if (!fifoActive(d)) throw new XenError('EOPNOTSUPP', `d${d.domid} does not use the FIFO ABI (no EVTCHNOP_init_control)`);
  const c = d.ctl;
  const first = Atomics.load(c, CB_FIFO_NR_EVTCHNS);
  // A count its guest rewrote to no whole number of pages names no slot of the array.
  if (!(first >= 0 && first % EVENT_WORDS_PER_PAGE === 0)) {
    throw new XenError('EINVAL', `d${d.domid}: its event array's port count (${first}) is not a whole number of pages`);
  }
  const slot = first / EVENT_WORDS_PER_PAGE;
  if (slot >= FIFO_MAX_ARRAY_PAGES) throw new XenError('ENOSPC', `d${d.domid}: the event array has its ${FIFO_MAX_ARRAY_PAGES} pages`);
  c[CB_FIFO_ARRAY + slot] = guestFrame(d, gfn, 'event array');
  Atomics.store(c, CB_FIFO_NR_EVTCHNS, first + EVENT_WORDS_PER_PAGE);
  const last = Math.min(first + EVENT_WORDS_PER_PAGE - 1, maxPort);
  for (let port = Math.max(first, 1); port <= last; port++) {
    const ev = portBase(d, port) + EV_FIFO;
    if (Atomics.and(c, ev, ~SAVED_PENDING) & SAVED_PENDING) raise(port);
  }
}

/** EVTCHNOP_set_priority: later events go to the new queue; a linked one stays where it is. */
export function setPriority(d: DomainView, port: number, priority: number): void {
  if (!fifoActive(d)) throw new XenError('ENOSYS', `d${d.domid}: priorities need the FIFO ABI`);
  if (!Number.isInteger(priority) || priority < 0 || priority > EVTCHN_FIFO_PRIORITY_MIN) {
    throw new XenError('EINVAL', `bad event priority ${priority}`);
  }
  if (!updateFifoWord(d.ctl, portBase(d, port) + EV_FIFO, PRIO_MASK, priority)) {
    throw new XenError('EAGAIN', `d${d.domid}: port ${port}'s FIFO state kept changing (${FIFO_WORD_TRIES} tries)`);
  }
}

/** The largest port number the ABI in use allows. */
export function abiMaxPort(d: DomainView, max2l: number): number {
  return fifoActive(d) ? EVTCHN_FIFO_NR_CHANNELS - 1 : max2l;
}

/**
 * At a destroy: free the domain's queue locks a dead thread held (a vCPU out of heap inside a
 * send, or killed in a deferred event's retry, outside the hypercall gate), and announce every
 * queue that holds events. The tail is kept, as its chain is: the next event links after it
 * (resetting it orphaned the chain, every port on it LINKED and deaf for good). READY is set
 * after the unlock (as in Xen), so a sender killed between the two, holding no lock, left its
 * event the HEAD of a queue nobody announced, and later events link after it unannounced: so
 * READY is set whether or not a lock was broken. A spurious one costs the consumer a look at a
 * HEAD it already unlinked, as in Linux. Only the dead sender's own event can be lost (LINKED
 * in its word, never linked to): that port stays LINKED. True when the caller must raise the
 * upcall (a READY bit was newly set).
 */
export function breakQueueLocks(d: DomainView): boolean {
  const cb = controlWord(d);
  let raise = false;
  for (let q = 0; q <= EVTCHN_FIFO_PRIORITY_MIN; q++) {
    breakAbandoned(d.ctl, CB_FIFO_QUEUE_LOCK + q);
    if (cb < 0) continue;
    const queued = d.ctl[CB_FIFO_QUEUE_TAIL + q] !== 0 || Atomics.load(d.mem32, cb + (EVTCHN_FIFO_CB_HEAD >> 2) + q) !== 0;
    if (queued && !(Atomics.or(d.mem32, cb + (EVTCHN_FIFO_CB_READY >> 2), 1 << q) & (1 << q))) raise = true;
  }
  return raise;
}
