// The event upcall of a vCPU: sleep on evtchn_upcall_pending with Atomics.waitAsync (so the
// thread's own event loop keeps running), then scan evtchn_pending_sel and the pending/mask
// bitmaps as Linux's 2-level handler does, or walk the FIFO ABI's queues once the loop has
// switched to it (useFifo), and run each port's handler.
import { PAGE_SIZE } from '../abi/xen.js';
import { SHINFO_EVTCHN_MASK, SHINFO_EVTCHN_PENDING, VCPUINFO_PENDING_SEL, vcpuInfoOffset } from '../abi/event_channel.js';
import { CB_PAUSE, CB_RUNSTATE, RUNSTATE_blocked, RUNSTATE_running } from './layout.js';
import type { DomainView } from './memory.js';
import { monotonicMs } from './monotonic.js';
import { keepPending, mask, retryDeferredEvents, unmask, UPCALL_WORD, wake } from './evtchn.js';
import type { Hypercalls } from './hypercalls.js';
import { FifoQueues } from './upcall-fifo.js';

const PENDING_WORD = SHINFO_EVTCHN_PENDING >> 2;
const MASK_WORD = SHINFO_EVTCHN_MASK >> 2;
/** Events one upcall handles under the FIFO ABI before the loop lets the thread's tasks run. */
const FIFO_BUDGET = 4096;
const SEL_WORD = (vcpuInfoOffset(0) + VCPUINFO_PENDING_SEL) >> 2;
const UPCALL_BYTE = vcpuInfoOffset(0);

export type PortHandler = (port: number) => void;

/**
 * Halt-polling, as KVM does it: before a vCPU goes to sleep it may spin on upcall_pending for
 * a while, because a wake through Atomics.waitAsync costs tens of microseconds while an
 * event often follows within a few. The window adapts: it grows while events keep arriving
 * soon after the vCPU goes idle and shrinks to nothing while they do not, so an idle domain
 * never spins.
 *
 * A loop may poll only while something awaits an event (`expectEvents`): a driver with
 * requests in flight, which expects its responses within microseconds. Guests run that way, as
 * blk-mq and io_uring poll only for I/O they issued: a guest that merely waits for xenstore or
 * a timer does not spin, which matters when guests outnumber cores (booting hundreds at once,
 * each spinning on its replies, starves dom0).
 */
export const HALT_POLL_MAX_US = 50;
export const HALT_POLL_START_US = 5;

/**
 * Event storms (XSA-332): a guest can send on a port as fast as it likes, and every event
 * costs the receiver's thread an upcall. A loop given a storm limit masks a port that fires
 * more than `limit` times in a window and unmasks it after a pause (events that arrive meanwhile
 * stay pending and are delivered then), so a flooding guest costs dom0 a bounded share.
 */
const STORM_WINDOW_MS = 100;
const STORM_PAUSE_MS = 10;

interface PortEntry {
  handler: PortHandler;
  events: number;
  windowStart: number;
}

const yieldToTasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/**
 * How long the loop handles rounds of events back to back before it lets the thread's tasks
 * (timers, I/O) run: Linux's MAX_SOFTIRQ_TIME. A time, not a count of rounds: a FIFO round
 * may hold thousands of events and a 2-level one a single event.
 */
const TASKS_AFTER_MS = 2;

export class UpcallLoop {
  #view: DomainView;
  #handlers = new Map<number, PortEntry>();
  #stormLimit: number;
  #onStorm: (port: number) => void;
  #running = false;
  #onError: (err: unknown, port: number) => void;
  /** Pausing blocks the whole thread; dom0 is never paused. */
  #pausable: boolean;
  #pollMaxUs: number;
  #pollUs = 0;
  #pollOnlyWhenExpected: boolean;
  #expected = 0;
  #driven: boolean;
  /** When the loop last let the thread's tasks run, or went idle. */
  #tasksRanAt = 0;
  #fifo: FifoQueues | null = null;
  #hc: Hypercalls | null = null;
  /** Event array pages are added one at a time, in order. */
  #expanding: Promise<void> = Promise.resolve();
  #handleOne = (port: number): void => this.#handle(port);

  constructor(
    view: DomainView,
    opts: {
      onError: (err: unknown, port: number) => void;
      pausable: boolean;
      haltPollUs?: number;
      /** Poll only while expectEvents() holds are taken. */
      pollOnlyWhenExpected?: boolean;
      /** Events per port per 100 ms before the port is throttled; no limit when absent. */
      stormLimit?: number;
      onStorm?: (port: number) => void;
      /**
       * On a shared pCPU (cpupool.ts) the loop does not wait for events itself: the pCPU's
       * scheduler wakes on its doorbell and calls runPending() in the domain's turn.
       */
      driven?: boolean;
    },
  ) {
    this.#driven = opts.driven ?? false;
    this.#view = view;
    this.#stormLimit = opts.stormLimit ?? Infinity;
    this.#onStorm = opts.onStorm ?? (() => {});
    this.#onError = opts.onError;
    this.#pausable = opts.pausable;
    this.#pollMaxUs = opts.haltPollUs ?? 0;
    this.#pollOnlyWhenExpected = opts.pollOnlyWhenExpected ?? false;
  }

  /** Something now awaits an event soon (true) or no longer does (false); calls pair up. */
  expectEvents(on: boolean): void {
    this.#expected += on ? 1 : -1;
  }

  /** Whether something awaits an event soon (a shared pCPU polls its doorbell for it). */
  get expecting(): boolean {
    return this.#expected > 0;
  }

  on(port: number, handler: PortHandler): void {
    this.#handlers.set(port, { handler, events: 0, windowStart: 0 });
    // Under the FIFO ABI the event array grows to cover every port given a handler (as Linux
    // expands it when it binds an event); events that come first wait in the hypervisor.
    if (this.#fifo && port >= this.#fifo.covered) void this.#expandTo(port);
  }

  /**
   * Switch the domain to the FIFO event-channel ABI (EVTCHNOP_init_control): its control block
   * goes in a frame of the domain's RAM, and the event array grows a page per 1,024 ports as
   * ports get handlers. Lifts the 2-level ABI's 4,095 ports to the domain's max_event_channels
   * (dom0: 2^17 - 1). Call before binding ports: a 2-level event pending meanwhile is kept.
   */
  async useFifo(hc: Hypercalls): Promise<void> {
    if (this.#fifo) return;
    const [pfn] = hc.populatePhysmap(1);
    const frame = new Int32Array(this.#view.buffers.memory, pfn! * PAGE_SIZE, PAGE_SIZE >> 2);
    frame.fill(0);
    await hc.evtchnInitControl(pfn!, 0, 0);
    this.#hc = hc;
    this.#fifo = new FifoQueues(this.#view.mem32, pfn! * PAGE_SIZE);
    let top = 0;
    for (const port of this.#handlers.keys()) top = Math.max(top, port);
    await this.#expandTo(top);
  }

  /** Under the FIFO ABI: whether it is in use, and how many ports its event array covers. */
  get fifoPorts(): number | null {
    return this.#fifo?.covered ?? null;
  }

  /** Under the FIFO ABI, where the walk of priority `q`'s queue is (FifoQueues.walkAt); null under the 2-level ABI. */
  fifoWalkAt(q: number): number | null {
    return this.#fifo?.walkAt(q) ?? null;
  }

  #expandTo(port: number): Promise<void> {
    const fifo = this.#fifo!;
    const hc = this.#hc!;
    this.#expanding = this.#expanding.then(async () => {
      while (port >= fifo.covered) {
        const [pfn] = hc.populatePhysmap(1);
        fifo.addPage(pfn!);
        try {
          await hc.evtchnExpandArray(pfn!);
        } catch (e) {
          fifo.dropLastPage();
          hc.decreaseReservation([pfn!]);
          throw e;
        }
      }
    }).catch((e: unknown) => this.#onError(e, port));
    return this.#expanding;
  }

  off(port: number): void {
    this.#handlers.delete(port);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    if (!this.#driven) void this.#loop();
  }

  /** A driven loop's turn: run the handlers of pending events; false if there were none. */
  runPending(): boolean {
    if (!this.#running || !(Atomics.load(this.#view.mem32, UPCALL_WORD) & 0xff)) return false;
    this.#dispatch();
    return true;
  }

  stop(): void {
    this.#running = false;
    // Wake the waiter so the loop sees it should end.
    Atomics.notify(this.#view.mem32, UPCALL_WORD);
  }

  async #loop(): Promise<void> {
    const m = this.#view.mem32;
    const ctl = this.#view.ctl;
    while (this.#running) {
      if (this.#pausable) this.#waitWhilePaused();
      const word = Atomics.load(m, UPCALL_WORD);
      if (word & 0xff) {
        Atomics.store(ctl, CB_RUNSTATE, RUNSTATE_running);
        this.#dispatch();
        // What the handlers left for later (a promise they resolved, a sender a backend
        // resumed) runs before the next round, and the thread's timers and I/O every
        // TASKS_AFTER_MS: while other domains keep an event pending the loop never goes idle,
        // and without this they starved (a microtask queued by the first of 20,000 events
        // back to back ran after the last), as Linux runs softirqs on the way out of each
        // interrupt and bounds their time.
        const now = monotonicMs();
        if (now - this.#tasksRanAt >= TASKS_AFTER_MS) {
          await yieldToTasks();
          this.#tasksRanAt = monotonicMs();
        } else {
          await undefined;
        }
        continue;
      }
      // Whether to poll is decided here, on the state the handlers left, before the thread's
      // own tasks run: a driver whose requests were all answered expects nothing yet, even if
      // its caller issues more at once. So a guest that drained its ring (the backend is ahead
      // of it, as with many guests on few cores) sleeps instead of spinning; deciding after the
      // tasks ran made 32 guests on 2 cores poll and lose 25–40% (docs/PERFORMANCE.md).
      if (this.#pollUs > 0 && (this.#expected > 0 || !this.#pollOnlyWhenExpected)) {
        // Let the thread's own work (promise chains and tasks the handlers started) run
        // first: while we spin, nothing else on this thread does.
        await yieldToTasks();
        if (this.#poll()) continue;
      }
      Atomics.store(ctl, CB_RUNSTATE, RUNSTATE_blocked);
      const t0 = monotonicMs();
      const w = Atomics.waitAsync(m, UPCALL_WORD, word);
      if (w.async) await w.value;
      Atomics.store(ctl, CB_RUNSTATE, RUNSTATE_running);
      const t1 = monotonicMs();
      // A sleep let the tasks run; a look that found the word changed did not.
      if (w.async) this.#tasksRanAt = t1;
      this.#adapt((t1 - t0) * 1000);
    }
  }

  /** Spin for the current poll window; true if an event came. */
  #poll(): boolean {
    if (this.#pollUs === 0) return false;
    const m = this.#view.mem32;
    const end = monotonicMs() + this.#pollUs / 1000;
    do {
      if (Atomics.load(m, UPCALL_WORD) & 0xff) return true;
    } while (monotonicMs() < end);
    return false;
  }

  /** Grow the window after a sleep that a longer poll would have saved, shrink it otherwise. */
  #adapt(sleptUs: number): void {
    if (this.#pollMaxUs === 0) return;
    if (sleptUs <= this.#pollMaxUs) {
      this.#pollUs = Math.min(this.#pollMaxUs, this.#pollUs === 0 ? HALT_POLL_START_US : this.#pollUs * 2);
    } else {
      this.#pollUs = this.#pollUs <= HALT_POLL_START_US ? 0 : this.#pollUs / 2;
    }
  }

  /**
   * A paused domain's thread sleeps here, timers and all, until the last unpause; but the events
   * its sends deferred (a peer's FIFO queue lock held) are tried as their timer would, between
   * waits: Xen delivered them when they were sent, and a pause (a shutdown's too) held them back.
   */
  #waitWhilePaused(): void {
    const ctl = this.#view.ctl;
    for (let p = Atomics.load(ctl, CB_PAUSE); p > 0; p = Atomics.load(ctl, CB_PAUSE)) {
      Atomics.store(ctl, CB_RUNSTATE, RUNSTATE_blocked);
      Atomics.wait(ctl, CB_PAUSE, p, retryDeferredEvents());
    }
  }

  #storming(h: PortEntry, port: number): boolean {
    // Date.now, not performance.now: the window is 100 ms, and tests can mock the clock.
    const now = Date.now();
    if (now - h.windowStart > STORM_WINDOW_MS) {
      h.windowStart = now;
      h.events = 0;
    }
    if (++h.events <= this.#stormLimit) return false;
    mask(this.#view, port);
    // This event is kept pending, so unmasking delivers it.
    keepPending(this.#view, port);
    this.#onStorm(port);
    setTimeout(() => {
      h.windowStart = Date.now();
      h.events = 0;
      unmask(this.#view, port);
    }, STORM_PAUSE_MS).unref();
    return true;
  }

  #handle(port: number): void {
    const h = this.#handlers.get(port);
    if (!h) return;
    if (this.#stormLimit !== Infinity && this.#storming(h, port)) return;
    try {
      h.handler(port);
    } catch (e) {
      this.#onError(e, port);
    }
  }

  #dispatch(): void {
    const m = this.#view.mem32;
    Atomics.store(this.#view.mem8, UPCALL_BYTE, 0);
    if (this.#fifo) {
      // Events left over: the upcall stays raised, so the loop comes back for them. A driven
      // loop's pCPU runs its turn only when the doorbell rings, so it is rung for them too.
      if (!this.#fifo.drain(FIFO_BUDGET, this.#handleOne)) {
        Atomics.store(this.#view.mem8, UPCALL_BYTE, 1);
        wake(this.#view);
      }
      return;
    }
    for (let half = 0; half < 2; half++) {
      let sel = Atomics.exchange(m, SEL_WORD + half, 0);
      while (sel !== 0) {
        const bit = 31 - Math.clz32(sel & -sel);
        sel &= ~(1 << bit);
        const word64 = half * 32 + bit;
        for (let k = 0; k < 2; k++) {
          const w = word64 * 2 + k;
          let bits = Atomics.load(m, PENDING_WORD + w) & ~Atomics.load(m, MASK_WORD + w);
          while (bits !== 0) {
            const b = 31 - Math.clz32(bits & -bits);
            bits &= ~(1 << b);
            // Clear before handling (edge semantics): an event during the handler re-raises.
            Atomics.and(m, PENDING_WORD + w, ~(1 << b));
            this.#handle(w * 32 + b);
          }
        }
      }
    }
  }
}
