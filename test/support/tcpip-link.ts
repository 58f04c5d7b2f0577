// A rig for the TCP/IP stack: a virtual clock and an in-memory Ethernet link between Net
// devices, with seeded loss, duplication, reordering (jitter) and delay, so that every run of a
// test sees the same frames in the same order.
import { NET_FRAME_PLAIN, type NetFrameInfo } from '../../src/abi/netif.js';
import type { Net, NetOffloads, NetStats } from '../../src/drivers/net/front/net.js';
import type { Clock, Timer } from '../../src/tcpip/clock.js';
import type { ReassemblyOptions } from '../../src/tcpip/reassembly.js';
import { createStack, type TcpipStack } from '../../src/tcpip/stack.js';
import type { TcpConfig } from '../../src/tcpip/tcp/host.js';
import { rng } from './random.js';

/** A clock that moves only when told: timers fire in deadline order, ties in arming order. */
export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  #heap: { at: number; seq: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const t = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, live: true };
    this.#push(t);
    return { cancel: () => { t.live = false; } };
  }

  get pending(): number {
    return this.#heap.filter((t) => t.live).length;
  }

  /** The next live deadline, or undefined. */
  next(): number | undefined {
    while (this.#heap.length > 0 && !this.#heap[0]!.live) this.#pop();
    return this.#heap[0]?.at;
  }

  /** Fire everything due at or before `to`, then set the clock to `to`. */
  advanceTo(to: number): void {
    for (;;) {
      const at = this.next();
      if (at === undefined || at > to) break;
      const t = this.#pop()!;
      this.#now = Math.max(this.#now, t.at);
      t.fn();
    }
    this.#now = Math.max(this.#now, to);
  }

  #less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(t: { at: number; seq: number; fn: () => void; live: boolean }): void {
    const h = this.#heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): { at: number; seq: number; fn: () => void; live: boolean } | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

export interface LinkOptions {
  seed?: number;
  /** Probability that a frame is lost, duplicated; ms of base delay and of extra random delay (reordering). */
  loss?: number;
  duplicate?: number;
  delayMs?: number;
  jitterMs?: number;
  mtu?: number;
  offloads?: Partial<NetOffloads>;
}

type Handler = (frame: Uint8Array, info: NetFrameInfo) => void;

/** One end of the link, a Net as netfront gives a guest. */
export class LinkEnd implements Net {
  readonly devid = 0;
  readonly offloads: NetOffloads;
  handlers = new Set<Handler>();
  peer!: LinkEnd;
  rx = 0;
  tx = 0;
  /** Every frame this end sends, as the link sees it (before loss). */
  onTransmit: ((frame: Uint8Array, info: NetFrameInfo) => void) | undefined;

  constructor(readonly link: Link, readonly mac: string, readonly mtu: number, offloads: NetOffloads) {
    this.offloads = offloads;
  }

  write(frames: Uint8Array | readonly Uint8Array[], info: NetFrameInfo = NET_FRAME_PLAIN): Promise<void> {
    for (const f of frames instanceof Uint8Array ? [frames] : frames) {
      this.tx++;
      this.onTransmit?.(f, info);
      this.link.carry(this.peer, f.slice(), info);
    }
    return Promise.resolve();
  }

  listen(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Hand a frame to whoever listens on this end (a hostile peer's frame). */
  deliver(frame: Uint8Array, info: NetFrameInfo = NET_FRAME_PLAIN): void {
    this.rx++;
    for (const h of this.handlers) h(frame, info);
  }

  stats(): NetStats {
    return { rxBytes: 0, rxPackets: this.rx, txBytes: 0, txPackets: this.tx, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 };
  }

  disconnect(): Promise<void> {
    this.handlers.clear();
    return Promise.resolve();
  }
}

/** Two Net ends joined back to back through a lossy, deterministic wire. */
export class Link {
  readonly a: LinkEnd;
  readonly b: LinkEnd;
  readonly random: () => number;
  opts: Required<Omit<LinkOptions, 'offloads' | 'seed' | 'mtu'>>;
  /** Frames carried and dropped so far. */
  carried = 0;
  dropped = 0;
  /** When false, frames in flight are delivered but new ones vanish (a cable pulled). */
  up = true;

  constructor(readonly clock: ManualClock, o: LinkOptions = {}) {
    this.random = rng(o.seed ?? 1);
    this.opts = { loss: o.loss ?? 0, duplicate: o.duplicate ?? 0, delayMs: o.delayMs ?? 1, jitterMs: o.jitterMs ?? 0 };
    const off: NetOffloads = { csum: false, gsoTcpv4: false, gsoTcpv6: false, ...o.offloads };
    this.a = new LinkEnd(this, '00:16:3e:00:00:0a', o.mtu ?? 1500, off);
    this.b = new LinkEnd(this, '00:16:3e:00:00:0b', o.mtu ?? 1500, off);
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  carry(to: LinkEnd, frame: Uint8Array, info: NetFrameInfo): void {
    if (!this.up || this.random() < this.opts.loss) {
      this.dropped++;
      return;
    }
    const copies = this.random() < this.opts.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.carried++;
      const delay = this.opts.delayMs + this.random() * this.opts.jitterMs;
      this.clock.setTimer(delay, () => to.deliver(frame, info));
    }
  }
}

/** Let promise callbacks and stream events run (they use microtasks and nextTick). */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * Run the virtual clock until `done()` holds or `maxMs` of virtual time pass (bounded in steps
 * too); returns whether `done()` held.
 */
export async function runUntil(clock: ManualClock, done: () => boolean, maxMs = 600_000, maxSteps = 2_000_000): Promise<boolean> {
  const end = clock.now() + maxMs;
  for (let step = 0; step < maxSteps; step++) {
    await settle();
    if (done()) return true;
    const next = clock.next();
    if (next === undefined || next > end) {
      await settle();
      if (done()) return true;
      if (next === undefined) return false;
      clock.advanceTo(end);
      await settle();
      return done();
    }
    clock.advanceTo(next);
  }
  return done();
}

/** Run until `p` settles; returns its value or throws its error (or a timeout of the rig). */
export async function runPromise<T>(clock: ManualClock, p: Promise<T>, maxMs = 600_000): Promise<T> {
  let done = false;
  const q = p.finally(() => { done = true; });
  q.catch(() => {});
  await runUntil(clock, () => done, maxMs);
  if (!done) throw new Error(`rig: promise did not settle in ${maxMs} virtual ms`);
  return q;
}

/** Two stacks on one link: a at 10.0.0.1, b at 10.0.0.2 (a /24), seeded. */
export function stackPair(o: LinkOptions & { tcp?: Partial<TcpConfig>; reassembly?: Partial<ReassemblyOptions> } = {}): {
  clock: ManualClock; link: Link; a: TcpipStack; b: TcpipStack;
} {
  const clock = new ManualClock();
  const link = new Link(clock, o);
  const seed = o.seed ?? 1;
  const a = createStack(link.a, { clock, random: rng(seed * 7 + 1), tcp: o.tcp, reassembly: o.reassembly });
  const b = createStack(link.b, { clock, random: rng(seed * 7 + 2), tcp: o.tcp, reassembly: o.reassembly });
  a.configure({ ip: '10.0.0.1/24' });
  b.configure({ ip: '10.0.0.2/24' });
  return { clock, link, a, b };
}

/** Read everything from a stream into one buffer as it arrives. */
export function collect(s: NodeJS.ReadableStream): { bytes: () => Buffer; ended: () => boolean } {
  const chunks: Buffer[] = [];
  let ended = false;
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('end', () => { ended = true; });
  return { bytes: () => Buffer.concat(chunks), ended: () => ended };
}
