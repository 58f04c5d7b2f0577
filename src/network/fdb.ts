// A bridge's forwarding database: which port a (VLAN, MAC) was last seen on. Entries age out
// (checked when looked up, so an idle bridge runs no timer) and the table is bounded in total
// and per port: when full, aged entries are swept (at most once per sweep interval) and a new
// address is otherwise not learned, as Linux's fdb_max_learned does. Its frames are then
// flooded, which costs the flooder's VLAN bandwidth but never dom0's memory.

/** What an entry points at; the bridge's port. */
export interface FdbOwner {
  /** Entries this port has learned now. */
  learned: number;
}

interface Entry<P extends FdbOwner> {
  port: P;
  seen: number;
}

export interface FdbLimits {
  /** Seconds without a frame before an entry is forgotten (Linux's ageing_time: 300). */
  readonly agingMs: number;
  readonly maxEntries: number;
  readonly maxPerPort: number;
}

export const FDB_DEFAULTS: FdbLimits = { agingMs: 300_000, maxEntries: 8192, maxPerPort: 1024 };

export interface FdbRow<P> {
  readonly vid: number;
  readonly mac: number;
  readonly port: P;
  readonly ageMs: number;
}

export class Fdb<P extends FdbOwner> {
  /** Per VLAN, made on the first address learned in it: an idle VLAN has no map. */
  readonly #vlans = new Map<number, Map<number, Entry<P>>>();
  #size = 0;
  #lastSweep = -Infinity;
  /** Addresses not learned because a bound was reached. */
  full = 0;

  constructor(readonly limits: FdbLimits, readonly now: () => number) {}

  get size(): number {
    return this.#size;
  }

  /** The port a frame to `mac` goes to, or undefined to flood; `now` saves a clock read when the caller has one. */
  lookup(vid: number, mac: number, now = this.now()): P | undefined {
    const e = this.#vlans.get(vid)?.get(mac);
    if (!e) return undefined;
    if (now - e.seen > this.limits.agingMs) {
      this.#remove(vid, mac, e);
      return undefined;
    }
    return e.port;
  }

  /** A frame from `mac` came in on `port`. */
  learn(vid: number, mac: number, port: P, now = this.now()): void {
    let table = this.#vlans.get(vid);
    const e = table?.get(mac);
    if (e) {
      e.seen = now;
      if (e.port !== port) {
        // The station moved: it counts against its new port's bound.
        if (port.learned >= this.limits.maxPerPort) return this.#remove(vid, mac, e);
        e.port.learned--;
        port.learned++;
        e.port = port;
      }
      return;
    }
    if (port.learned >= this.limits.maxPerPort || (this.#size >= this.limits.maxEntries && !this.#sweep(now))) {
      this.full++;
      return;
    }
    if (!table) this.#vlans.set(vid, (table = new Map()));
    table.set(mac, { port, seen: now });
    port.learned++;
    this.#size++;
  }

  /** Forget everything learned on a port (it left the bridge). */
  forget(port: P): void {
    if (port.learned === 0) return;
    for (const [vid, table] of this.#vlans) {
      for (const [mac, e] of table) if (e.port === port) this.#remove(vid, mac, e);
    }
  }

  rows(): FdbRow<P>[] {
    const now = this.now();
    const out: FdbRow<P>[] = [];
    for (const [vid, table] of this.#vlans) {
      for (const [mac, e] of table) if (now - e.seen <= this.limits.agingMs) out.push({ vid, mac, port: e.port, ageMs: now - e.seen });
    }
    return out;
  }

  /** Drop aged entries; true if that made room. Rate-limited: a flood of new sources must not make every frame a sweep. */
  #sweep(now: number): boolean {
    if (now - this.#lastSweep < this.limits.agingMs / 10) return false;
    this.#lastSweep = now;
    for (const [vid, table] of this.#vlans) {
      for (const [mac, e] of table) if (now - e.seen > this.limits.agingMs) this.#remove(vid, mac, e);
    }
    return this.#size < this.limits.maxEntries;
  }

  #remove(vid: number, mac: number, e: Entry<P>): void {
    const table = this.#vlans.get(vid)!;
    table.delete(mac);
    if (table.size === 0) this.#vlans.delete(vid);
    e.port.learned--;
    this.#size--;
  }
}
