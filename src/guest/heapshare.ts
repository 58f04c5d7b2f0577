// The memory each realm of a pCPU thread holds, estimated from the thread's own heap figures:
// no vm.measureMemory (a measurement left for V8's GC froze hosts, and an eager one is a full
// GC of the whole thread, docs/SECURITY.md). The thread reads what outlives the young
// generation (its old-generation spaces) every few milliseconds;
// growth between two readings is charged to the domains that ran in between, in proportion to
// the CPU time of their turns, and a fall (a GC freed memory) first pays back what domains
// gone and the thread itself were charged, then lowers every domain's figure in proportion.
//
// Limits (docs/SECURITY.md): a domain that ran alongside one that allocates in the same window
// shares its growth by CPU time; what one domain frees lowers the others' figures too, so a
// domain that keeps its memory while another's garbage is collected is undercharged for a
// while; young garbage is never charged (only what survives into the old generation). The
// figure is an estimate for accounting and for crashing a domain far over its share, not a
// measurement.

export class HeapShares<K> {
  #last: number;
  readonly #held = new Map<K, number>();
  readonly #ran = new Map<K, number>();
  /** Growth charged to no domain: the thread's own work, and what departed domains left behind. */
  #unowned = 0;

  /** `reading`: the thread's figure now (bytes). */
  constructor(reading: number) {
    this.#last = reading;
  }

  /** A domain whose realm starts with `bytes` (the growth its making and boot were measured at). */
  add(key: K, bytes: number): void {
    this.#held.set(key, Math.max(0, bytes));
  }

  /** The domain is gone: its figure is the thread's until a GC shows it freed. */
  remove(key: K): void {
    this.#unowned += this.#held.get(key) ?? 0;
    this.#held.delete(key);
    this.#ran.delete(key);
  }

  /**
   * The domain's turn took `ms` of the thread. One removed in that turn (crashed in it) counts
   * for nothing: its thread samples before the removal and again at the turn's end, so that what
   * the turn grew after is the thread's, neither its own nor its pool mates' (guest/pcpu.ts crashAlone).
   */
  ran(key: K, ms: number): void {
    if (this.#held.has(key)) this.#ran.set(key, (this.#ran.get(key) ?? 0) + ms);
  }

  /**
   * The thread's figure now: charge the growth since the last reading, or pay back a fall.
   * Returns the domains whose figure changed.
   */
  sample(reading: number): K[] {
    const delta = reading - this.#last;
    this.#last = reading;
    const charged: K[] = [];
    if (delta > 0) {
      let total = 0;
      for (const ms of this.#ran.values()) total += ms;
      if (total > 0) {
        for (const [k, ms] of this.#ran) {
          this.#held.set(k, this.#held.get(k)! + (delta * ms) / total);
          charged.push(k);
        }
      } else this.#unowned += delta;
    } else if (delta < 0 && this.#free(-delta)) charged.push(...this.#held.keys());
    this.#ran.clear();
    return charged;
  }

  /**
   * Growth the thread made for no domain (a spare realm, which `add` charges to its domain
   * later): the reading moves on without charging anyone.
   */
  skip(reading: number): void {
    this.#last = reading;
  }

  /** Pay back `bytes` freed; true if domains' figures fell. */
  #free(bytes: number): boolean {
    const back = Math.min(this.#unowned, bytes);
    this.#unowned -= back;
    const rest = bytes - back;
    if (rest <= 0) return false;
    let sum = 0;
    for (const b of this.#held.values()) sum += b;
    if (sum <= 0) return false;
    const keep = Math.max(0, 1 - rest / sum);
    for (const [k, b] of this.#held) this.#held.set(k, b * keep);
    return true;
  }

  /** The domain's figure, bytes; undefined if it is not on this thread. */
  bytes(key: K): number | undefined {
    return this.#held.get(key);
  }
}
