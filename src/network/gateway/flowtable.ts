// A bounded table of UDP flows with idle timeouts: the least recently used flow goes first when
// the table is full, and a flow nobody used for `idleMs` ends by itself.

interface Slot<F> {
  readonly flow: F;
  readonly timer: NodeJS.Timeout;
}

export class FlowTable<F> {
  /** In least-recently-used order. */
  readonly #slots = new Map<string, Slot<F>>();
  evicted = 0;

  /** `onEnd` closes a flow that leaves the table (idle, evicted, ended, cleared). */
  constructor(private readonly max: number, private readonly idleMs: number, private readonly onEnd: (flow: F) => void) {}

  get size(): number {
    return this.#slots.size;
  }

  /** The flow at `key`, now the most recently used, its idle time restarted. */
  touch(key: string): F | undefined {
    const s = this.#slots.get(key);
    if (!s) return undefined;
    this.#slots.delete(key);
    this.#slots.set(key, s);
    s.timer.refresh();
    return s.flow;
  }

  /** Add a flow at a new key, evicting the least recently used one when the table is full. */
  add(key: string, flow: F): F {
    if (this.#slots.size >= this.max) {
      this.evicted++;
      this.end(this.#slots.keys().next().value as string);
    }
    this.#slots.set(key, { flow, timer: setTimeout(() => this.end(key, flow), this.idleMs).unref() });
    return flow;
  }

  /** Traffic for `flow` at `key`: its idle time restarts (false if it is no longer there). */
  refresh(key: string, flow: F): boolean {
    const s = this.#slots.get(key);
    if (!s || s.flow !== flow) return false;
    s.timer.refresh();
    return true;
  }

  /** End the flow at `key` (only if it is `flow`, when given). */
  end(key: string, flow?: F): void {
    const s = this.#slots.get(key);
    if (!s || (flow !== undefined && s.flow !== flow)) return;
    this.#slots.delete(key);
    clearTimeout(s.timer);
    this.onEnd(s.flow);
  }

  clear(): void {
    for (const k of [...this.#slots.keys()]) this.end(k);
  }
}
