// Clock and timers of the library OS. Sleeping is done as a PV guest does it: one
// set_timer_op deadline for the earliest sleeper, and VIRQ_TIMER when it passes.
import type { Hypercalls } from '../hypervisor/hypercalls.js';

export interface Time {
  /** Nanoseconds since an arbitrary start, never going backwards. */
  monotonic(): bigint;
  /**
   * The same clock in milliseconds from a start of its own, as a double: for code that reads it
   * per packet (the TCP/IP stack), where a BigInt each time costs more than the reading.
   */
  monotonicMs(): number;
  /** The host's wall clock. */
  wallclock(): Date;
  /**
   * Resolves after `ms` milliseconds; when `signal` aborts first, rejects with its reason and
   * the sleeper is gone at once (as Node's timers/promises setTimeout).
   */
  sleep(ms: number, opts?: { signal?: AbortSignal }): Promise<void>;
}

export class GuestTime implements Time {
  #hc: Hypercalls;
  // Deadlines in performance.now() ms, kept sorted; a guest has few sleepers at a time.
  #sleepers: { at: number; wake: () => void; fail: (e: unknown) => void }[] = [];
  #armed = 0;

  constructor(hc: Hypercalls) {
    this.#hc = hc;
  }

  monotonic(): bigint {
    return process.hrtime.bigint();
  }

  monotonicMs(): number {
    return performance.now();
  }

  wallclock(): Date {
    return new Date();
  }

  sleep(ms: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) return Promise.reject(new RangeError(`sleep: bad duration ${ms}`));
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const at = performance.now() + ms;
    return new Promise((resolve, reject) => {
      const remove = (): void => {
        const i = this.#sleepers.indexOf(sleeper);
        if (i >= 0) this.#sleepers.splice(i, 1);
      };
      const abort = (): void => {
        remove();
        try {
          this.#arm();
        } finally {
          reject(signal!.reason);
        }
      };
      const sleeper = {
        at,
        wake: () => {
          signal?.removeEventListener('abort', abort);
          resolve();
        },
        fail: (e: unknown) => {
          signal?.removeEventListener('abort', abort);
          reject(e);
        },
      };
      let i = this.#sleepers.length;
      while (i > 0 && this.#sleepers[i - 1]!.at > at) i--;
      this.#sleepers.splice(i, 0, sleeper);
      signal?.addEventListener('abort', abort, { once: true });
      try {
        this.#arm();
      } catch (e) {
        // set_timer_op threw (a realm's pCPU refuses any timer of a domain it halted): this sleep
        // fails and leaves nothing behind.
        remove();
        signal?.removeEventListener('abort', abort);
        throw e;
      }
    });
  }

  /** Sleepers waiting (cancelled ones are not). */
  get sleepers(): number {
    return this.#sleepers.length;
  }

  /** The VIRQ_TIMER handler. */
  onTimer(): void {
    const now = performance.now();
    let n = 0;
    while (n < this.#sleepers.length && this.#sleepers[n]!.at <= now) n++;
    const due = this.#sleepers.splice(0, n);
    this.#armed = 0;
    try {
      this.#arm();
    } catch (e) {
      // Re-arming threw. set_timer_op's timer is the vCPU's, which a shared pCPU keeps outside
      // the domain's timer bound (hypercalls.ts setTimer), so it is not refused for want of a
      // place; should it throw all the same, the sleepers fail as a sleep whose own arm threw
      // does, with the error, instead of waiting for a timer that is not armed; the error is not
      // thrown from this handler, where it would crash the domain.
      for (const s of this.#sleepers.splice(0)) s.fail(e);
    }
    for (const s of due) s.wake();
  }

  #arm(): void {
    const first = this.#sleepers[0]?.at ?? 0;
    if (first === this.#armed) return;
    // Armed once set_timer_op succeeded: one that failed is tried again by the next sleep.
    this.#hc.setTimer(first);
    this.#armed = first;
  }
}
