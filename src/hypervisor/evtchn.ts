// Event channels: the port tables, and delivery under the 2-level ABI (the FIFO ABI's is
// evtchn-fifo.ts; a domain switches with EVTCHNOP_init_control). The port tables live in each
// domain's control block so that send and unmask run on the calling thread; binding and closing
// are done by the hypervisor authority, on dom0's one thread, the only writer of every table.
// So a table has no lock: Xen's event lock serializes binds and closes, which dom0's thread
// does by running one at a time, and a reader on another thread (a send) checks what it read
// instead of excluding the writer. A lock word in the control block was one its guest could
// forge: dom0's binds and closes of that guest's ports waited up to 2 s each on it.
import {
  EVTCHN_2L_NR_CHANNELS, EVTCHN_FIFO_NR_CHANNELS, EVTCHNSTAT_closed, EVTCHNSTAT_interdomain, EVTCHNSTAT_ipi, EVTCHNSTAT_unbound, EVTCHNSTAT_virq,
  SHINFO_EVTCHN_MASK, SHINFO_EVTCHN_PENDING, VCPUINFO_PENDING_SEL, VCPUINFO_UPCALL_PENDING, vcpuInfoOffset,
} from '../abi/event_channel.js';
import { XenError } from '../errors.js';
import * as fifo from './evtchn-fifo.js';
import {
  CB_RUNSTATE, CB_VIRQ_BASE, EV_REMOTE_DOM, EV_REMOTE_PORT, EV_STATE, EV_VCPU, RUNSTATE_blocked, portBase,
} from './layout.js';
import { ring } from './doorbell.js';
import type { DomainView } from './memory.js';
import { monotonicMs } from './monotonic.js';

const PENDING_WORD = SHINFO_EVTCHN_PENDING >> 2;
const MASK_WORD = SHINFO_EVTCHN_MASK >> 2;
const VCPU0 = vcpuInfoOffset(0);
const SEL_WORD = (VCPU0 + VCPUINFO_PENDING_SEL) >> 2;
const UPCALL_BYTE = VCPU0 + VCPUINFO_UPCALL_PENDING;
/** The 32-bit word holding evtchn_upcall_pending: what a vCPU sleeps on. */
export const UPCALL_WORD = (VCPU0 + VCPUINFO_UPCALL_PENDING) >> 2;

export interface EvtchnStatus {
  readonly status: number;
  readonly vcpu: number;
  readonly remoteDomid?: number;
  readonly remotePort?: number;
  readonly virq?: number;
}

/** The last port the domain may use: its max_event_channels, within the ABI it uses (4,095 or 2^17 - 1). */
export function maxPorts(d: DomainView): number {
  return Math.min(d.maxEvtchns, fifo.abiMaxPort(d, EVTCHN_2L_NR_CHANNELS - 1));
}

/** Throws EINVAL for a port number outside the domain's table, as Xen's port_is_valid check. */
export function checkPort(d: DomainView, port: number): void {
  if (!validPort(d, port)) {
    throw new XenError('EINVAL', `d${d.domid}: event channel port ${port} is out of range`);
  }
}

function validPort(d: DomainView, port: number): boolean {
  return Number.isInteger(port) && port > 0 && port <= maxPorts(d);
}

export function portState(d: DomainView, port: number): number {
  return Atomics.load(d.ctl, portBase(d, port) + EV_STATE);
}

/**
 * evtchn_2l_set_pending: mark the port pending in the target's shared_info and, unless it is
 * masked or its selector bit is already set, raise the vCPU's upcall and wake it. The wake is
 * the expensive part, so it happens only on the 0 -> 1 edge of evtchn_upcall_pending. A FIFO
 * domain's event is queued instead (evtchn_fifo_set_pending). `from`: another domain's send
 * (sender()), which an event held for a locked queue must still come from when it is linked.
 */
export function setPending(target: DomainView, port: number, from = OWN): void {
  if (fifo.fifoActive(target)) {
    fifoDelivered(target, port, fifo.fifoSetPending(target, port), from);
    return;
  }
  const m = target.mem32;
  const bit = 1 << (port & 31);
  const w = port >>> 5;
  if (Atomics.or(m, PENDING_WORD + w, bit) & bit) return;
  if (Atomics.load(m, MASK_WORD + w) & bit) return;
  const sel = port >>> 6; // bit in the 64-bit evtchn_pending_sel
  const selBit = 1 << (sel & 31);
  if (Atomics.or(m, SEL_WORD + (sel >>> 5), selBit) & selBit) return;
  raiseUpcall(target);
}

/**
 * A FIFO queue lock is held by another thread, and no thread waits for one: a guest's thread
 * holds its own queue's lock in an unmask and a sender's in a send, and the OS may preempt it
 * there for as long as a loaded host keeps a nice-10 thread off a core (tens of ms), which would
 * stall every backend; and the lock is a word of the guest's control block, which it can write
 * (layout.ts): a holder it wrote there that is never judged dead made every Pool-0 sender to it
 * (a driver domain's backends) wait 2 s per send and fail (ETIMEDOUT). The event is linked from
 * the sender's loop once the lock is free, so a preempted or hostile guest delays its own events
 * (and those of the queue it held) only. On a shared pCPU the thread and each realm on it defer
 * as well (guest/pcpu.ts, guest/realm.ts): waiting would stall the sender's pool mates.
 * While a domain's lock stays held, a sender tries it less and less often (DEFERRED_RETRY_MAX_MS):
 * a hostile holder that never lets go costs it a few wakes a second, not one a millisecond.
 */
interface Deferred {
  /** Each held event's port, and who sent it (sender()), checked again when it is tried. */
  readonly ports: Map<number, number>;
  /** Between this domain's tries now; doubled after each try that found the lock still held. */
  intervalMs: number;
  /** monotonicMs() of its next try. */
  dueAt: number;
}
const deferred = new Map<DomainView, Deferred>();
let retryTimer: ReturnType<typeof setTimeout> | undefined;
/** When the armed retry fires (monotonicMs()). */
let retryAt = Infinity;
/**
 * How the retry's timer is armed: Node's setTimeout, or in a realm its library OS's own timer
 * (realm.ts, globals.ts setOwnTimer), which a shared pCPU keeps outside the domain's timer
 * bound: the realm's setTimeout would be refused (ENOMEM) at that bound, and a domain holding
 * long timers there would leave its sends' events unlinked until the soonest one fired.
 */
let armRetryTimer: (fn: () => void, ms: number) => NodeJS.Timeout = (fn, ms) => setTimeout(fn, ms).unref();

/** This copy's retries arm their timer through `arm` (a realm's: globals.ts setOwnTimer). */
export function retryTimerThrough(arm: (fn: () => void, ms: number) => NodeJS.Timeout): void {
  armRetryTimer = arm;
}
/** How soon a sender's thread first tries a deferred event's queue again (a held lock is a few stores long). */
const DEFERRED_RETRY_MS = 1;
/**
 * The longest between two tries of a queue whose lock stays held. A guest preempted inside its
 * critical section lets go within tens of ms, and its events are linked at most about as late
 * again; a hostile one never does, and costs each sender's thread this many tries a second at most.
 */
export const DEFERRED_RETRY_MAX_MS = 128;

/** An event the domain raised on its own port (an unmask, a VIRQ, an IPI), as a held event's sender. */
const OWN = -1;

/** The held event of a send from `fromPort` of domain `from`, as a held event's sender (a domid has 15 bits, a port 17). */
function sender(from: number, fromPort: number): number {
  return from * EVTCHN_FIFO_NR_CHANNELS + fromPort;
}

/**
 * Whether a held event is still to be linked (up to DEFERRED_RETRY_MAX_MS after its send): its
 * port not closed and, if another domain sent it, still that sender's channel's other end, or
 * left unbound for the sender's domain by a close of the sender's end (Xen leaves that end's
 * event pending; a destroy's resend is such an event). A port closed and bound again meanwhile,
 * to another domain, does not get the old channel's event.
 */
function stillSent(d: DomainView, port: number, from: number): boolean {
  if (from === OWN) return portState(d, port) !== EVTCHNSTAT_closed;
  const domid = Math.floor(from / EVTCHN_FIFO_NR_CHANNELS);
  if (pointsBack(d, port, domid, from % EVTCHN_FIFO_NR_CHANNELS)) return true;
  const { state, a } = readPort(d, port);
  return state === EVTCHNSTAT_unbound && a === domid;
}

function fifoDelivered(d: DomainView, port: number, linked: boolean | undefined, from = OWN): void {
  if (linked) raiseUpcall(d);
  else if (linked === undefined) {
    let q = deferred.get(d);
    if (!q) deferred.set(d, (q = { ports: new Map(), intervalMs: DEFERRED_RETRY_MS, dueAt: monotonicMs() + DEFERRED_RETRY_MS }));
    // One event per port: the domain's own is kept if it is held too (its check is the weaker).
    if (q.ports.get(port) !== OWN) q.ports.set(port, from);
    armRetry(q.dueAt);
  }
}

/** One timer for every domain's retries, at the earliest one due, moved by a clear and a set (never refused: armRetryTimer). */
function armRetry(at: number): void {
  if (retryTimer && retryAt <= at) return;
  clearTimeout(retryTimer);
  // Forgotten before the arm: if it throws (a halted realm), the next deferral arms again.
  retryTimer = undefined;
  retryAt = Infinity;
  retryTimer = armRetryTimer(retryDeferred, Math.max(0, at - monotonicMs()));
  retryAt = at;
}

function retryDeferred(): void {
  retryTimer = undefined;
  retryAt = Infinity;
  const now = monotonicMs();
  let next = Infinity;
  for (const [d, q] of deferred) {
    // A domain destroyed meanwhile takes its events with it (its control block is never reused).
    if (d.dying) q.ports.clear();
    else if (q.dueAt <= now) {
      for (const [port, from] of q.ports) {
        const linked = stillSent(d, port, from) ? fifo.fifoSetPending(d, port) : false;
        if (linked === undefined) continue;
        q.ports.delete(port);
        if (linked) raiseUpcall(d);
      }
      q.intervalMs = Math.min(q.intervalMs * 2, DEFERRED_RETRY_MAX_MS);
      q.dueAt = now + q.intervalMs;
    }
    if (q.ports.size === 0) deferred.delete(d);
    else next = Math.min(next, q.dueAt);
  }
  if (next < Infinity) armRetry(next);
}

/**
 * Try the deferred events due now, as the retry timer does: for a thread about to block on
 * something else (a paused vCPU: upcall.ts), whose timers do not run meanwhile. Returns the ms
 * until the next try, Infinity when none is left.
 */
export function retryDeferredEvents(): number {
  clearTimeout(retryTimer);
  retryDeferred();
  return Math.max(0, retryAt - monotonicMs());
}

/** The domain's events this thread has not linked yet because their queue's lock was held. */
export function deferredEvents(d: DomainView): number {
  return deferred.get(d)?.ports.size ?? 0;
}

/** How long this thread waits between tries of the domain's deferred events now (undefined: none deferred). */
export function deferredRetryMs(d: DomainView): number | undefined {
  return deferred.get(d)?.intervalMs;
}

/** vcpu_mark_events_pending: set evtchn_upcall_pending, and wake the vCPU on its 0 -> 1 edge. */
export function raiseUpcall(d: DomainView): void {
  if (Atomics.exchange(d.mem8, UPCALL_BYTE, 1) === 0) wake(d);
}

/**
 * Wake the domain's vCPU: its own thread sleeps on the upcall word, a shared pCPU on its doorbell.
 * A vCPU that is running (still in its handlers, or polling) sees the upcall byte without a
 * notify, so none is made: every Atomics.notify takes V8's one process-wide futex lock, which
 * the other threads' waits and wakes contend for. No wake is lost: the vCPU marks itself blocked
 * before it waits on the word's old value, and the caller set the byte before this load, so
 * either the load sees it blocked or its wait sees the byte set and does not sleep.
 *
 * A shared pCPU makes a pass's first wake of each blocked vCPU thread at once, not when its pass
 * is over: deferring every wake (pool4) made the backend start on a pass's requests only after
 * the whole pass, so the pCPU and dom0 took turns instead of overlapping (docs/PERFORMANCE.md,
 * cpupools, sixth pass). A thread's later wakes in the pass are kept, one per thread, and made
 * after WAKE_BATCH_MS, before a turn that may be long, or when the pass is over (guest/wakes.ts).
 */
export function wake(d: DomainView): void {
  if (d.doorbell) ring(d.doorbell, d.doorbellSlot);
  else if (Atomics.load(d.ctl, CB_RUNSTATE) === RUNSTATE_blocked) unblock(d.mem32, UPCALL_WORD);
}

let unblock = (words: Int32Array, index: number): void => void Atomics.notify(words, index, 1);
/**
 * On a shared pCPU (realm.ts): the wake of a blocked vCPU thread is handed to the pCPU, which
 * makes each thread's first of a pass at once and batches its later ones (guest/wakes.ts).
 */
export function unblockThrough(fn: (words: Int32Array, index: number) => void): void {
  unblock = fn;
}

/** EVTCHNOP_unmask: clear the mask bit and re-raise an event that arrived while masked. */
export function unmask(d: DomainView, port: number): void {
  checkPort(d, port);
  if (fifo.fifoActive(d)) {
    fifoDelivered(d, port, fifo.fifoUnmask(d, port));
    return;
  }
  const m = d.mem32;
  const bit = 1 << (port & 31);
  const w = port >>> 5;
  Atomics.and(m, MASK_WORD + w, ~bit);
  if (!(Atomics.load(m, PENDING_WORD + w) & bit)) return;
  const sel = port >>> 6;
  const selBit = 1 << (sel & 31);
  if (Atomics.or(m, SEL_WORD + (sel >>> 5), selBit) & selBit) return;
  raiseUpcall(d);
}

export function mask(d: DomainView, port: number): void {
  checkPort(d, port);
  if (fifo.fifoActive(d)) fifo.fifoMask(d, port);
  else Atomics.or(d.mem32, MASK_WORD + (port >>> 5), 1 << (port & 31));
}

/** Mark a masked port's event pending without delivering it: unmask delivers it. */
export function keepPending(d: DomainView, port: number): void {
  if (fifo.fifoActive(d)) fifo.fifoKeepPending(d, port);
  else Atomics.or(d.mem32, PENDING_WORD + (port >>> 5), 1 << (port & 31));
}

/**
 * EVTCHNOP_init_control: switch the domain to the FIFO ABI. Ports bound under the 2-level ABI
 * keep their pending events (raised once an array page covers them). The authority's.
 */
export function initControl(d: DomainView, gfn: number, offset: number, vcpu: number): number {
  const max2l = Math.min(d.maxEvtchns, EVTCHN_2L_NR_CHANNELS - 1);
  return fifo.initControl(d, gfn, offset, vcpu, max2l, (port) => (Atomics.load(d.mem32, PENDING_WORD + (port >>> 5)) & (1 << (port & 31))) !== 0);
}

/** EVTCHNOP_expand_array. The authority's. */
export function expandArray(d: DomainView, gfn: number): void {
  fifo.expandArray(d, gfn, maxPorts(d), (port) => setPending(d, port));
}

/** EVTCHNOP_set_priority (ENOSYS under the 2-level ABI, as Xen's 2-level port ops have none). */
export function setPriority(d: DomainView, port: number, priority: number): void {
  checkPort(d, port);
  fifo.setPriority(d, port, priority);
}

/**
 * Where a send on `port` goes: [remote domid, remote port] for an interdomain channel,
 * [own domid, port] for an IPI, null for an unbound one (Xen drops those silently). A VIRQ
 * port is raised only by the hypervisor: sending on it is EINVAL, as in evtchn_send. Read
 * without a lock (the table's only writer is dom0's thread), so it is a claim: the entry may be
 * torn by a close or bind of this port meanwhile, or rewritten by its guest. deliver() checks it.
 */
export function sendTarget(d: DomainView, port: number): [number, number] | null {
  checkPort(d, port);
  const base = portBase(d, port);
  switch (d.ctl[base + EV_STATE]) {
    case EVTCHNSTAT_interdomain:
      return [d.ctl[base + EV_REMOTE_DOM]!, d.ctl[base + EV_REMOTE_PORT]!];
    case EVTCHNSTAT_ipi:
      return [d.domid, port];
    case EVTCHNSTAT_unbound:
      return null;
    default:
      throw new XenError('EINVAL', `d${d.domid}: event channel port ${port} is not bound`);
  }
}

/**
 * Whether `port` of `peer` is the other end of `from`'s `fromPort`: an interdomain channel in
 * the peer's own table that points back. A sender's table is its guest's memory, so its entry
 * alone does not say where an event may go: without this, a guest that pointed its entry at any
 * port of a peer it is connected to (dom0's VIRQ_DOM_EXC, another guest's backend) raised it.
 */
export function pointsBack(peer: DomainView, port: number, from: number, fromPort: number): boolean {
  // Within its table is enough: only its own entry can point back from a port past its ABI's.
  if (!(port > 0 && port <= peer.maxEvtchns)) return false;
  const c = peer.ctl;
  const base = portBase(peer, port);
  return c[base + EV_STATE] === EVTCHNSTAT_interdomain && c[base + EV_REMOTE_DOM] === from && c[base + EV_REMOTE_PORT] === fromPort;
}

/**
 * The event of `d`'s send on `port`, to `port` of `peer` (what sendTarget named): set pending if
 * it is the channel's other end or `d`'s own port (an IPI, a loop-back), else dropped, as a send
 * on a port closed meanwhile is.
 */
export function deliver(d: DomainView, port: number, peer: DomainView, peerPort: number): void {
  if (peer === d) {
    if (validPort(d, peerPort)) setPending(d, peerPort);
  } else if (pointsBack(peer, peerPort, d.domid, port)) {
    setPending(peer, peerPort, sender(d.domid, port));
  }
}

/**
 * EVTCHNOP_send's delivery, inside the sender's hypercall gate (the caller's): null once done
 * (delivered, or dropped on an unbound port), or the [domid, port] target when `peerOf` gives
 * no live view of that domain on this thread (its buffers reach the caller off the data path).
 */
export function send(d: DomainView, port: number, peerOf: (domid: number) => DomainView | undefined): [number, number] | null {
  const target = sendTarget(d, port);
  if (!target) return null;
  const peer = peerOf(target[0]);
  if (!peer || peer.dying) return target;
  deliver(d, port, peer, target[1]);
  return null;
}

/**
 * An event on each of `d`'s interdomain channels, for a domain whose shared pCPU thread was reset
 * or lost (and has ended), or a Pool-0 domain destroyed (its thread ended): that thread may have
 * deferred events of its sends (a held FIFO queue lock) on a timer that died with it, and those
 * events were sent: their targets (dom0's backends, xenstored) must get them. Which they were is
 * known only to the dead thread, so every channel gets one event. A spurious event is allowed in Xen (a frontend or backend reads its
 * ring's indexes on each event), a lost one is not. Called from dom0's thread, which defers in
 * turn if a target's queue lock is held.
 *
 * `d`'s table is guest memory and its guest may have rewritten it, so an entry is only a claim:
 * the event goes to a port in the peer's range whose own entry is an interdomain channel back to
 * this domain and port (pointsBack), as dom0's close checks (hypervisor.ts #closePort). Without
 * that check, a guest that pointed its entries anywhere and then spun had dom0 set bits in other
 * domains' memory.
 */
export function resendToPeers(d: DomainView, peerOf: (domid: number) => DomainView | undefined): void {
  const max = maxPorts(d);
  for (let p = 1; p <= max; p++) {
    const mine = readPort(d, p);
    if (mine.state !== EVTCHNSTAT_interdomain) continue;
    const peer = peerOf(mine.a);
    if (!peer || peer.dying || !pointsBack(peer, mine.b, d.domid, p)) continue;
    try {
      setPending(peer, mine.b, sender(d.domid, p));
    } catch {
      // A FIFO array frame its guest rewrote (a RangeError): that port is skipped, the others go on.
    }
    // The thread may have raised the peer's upcall and kept its wake for after the turn
    // (guest/wakes.ts), a turn that never ended: the byte stays set, no later raise wakes the
    // peer, and dom0's consoles of every domain stopped. A wake of a peer awake is none.
    wake(peer);
  }
}

export function status(d: DomainView, port: number): EvtchnStatus {
  checkPort(d, port);
  const c = d.ctl;
  const base = portBase(d, port);
  const st = Atomics.load(c, base + EV_STATE);
  const vcpu = c[base + EV_VCPU]!;
  switch (st) {
    case EVTCHNSTAT_unbound:
      return { status: st, vcpu, remoteDomid: c[base + EV_REMOTE_DOM]! };
    case EVTCHNSTAT_interdomain:
      return { status: st, vcpu, remoteDomid: c[base + EV_REMOTE_DOM]!, remotePort: c[base + EV_REMOTE_PORT]! };
    case EVTCHNSTAT_virq:
      return { status: st, vcpu, virq: c[base + EV_REMOTE_DOM]! };
    default:
      return { status: st, vcpu };
  }
}

// ---- table updates: the authority's, on dom0's thread ----

/**
 * get_free_port: the lowest closed port, never 0; under the FIFO ABI not one still linked on a
 * queue (evtchn_is_busy), and with the default priority (evtchn_port_init).
 */
export function allocPort(d: DomainView): number {
  const max = maxPorts(d);
  const isFifo = fifo.fifoActive(d);
  for (let p = 1; p <= max; p++) {
    if (d.ctl[portBase(d, p) + EV_STATE] !== EVTCHNSTAT_closed) continue;
    if (!isFifo) return p;
    if (fifo.fifoBusy(d, p)) continue;
    fifo.fifoInitPort(d, p);
    return p;
  }
  throw new XenError('ENOSPC', `d${d.domid}: no free event channel (max_event_channels=${max})`);
}

export function setPort(d: DomainView, port: number, state: number, a: number, b: number, vcpu = 0): void {
  const base = portBase(d, port);
  d.ctl[base + EV_REMOTE_DOM] = a;
  d.ctl[base + EV_REMOTE_PORT] = b;
  d.ctl[base + EV_VCPU] = vcpu;
  Atomics.store(d.ctl, base + EV_STATE, state);
}

export function readPort(d: DomainView, port: number): { state: number; a: number; b: number } {
  const base = portBase(d, port);
  return { state: d.ctl[base + EV_STATE]!, a: d.ctl[base + EV_REMOTE_DOM]!, b: d.ctl[base + EV_REMOTE_PORT]! };
}

/** Clear pending state of a port being freed so a later user of the number starts clean. */
export function clearPending(d: DomainView, port: number): void {
  if (fifo.fifoActive(d)) fifo.fifoClearPending(d, port);
  else Atomics.and(d.mem32, PENDING_WORD + (port >>> 5), ~(1 << (port & 31)));
}

export function virqPort(d: DomainView, virq: number): number {
  return Atomics.load(d.ctl, CB_VIRQ_BASE + virq);
}

export function setVirqPort(d: DomainView, virq: number, port: number): void {
  Atomics.store(d.ctl, CB_VIRQ_BASE + virq, port);
}
