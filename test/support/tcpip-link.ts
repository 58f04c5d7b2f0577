// A rig for the TCP/IP stack: a virtual clock and an in-memory Ethernet link between Net
// devices, with seeded loss, duplication, reordering (jitter) and delay, so that every run of a
// test sees the same frames in the same order.
import { NET_FRAME_PLAIN, type NetFrameInfo } from '../../src/abi/netif.js';
import type { Net, NetOffloads, NetStats } from '../../src/drivers/net/front/net.js';
import { DeadlineHeap, type Clock, type Timer } from '../../src/tcpip/clock.js';
import type { ReassemblyOptions } from '../../src/tcpip/reassembly.js';
import { createStack, type TcpipStack } from '../../src/tcpip/stack.js';
import type { TcpConfig } from '../../src/tcpip/tcp/settings.js';
import { parseIpv4, parseMac, writeIpv4 } from '../../src/tcpip/addr.js';
import { fillL4Checksum, finish, sumBytes } from '../../src/tcpip/checksum.js';
import { PROTO_TCP } from '../../src/tcpip/ipv4.js';
import { encodeHeader } from '../../src/tcpip/tcp/wire.js';
import { rng } from './random.js';

/** A clock that moves only when told: timers fire in deadline order, ties in arming order. */
export class ManualClock implements Clock {
  #now = 0;
  readonly #heap = new DeadlineHeap();
  #live = 0;

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const d = this.#heap.push(this.#now + Math.max(0, ms), fn);
    this.#live++;
    return {
      cancel: () => {
        if (d.fn === undefined) return;
        d.fn = undefined;
        this.#live--;
      },
    };
  }

  get pending(): number {
    return this.#live;
  }

  /** The next live deadline, or undefined. */
  next(): number | undefined {
    return this.#heap.peek()?.at;
  }

  /** Fire everything due at or before `to`, then set the clock to `to`. */
  advanceTo(to: number): void {
    for (let d = this.#heap.peek(); d && d.at <= to; d = this.#heap.peek()) {
      this.#heap.pop();
      const fn = d.fn!;
      d.fn = undefined;
      this.#live--;
      this.#now = Math.max(this.#now, d.at);
      fn();
    }
    this.#now = Math.max(this.#now, to);
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
export function stackPair(o: LinkOptions & {
  tcp?: Partial<TcpConfig>;
  /** TCP settings of b only (a server with its own limits). */
  tcpB?: Partial<TcpConfig>;
  reassembly?: Partial<ReassemblyOptions>;
} = {}): {
  clock: ManualClock; link: Link; a: TcpipStack; b: TcpipStack;
} {
  const clock = new ManualClock();
  const link = new Link(clock, o);
  const seed = o.seed ?? 1;
  const a = createStack(link.a, { clock, random: rng(seed * 7 + 1), tcp: o.tcp, reassembly: o.reassembly });
  const b = createStack(link.b, { clock, random: rng(seed * 7 + 2), tcp: { ...o.tcp, ...o.tcpB }, reassembly: o.reassembly });
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

export interface RawTcp {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  /** Raw option bytes (a multiple of 4 long, or not: the data offset rounds down). */
  options?: Uint8Array;
  payload?: Uint8Array;
}

/** A hand-made Ethernet + IPv4 + TCP frame with correct checksums (a peer we do not trust). */
export function tcpFrame(t: RawTcp, dstMac = '00:16:3e:00:00:0b', srcMac = '00:16:3e:00:00:0a'): Uint8Array {
  const opts = t.options ?? new Uint8Array(0);
  const payload = t.payload ?? new Uint8Array(0);
  const tcpLen = 20 + opts.length + payload.length;
  const f = new Uint8Array(14 + 20 + tcpLen);
  f.set(parseMac(dstMac), 0);
  f.set(parseMac(srcMac), 6);
  f[12] = 0x08;
  ipHeader(f, 14, 20 + tcpLen, PROTO_TCP, parseIpv4(t.src), parseIpv4(t.dst));
  const o = 34;
  encodeHeader(f, o, { srcPort: t.srcPort, dstPort: t.dstPort, seq: t.seq >>> 0, ack: (t.ack ?? 0) >>> 0, flags: t.flags, window: t.window ?? 65535 }, undefined);
  f[o + 12] = ((20 + opts.length) >> 2) << 4;
  f.set(opts, o + 20);
  f.set(payload, o + 20 + opts.length);
  fillL4Checksum(f, o, tcpLen, o + 16, parseIpv4(t.src), parseIpv4(t.dst), PROTO_TCP, false);
  return f;
}

/** Write a 20-byte IPv4 header (no fragmentation unless `frag` is given) with its checksum. */
export function ipHeader(f: Uint8Array, o: number, total: number, proto: number, src: number, dst: number, id = 1, frag = 0): void {
  f[o] = 0x45;
  f[o + 2] = total >> 8; f[o + 3] = total & 255;
  f[o + 4] = id >> 8; f[o + 5] = id & 255;
  f[o + 6] = frag >> 8; f[o + 7] = frag & 255;
  f[o + 8] = 64;
  f[o + 9] = proto;
  writeIpv4(f, o + 12, src);
  writeIpv4(f, o + 16, dst);
  const c = finish(sumBytes(f, o, 20));
  f[o + 10] = c >> 8; f[o + 11] = c & 255;
}

/** An Ethernet + IPv4 frame around `payload` (a fragment when `frag` is given: offset/8 | MF). */
export function ipv4Frame(src: string, dst: string, proto: number, payload: Uint8Array, id = 1, frag = 0,
  dstMac = '00:16:3e:00:00:0b'): Uint8Array {
  const f = new Uint8Array(34 + payload.length);
  f.set(parseMac(dstMac), 0);
  f.set(parseMac('00:16:3e:00:00:0a'), 6);
  f[12] = 0x08;
  ipHeader(f, 14, 20 + payload.length, proto, parseIpv4(src), parseIpv4(dst), id, frag);
  f.set(payload, 34);
  return f;
}
