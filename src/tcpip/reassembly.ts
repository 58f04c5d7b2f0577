// IPv4 reassembly (RFC 791) with hard bounds, so that teardrop, overlapping and endless
// fragments cost only their sender: a datagram whose fragments overlap is dropped whole, a
// datagram not complete within the timeout is dropped, and the table holds at most so many
// datagrams and bytes (the oldest goes first when a new one needs room).
import type { Clock, Timer } from './clock.js';

export interface ReassemblyOptions {
  maxDatagrams: number;
  maxBytes: number;
  maxFragments: number;
  timeoutMs: number;
}

export const REASSEMBLY_DEFAULTS: ReassemblyOptions = {
  maxDatagrams: 32, maxBytes: 256 * 1024, maxFragments: 64, timeoutMs: 30_000,
};

interface Datagram {
  frags: { start: number; data: Uint8Array }[];
  /** The first fragment's IP header, once it came. */
  header?: Uint8Array;
  bytes: number;
  /** Payload length once the last fragment (MF clear) arrived, else -1. */
  total: number;
  timer: Timer;
}

export interface ReassemblyCounters {
  completed: number;
  dropped: number;
}

export class Reassembly {
  #table = new Map<string, Datagram>();
  #bytes = 0;
  readonly counters: ReassemblyCounters = { completed: 0, dropped: 0 };
  readonly opts: ReassemblyOptions;

  constructor(private readonly clock: Clock, opts: Partial<ReassemblyOptions> = {}) {
    this.opts = { ...REASSEMBLY_DEFAULTS, ...opts };
  }

  get datagrams(): number {
    return this.#table.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Add one fragment (`offset` in bytes, `more` = MF, `header` its IP header). Returns the whole
   * datagram when this fragment completes it: the first fragment's header, then the payload.
   */
  add(key: string, offset: number, more: boolean, data: Uint8Array, header: Uint8Array): Uint8Array | undefined {
    const end = offset + data.length;
    if (end > 65535 - 20 || (more && (data.length === 0 || data.length % 8 !== 0))) {
      this.#drop(key);
      this.counters.dropped++;
      return undefined;
    }
    let p = this.#table.get(key);
    if (!p) {
      while (this.#table.size >= this.opts.maxDatagrams || (this.#table.size > 0 && this.#bytes + data.length > this.opts.maxBytes)) {
        this.#drop(this.#table.keys().next().value as string);
        this.counters.dropped++;
      }
      if (data.length > this.opts.maxBytes) return undefined;
      p = { frags: [], bytes: 0, total: -1, timer: this.clock.setTimer(this.opts.timeoutMs, () => {
        this.#drop(key);
        this.counters.dropped++;
      }) };
      this.#table.set(key, p);
    }
    for (const f of p.frags) {
      const fEnd = f.start + f.data.length;
      if (f.start === offset && fEnd === end) return undefined; // a duplicate
      if (offset < fEnd && f.start < end) return this.#reject(key); // overlap: teardrop and friends
    }
    if (!more) {
      if (p.total !== -1 && p.total !== end) return this.#reject(key);
      // A fragment stored before the end was known may lie past it: the bytes could then add up
      // to the total with a hole at the start.
      if (p.total === -1 && p.frags.some((f) => f.start + f.data.length > end)) return this.#reject(key);
      p.total = end;
    }
    if ((p.total !== -1 && end > p.total) || p.frags.length >= this.opts.maxFragments ||
        this.#bytes + data.length > this.opts.maxBytes) {
      return this.#reject(key);
    }
    p.frags.push({ start: offset, data: data.slice() });
    if (offset === 0) p.header = header.slice();
    p.bytes += data.length;
    this.#bytes += data.length;
    if (p.total === -1 || p.bytes !== p.total) return undefined;
    // No overlaps, none past the end, and the byte count equals the total: the fragments tile the
    // datagram, the first (offset 0, which brought the header) among them.
    const head = p.header!;
    if (head.length + p.total > 65535) return this.#reject(key); // its length would not fit its header
    const out = new Uint8Array(head.length + p.total);
    out.set(head);
    for (const f of p.frags) out.set(f.data, head.length + f.start);
    this.#drop(key);
    this.counters.completed++;
    return out;
  }

  #reject(key: string): undefined {
    this.#drop(key);
    this.counters.dropped++;
    return undefined;
  }

  #drop(key: string): void {
    const p = this.#table.get(key);
    if (!p) return;
    p.timer.cancel();
    this.#bytes -= p.bytes;
    this.#table.delete(key);
  }

  clear(): void {
    for (const k of [...this.#table.keys()]) this.#drop(k);
  }
}
