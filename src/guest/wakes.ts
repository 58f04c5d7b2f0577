// The wakes of sleeping vCPU threads (dom0's, a Pool-0 guest's) that a shared pCPU's domains
// call for (evtchn.ts wake), batched per pass: each target's first wake of a pass is made at once,
// so a backend starts on that domain's requests while the pCPU runs the pass's other domains; its
// later ones are kept (one per target) and made when the pass is over, after a turn once the
// oldest has waited WAKE_BATCH_MS, or before a turn that may be long (pcpu.ts asks for that when
// the domain's previous turn was not shorter than WAKE_BATCH_MS). A realm's turn runs to its end
// on this thread, so WAKE_BATCH_MS bounds a kept wake only as far as the turns after it are short:
// a domain whose last turn was long cannot make a kept wake wait through its next one. A backend
// that is already awake is never woken (evtchn.ts wakes only a blocked vCPU), so a wake is kept
// only for a backend that ran dry and went to sleep again within the pass.
//
// Why: with 32 domains on one pCPU, dom0 served each domain's turn faster than the pCPU ran the
// next one, slept, and was woken again by the next turn: a wake every ~17 I/Os, each costing the
// pCPU its Atomics.notify (35-43% of its samples) and dom0 its wake-up (docs/PERFORMANCE.md,
// issue 18, blk14). The fourth pass deferred every wake to the pass's end, which kept dom0 idle
// for the whole pass; the first wake at once keeps the two overlapping.
//
// What a realm hands in here is its own object: it is only compared by identity (===, which runs
// none of its code) and handed to Atomics.notify, which checks it is a shared integer view (it
// runs no code of the realm either); a realm can notify any view it holds itself anyway.

/** How long a wake may wait for the end of its pass. */
export const WAKE_BATCH_MS = 0.2;
/**
 * Targets tracked in a pass at most: a realm that names more (made-up views or indexes) has the
 * rest made at once, so neither list nor its scan grows without bound.
 */
export const MAX_BATCHED_WAKES = 1024;

export type Notify = (words: Int32Array, index: number) => void;

const atomicsNotify: Notify = (words, index) => void Atomics.notify(words, index, 1);

/** The position of the pair (words, index) in a list of pairs, or -1. */
function find(pairs: unknown[], words: unknown, index: number): number {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === words && pairs[i + 1] === index) return i;
  return -1;
}

export class PassWakes {
  /** Views and indexes, in pairs, of the targets woken in this pass (a target is usually one of a few). */
  readonly #woken: unknown[] = [];
  /** Views and indexes, in pairs, of the wakes kept for later: at most one per target. */
  readonly #kept: unknown[] = [];
  /** When the oldest kept wake was asked for. */
  #since = 0;

  constructor(
    private readonly notify: Notify = atomicsNotify,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A domain's wake of a sleeping vCPU thread: at once if it is the pass's first of that target, else kept. */
  wake(words: unknown, index: unknown): void {
    if (typeof index !== 'number') throw new TypeError('a wake needs a view and an index');
    const woken = this.#woken;
    if (find(woken, words, index) < 0) {
      if (woken.length < MAX_BATCHED_WAKES * 2) woken.push(words, index);
      this.#make(words, index);
      return;
    }
    // One notify wakes the target's one thread: a second kept wake of it would be a wasted one.
    if (find(this.#kept, words, index) >= 0) return;
    if (this.#kept.length === 0) this.#since = this.now();
    this.#kept.push(words, index);
  }

  /** After a turn: the kept wakes are made once the oldest has waited WAKE_BATCH_MS. */
  afterTurn(): void {
    if (this.#kept.length > 0 && this.now() - this.#since >= WAKE_BATCH_MS) this.#flush();
  }

  /**
   * Before a turn: if the domain's previous turn took WAKE_BATCH_MS or more, this one may too, and
   * a kept wake must not wait through it: the kept wakes are made now.
   */
  beforeTurn(previousMs: number): void {
    if (this.#kept.length > 0 && !(previousMs < WAKE_BATCH_MS)) this.#flush();
  }

  /** The pass (or a placement, or a claim) is over: the kept wakes are made; each target's next wake is at once. */
  end(): void {
    this.#flush();
    this.#woken.length = 0;
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
