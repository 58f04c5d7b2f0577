// Time as the stack sees it: a millisecond clock and cancellable one-shot timers, injected so
// that tests run on a virtual clock and a guest can drive the stack from its own timer source.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since an arbitrary start, never going backwards. */
  now(): number;
  /** Call `fn` once after `ms` milliseconds unless cancelled first. */
  setTimer(ms: number, fn: () => void): Timer;
}

interface Deadline {
  readonly at: number;
  readonly seq: number;
  /** Undefined once cancelled or fired. */
  fn: (() => void) | undefined;
}

/** A binary min-heap of deadlines, earliest first and in arming order among equal ones. */
export class DeadlineHeap {
  readonly #h: Deadline[] = [];
  #seq = 0;

  get size(): number {
    return this.#h.length;
  }

  push(at: number, fn: () => void): Deadline {
    const d: Deadline = { at, seq: this.#seq++, fn };
    const h = this.#h;
    h.push(d);
    this.#up(h.length - 1);
    return d;
  }

  /** The earliest deadline still armed, dropping cancelled ones on the way. */
  peek(): Deadline | undefined {
    while (this.#h.length > 0 && this.#h[0]!.fn === undefined) this.pop();
    return this.#h[0];
  }

  pop(): Deadline | undefined {
    const h = this.#h;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.#down(0);
    }
    return top;
  }

  /** Drop cancelled deadlines (cancelling only marks them). */
  compact(): void {
    const live = this.#h.filter((d) => d.fn !== undefined);
    this.#h.length = 0;
    this.#h.push(...live);
    for (let i = (live.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #less(a: Deadline, b: Deadline): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  // Swaps through a local, not a destructuring: until V8 optimizes it, each of those allocates an array.
  #up(i: number): void {
    const h = this.#h;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      const d = h[i]!;
      h[i] = h[p]!;
      h[p] = d;
      i = p;
    }
  }

  #down(i: number): void {
    const h = this.#h;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      const d = h[i]!;
      h[i] = h[m]!;
      h[m] = d;
      i = m;
    }
  }
}

/**
 * A Clock whose timers are heap entries under one host wake-up at the earliest deadline. TCP
 * arms and cancels timers for nearly every segment (delayed ACK, retransmission): here that is a
 * heap push and a mark, where a host timer each time (a guest sleep with its AbortController)
 * cost more than the segment. Deadlines mostly move later, so the wake-up rarely needs moving.
 */
export class DeadlineClock implements Clock {
  readonly #heap = new DeadlineHeap();
  #live = 0;
  #wake: { at: number; timer: Timer } | undefined;
  #idleCheck = false;

  /**
   * `wakeAfter` is the host's one-shot timer; `slackMs`: deadlines this close count as due when
   * it fires (a host timer may run a little before its deadline by `now()`).
   */
  constructor(readonly now: () => number, private readonly wakeAfter: (ms: number, fn: () => void) => Timer, private readonly slackMs = 0) {}

  /** Timers armed and not yet fired or cancelled. */
  get pending(): number {
    return this.#live;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const d = this.#heap.push(this.now() + Math.max(0, ms), fn);
    this.#live++;
    if (!this.#wake || d.at < this.#wake.at) this.#arm(d.at);
    return { cancel: () => this.#cancel(d) };
  }

  #cancel(d: Deadline): void {
    if (d.fn === undefined) return;
    d.fn = undefined;
    this.#live--;
    if (this.#heap.size > 64 && this.#heap.size > 4 * this.#live) this.#heap.compact();
    // Nothing left to wait for: let the host timer go, once this turn's re-arming is done.
    if (this.#live === 0 && this.#wake && !this.#idleCheck) {
      this.#idleCheck = true;
      queueMicrotask(() => {
        this.#idleCheck = false;
        if (this.#live === 0 && this.#wake) {
          this.#wake.timer.cancel();
          this.#wake = undefined;
          this.#heap.compact();
        }
      });
    }
  }

  #arm(at: number): void {
    this.#wake?.timer.cancel();
    const wake = { at, timer: undefined as unknown as Timer };
    this.#wake = wake;
    wake.timer = this.wakeAfter(Math.max(0, at - this.now()), () => {
      if (this.#wake === wake) this.#wake = undefined;
      this.#fire();
    });
  }

  #fire(): void {
    try {
      const due = this.now() + this.slackMs;
      for (let d = this.#heap.peek(); d && d.at <= due; d = this.#heap.peek()) {
        this.#heap.pop();
        const fn = d.fn!;
        d.fn = undefined;
        this.#live--;
        fn();
      }
    } finally {
      const next = this.#heap.peek();
      if (next && (!this.#wake || next.at < this.#wake.at)) this.#arm(next.at);
    }
  }
}

/** The host's clock: performance.now() and one setTimeout at a time. */
export const realClock: Clock = new DeadlineClock(() => performance.now(), (ms, fn) => {
  const t = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(t) };
}, 1);

/**
 * A timer slot that holds at most one pending timer: arming it again replaces the old one.
 * Re-arming and clearing it per segment costs no timer of the clock's, as Linux's TCP timers
 * cost none (inet_csk_clear_xmit_timer only clears the pending flag): the clock's timer moves
 * only when a deadline comes earlier than it; a later one, or a clear(), leaves it to fire and
 * then wait on for the live deadline, or find nothing due. cancel() takes the clock's timer
 * away too, for a slot that is done with for a while (a connection that ends).
 */
export class TimerSlot {
  #timer: Timer | undefined;
  /** When the clock's timer fires. */
  #timerAt = 0;
  /** When `#fn` is due. */
  #at = 0;
  /** Undefined: not armed. */
  #fn: (() => void) | undefined;
  constructor(private readonly clock: Clock) {}
  get armed(): boolean {
    return this.#fn !== undefined;
  }
  /** When the armed function is due, on the clock's terms (meaningful while armed). */
  get due(): number {
    return this.#at;
  }
  arm(ms: number, fn: () => void): void {
    const now = this.clock.now();
    this.#at = now + Math.max(0, ms);
    this.#fn = fn;
    if (this.#timer === undefined || this.#at < this.#timerAt) this.#set(this.#at, now);
  }
  /** Arm only when not already armed (a deadline that must not be pushed back). */
  ensure(ms: number, fn: () => void): void {
    if (!this.#fn) this.arm(ms, fn);
  }
  /** Disarm; the clock's timer, if any, is left to fire and find nothing due. */
  clear(): void {
    this.#fn = undefined;
  }
  /** Disarm and take the clock's timer away. */
  cancel(): void {
    this.#fn = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
  }
  #set(at: number, now: number): void {
    this.#timer?.cancel();
    this.#timerAt = at;
    this.#timer = this.clock.setTimer(at - now, this.#fire);
  }
  readonly #fire = (): void => {
    this.#timer = undefined;
    const fn = this.#fn;
    if (fn === undefined) return;
    // Deadlines compare on the clock's own terms: it ran this timer as due at #timerAt.
    if (this.#at > this.#timerAt) return this.#set(this.#at, this.clock.now());
    this.#fn = undefined;
    fn();
  };
}

/**
 * A Clock over a guest's `os.time` (src/guest/time.ts): one sleep at a time, for the earliest
 * deadline; it is aborted only when that deadline moves earlier or no timer is left, so the
 * stack's many cancelled timers leave nothing behind and cost no sleep each.
 */
export function clockFromTime(time: { monotonicMs(): number; sleep(ms: number, opts?: { signal?: AbortSignal }): Promise<void> }): Clock {
  return new DeadlineClock(() => time.monotonicMs(), (ms, fn) => {
    const ac = new AbortController();
    // Checked again on waking: a Time may end a sleep without heeding its signal.
    time.sleep(ms, { signal: ac.signal }).then(() => {
      if (!ac.signal.aborted) fn();
    }, () => undefined);
    return { cancel: () => ac.abort() };
  });
}
