// The wakes of sleeping vCPU threads (dom0's, a Pool-0 guest's) that a shared pCPU's domains
// call for (evtchn.ts wake), batched per pass: the first wake of a pass is made at once, so the
// backend starts on that domain's requests while the pCPU runs the pass's other domains; the
// later ones are made when the pass is over, or WAKE_BATCH_MS after the first of them, whichever
// comes first. A backend that is already awake is never woken (evtchn.ts wakes only a blocked
// vCPU), so a batch is made only for a backend that ran dry and went to sleep within the pass.
//
// Why: with 32 domains on one pCPU, dom0 served each domain's turn faster than the pCPU ran the
// next one, slept, and was woken again by the next turn: a wake every ~17 I/Os, each costing the
// pCPU its Atomics.notify (35-43% of its samples) and dom0 its wake-up (docs/PERFORMANCE.md,
// issue 18, blk14). The fourth pass deferred every wake to the pass's end, which kept dom0 idle
// for the whole pass; the first wake at once keeps the two overlapping.
//
// What a realm hands in here is its own object: Atomics.notify checks it is a shared integer
// view (it runs no code of the realm), and a realm can notify any view it holds itself anyway.

/** How long a wake may wait for the end of its pass. */
export const WAKE_BATCH_MS = 0.2;
/** Wakes kept for the end of a pass at most: a realm that asks for more has them made at once. */
export const MAX_BATCHED_WAKES = 1024;

export type Notify = (words: Int32Array, index: number) => void;

const atomicsNotify: Notify = (words, index) => void Atomics.notify(words, index, 1);

export class PassWakes {
  /** A wake was made in this pass. */
  #woke = false;
  /** Views and indexes, in pairs, of the wakes kept for the end of the pass. */
  readonly #kept: unknown[] = [];
  /** When the oldest kept wake was asked for. */
  #since = 0;

  constructor(
    private readonly notify: Notify = atomicsNotify,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A domain's wake of a sleeping vCPU thread: at once if it is the pass's first, else kept. */
  wake(words: unknown, index: unknown): void {
    if (typeof index !== 'number') throw new TypeError('a wake needs a view and an index');
    if (!this.#woke) {
      this.#woke = true;
      this.#make(words, index);
      return;
    }
    if (this.#kept.length === 0) this.#since = this.now();
    this.#kept.push(words, index);
    if (this.#kept.length >= MAX_BATCHED_WAKES * 2) this.#flush();
  }

  /** After a turn: the kept wakes are made once the oldest has waited WAKE_BATCH_MS. */
  afterTurn(): void {
    if (this.#kept.length > 0 && this.now() - this.#since >= WAKE_BATCH_MS) this.#flush();
  }

  /** The pass (or a placement, or a claim) is over: the kept wakes are made; the next wake is at once. */
  end(): void {
    this.#flush();
    this.#woke = false;
  }

  #flush(): void {
    const kept = this.#kept;
    for (let i = 0; i < kept.length; i += 2) this.#make(kept[i], kept[i + 1] as number);
    kept.length = 0;
  }

  #make(words: unknown, index: number): void {
    try {
      this.notify(words as Int32Array, index);
    } catch {
      /* not a shared integer view, or an index outside it: nothing to wake */
    }
  }
}
