// ARP (RFC 826) for IPv4 over Ethernet: a bounded cache with timeouts, requests retried a few
// times with a bounded queue of frames waiting for each answer, and gratuitous ARP (RFC 5227's
// announcement) on address change and on demand.
import type { NetFrameInfo } from '../abi/netif.js';
import { MAC_BROADCAST, isUnusableUnicast, readIpv4, writeIpv4, type Ipv4 } from './addr.js';
import type { Clock, Timer } from './clock.js';
import { ETHERTYPE_ARP, type Ethernet } from './ethernet.js';

const ARP_LEN = 28;
const OP_REQUEST = 1;
const OP_REPLY = 2;

export interface ArpOptions {
  /** Cache entries kept at most; the oldest goes first. */
  maxEntries: number;
  /** How long an answer stays good. */
  entryTtlMs: number;
  /** Requests sent before giving up on an address, and the time between them. */
  retries: number;
  retryMs: number;
  /**
   * Addresses being resolved at once, and the bytes of frames queued for each (a byte bound, as
   * Linux's unres_qlen_bytes, about 208 KiB: a count of 8, as before, lost 22 of 30 SYNs a client
   * sent at once to a peer not yet resolved, each then waiting out a 1 s retransmission; 256 KiB
   * still holds three 64 KiB super-frames of a stream whose entry expired).
   */
  maxPending: number;
  maxQueuedBytesPerAddress: number;
}

export const ARP_DEFAULTS: ArpOptions = {
  maxEntries: 512, entryTtlMs: 60_000, retries: 3, retryMs: 1000, maxPending: 64, maxQueuedBytesPerAddress: 256 * 1024,
};

interface Pending {
  frames: { frame: Uint8Array; ethertype: number; info: NetFrameInfo | undefined }[];
  /** The queued frames' bytes. */
  bytes: number;
  tries: number;
  timer: Timer;
}

export class Arp {
  #cache = new Map<Ipv4, { mac: Uint8Array; expires: number }>();
  #pending = new Map<Ipv4, Pending>();
  readonly opts: ArpOptions;
  /** Called when an address did not answer; upper layers fail what waits on it. */
  onUnreachable: (ip: Ipv4) => void = () => {};
  dropped = 0;

  constructor(
    private readonly eth: Ethernet,
    private readonly clock: Clock,
    private readonly localAddress: () => Ipv4,
    opts: Partial<ArpOptions> = {},
  ) {
    this.opts = { ...ARP_DEFAULTS, ...opts };
    eth.on(ETHERTYPE_ARP, (frame, off) => this.input(frame, off));
  }

  get size(): number {
    return this.#cache.size;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  lookup(ip: Ipv4): Uint8Array | undefined {
    const e = this.#cache.get(ip);
    if (!e) return undefined;
    if (e.expires <= this.clock.now()) {
      this.#cache.delete(ip);
      return undefined;
    }
    return e.mac;
  }

  /** Send an Ethernet frame to the next hop `ip`, resolving its MAC first if need be. */
  send(ip: Ipv4, frame: Uint8Array, ethertype: number, info?: NetFrameInfo): void {
    const mac = this.lookup(ip);
    if (mac) {
      this.eth.transmit(frame, mac, ethertype, info);
      return;
    }
    let p = this.#pending.get(ip);
    if (!p) {
      if (this.#pending.size >= this.opts.maxPending) {
        this.dropped++;
        return;
      }
      p = { frames: [], bytes: 0, tries: 0, timer: { cancel() {} } };
      this.#pending.set(ip, p);
      this.#request(ip, p);
    }
    if (p.bytes + frame.length > this.opts.maxQueuedBytesPerAddress) {
      this.dropped++;
      return;
    }
    p.bytes += frame.length;
    p.frames.push({ frame, ethertype, info });
  }

  #request(ip: Ipv4, p: Pending): void {
    if (p.tries >= this.opts.retries) {
      this.#pending.delete(ip);
      this.dropped += p.frames.length;
      this.onUnreachable(ip);
      return;
    }
    p.tries++;
    this.#sendArp(OP_REQUEST, MAC_BROADCAST, new Uint8Array(6), ip, this.localAddress());
    p.timer = this.clock.setTimer(this.opts.retryMs, () => this.#request(ip, p));
  }

  /** Announce our address (a gratuitous ARP request: sender and target are both us). */
  announce(): void {
    const me = this.localAddress();
    if (me !== 0) this.#sendArp(OP_REQUEST, MAC_BROADCAST, new Uint8Array(6), me, me);
  }

  /** Forget what `ip` answered (a host that came up again, maybe elsewhere): the next frame to it asks anew. */
  forget(ip: Ipv4): void {
    this.#cache.delete(ip);
  }

  /** The cache as [address, MAC, ms left] (a suspend record carries it). */
  snapshot(): [Ipv4, Uint8Array, number][] {
    const now = this.clock.now();
    return [...this.#cache].filter(([, e]) => e.expires > now).map(([ip, e]) => [ip, e.mac.slice(), e.expires - now]);
  }

  /** Entries carried over a resume (checked by the caller), with the time they had left. */
  restore(entries: readonly (readonly [Ipv4, Uint8Array, number])[]): void {
    const now = this.clock.now();
    for (const [ip, mac, left] of entries.slice(-this.opts.maxEntries)) this.#cache.set(ip, { mac: mac.slice(), expires: now + Math.min(left, this.opts.entryTtlMs) });
  }

  /** Forget everything (the address changed, or the interface went away). */
  flush(): void {
    for (const p of this.#pending.values()) p.timer.cancel();
    this.#pending.clear();
    this.#cache.clear();
  }

  #sendArp(op: number, ethDst: Uint8Array, targetMac: Uint8Array, targetIp: Ipv4, senderIp: Ipv4): void {
    const frame = this.eth.alloc(ARP_LEN);
    const o = this.eth.hlen;
    frame[o + 1] = 1; // htype Ethernet
    frame[o + 2] = 0x08; // ptype IPv4
    frame[o + 4] = 6;
    frame[o + 5] = 4;
    frame[o + 7] = op;
    frame.set(this.eth.mac, o + 8);
    writeIpv4(frame, o + 14, senderIp);
    frame.set(targetMac, o + 18);
    writeIpv4(frame, o + 24, targetIp);
    this.eth.transmit(frame, ethDst, ETHERTYPE_ARP);
  }

  input(frame: Uint8Array, o: number): void {
    if (frame.length - o < ARP_LEN) return;
    if (frame[o] !== 0 || frame[o + 1] !== 1 || frame[o + 2] !== 0x08 || frame[o + 3] !== 0 ||
        frame[o + 4] !== 6 || frame[o + 5] !== 4) return;
    const op = (frame[o + 6]! << 8) | frame[o + 7]!;
    if (op !== OP_REQUEST && op !== OP_REPLY) return;
    const senderMac = frame.slice(o + 8, o + 14);
    const senderIp = readIpv4(frame, o + 14);
    const targetIp = readIpv4(frame, o + 24);
    const me = this.localAddress();
    if ((senderMac[0]! & 1) === 1) return; // a multicast sender MAC is a lie
    const forUs = me !== 0 && targetIp === me;
    // RFC 826's merge: refresh a known sender, or one we are asking for (as Linux completes an
    // incomplete neighbour: a host's announcement as it comes up answers our request); learn a
    // new one only when it talks to us.
    if (!isUnusableUnicast(senderIp) && senderIp !== me && (forUs || this.#cache.has(senderIp) || this.#pending.has(senderIp))) {
      // An announcement answered our request: its sender was not up to hear that request, and
      // will answer the frames queued for it. Asking it again (unicast, before those frames)
      // lets it learn us from the request, so its answer does not wait on an ARP of its own (a
      // summoned guest's SYN-ACK to the gateway, toolstack/summon-forwards.ts).
      if (!forUs && me !== 0 && op === OP_REQUEST && senderIp === targetIp && this.#pending.has(senderIp)) {
        this.#sendArp(OP_REQUEST, senderMac, new Uint8Array(6), senderIp, me);
      }
      this.#learn(senderIp, senderMac);
    }
    if (op === OP_REQUEST && forUs) this.#sendArp(OP_REPLY, senderMac, senderMac, senderIp, me);
  }

  #learn(ip: Ipv4, mac: Uint8Array): void {
    this.#cache.delete(ip);
    if (this.#cache.size >= this.opts.maxEntries) {
      const oldest = this.#cache.keys().next().value as Ipv4;
      this.#cache.delete(oldest);
    }
    this.#cache.set(ip, { mac, expires: this.clock.now() + this.opts.entryTtlMs });
    const p = this.#pending.get(ip);
    if (p) {
      p.timer.cancel();
      this.#pending.delete(ip);
      for (const f of p.frames) this.eth.transmit(f.frame, mac, f.ethertype, f.info);
    }
  }
}
