// The guest's side of the FIFO event-channel ABI, as Linux's events_fifo.c consumes it: the
// ready word says which priorities' queues have events; each queue is walked from its head
// (the control block's, when the walk has reached the tail) along the LINK fields, unlinking
// each event word and handling it if it is pending and unmasked. Priority 0 first, one event at
// a time, so a higher priority's events overtake a lower one's queue.
import {
  EVTCHN_FIFO_CB_HEAD, EVTCHN_FIFO_CB_READY, EVTCHN_FIFO_LINK_MASK, EVTCHN_FIFO_MAX_QUEUES,
} from '../abi/event_channel.js';
import { PAGE_SIZE } from '../abi/xen.js';
import { LINKED, MASKED, PENDING } from './evtchn-fifo.js';
import { EVENT_WORDS_PER_PAGE } from './layout.js';

export class FifoQueues {
  readonly #m: Int32Array;
  readonly #ready: number;
  readonly #headBase: number;
  /** Where each queue's walk is (Linux's per-cpu q->head): 0 once it reached the tail. */
  readonly #head = new Int32Array(EVTCHN_FIFO_MAX_QUEUES);
  /** The event array's frames, in the order the hypervisor was given them. */
  readonly #pages: number[] = [];

  /** `controlByte`: where the domain placed its evtchn_fifo_control_block in its memory. */
  constructor(mem32: Int32Array, controlByte: number) {
    this.#m = mem32;
    this.#ready = (controlByte + EVTCHN_FIFO_CB_READY) >>> 2;
    this.#headBase = (controlByte + EVTCHN_FIFO_CB_HEAD) >>> 2;
  }

  /** Ports the event array covers. */
  get covered(): number {
    return this.#pages.length * EVENT_WORDS_PER_PAGE;
  }

  /** The next page (before EVTCHNOP_expand_array: the hypervisor may link into it at once). */
  addPage(pfn: number): void {
    this.#m.fill(0, pfn * (PAGE_SIZE >> 2), (pfn + 1) * (PAGE_SIZE >> 2));
    this.#pages.push(pfn);
  }

  /** The page of a failed EVTCHNOP_expand_array. */
  dropLastPage(): void {
    this.#pages.pop();
  }

  /** Where queue `q`'s walk is (0: at its tail, the next event starts at the control block's head): for a stall's diagnosis. */
  walkAt(q: number): number {
    return this.#head[q] ?? 0;
  }

  #word(port: number): number {
    if (port <= 0 || port >= this.covered) return -1;
    return this.#pages[Math.floor(port / EVENT_WORDS_PER_PAGE)]! * EVENT_WORDS_PER_PAGE + (port % EVENT_WORDS_PER_PAGE);
  }

  /**
   * Handle up to `budget` events (evtchn_fifo_handle_events); `handle` gets each pending,
   * unmasked port, its PENDING bit already cleared (edge: an event during the handler is
   * queued again). Returns false if events were left for the next call (their ready bits are
   * put back).
   */
  drain(budget: number, handle: (port: number) => void): boolean {
    const m = this.#m;
    let ready = Atomics.exchange(m, this.#ready, 0);
    while (ready !== 0) {
      if (budget-- <= 0) {
        Atomics.or(m, this.#ready, ready);
        return false;
      }
      const q = 31 - Math.clz32(ready & -ready);
      let head = this.#head[q]!;
      // Reached the tail last time: the hypervisor wrote a new head since.
      if (head === 0) head = Atomics.load(m, this.#headBase + q);
      const w = this.#word(head);
      let next = 0;
      let port = 0;
      if (w >= 0) {
        // clear_linked: unlink and take the LINK, against the hypervisor linking after it.
        let cur = Atomics.load(m, w);
        for (;;) {
          const seen = Atomics.compareExchange(m, w, cur, cur & ~(LINKED | EVTCHN_FIFO_LINK_MASK));
          if (seen === cur) break;
          cur = seen;
        }
        next = cur & EVTCHN_FIFO_LINK_MASK;
        if ((cur & PENDING) && !(cur & MASKED) && (Atomics.and(m, w, ~PENDING) & PENDING)) port = head;
      }
      // An empty queue (or a head outside the array) leaves the ready set.
      if (next === 0) ready &= ~(1 << q);
      this.#head[q] = next;
      if (port) handle(port);
      ready |= Atomics.exchange(m, this.#ready, 0);
    }
    return true;
  }
}
