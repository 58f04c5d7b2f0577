// IPv4 (RFC 791): header checks on input, routing to the subnet or the gateway, fragmentation
// on output for datagrams larger than the MTU, bounded reassembly on input, and a bounded
// path-MTU table fed by ICMP fragmentation-needed (RFC 1191).
import { NET_FRAME_PLAIN, type NetFrameInfo } from '../abi/netif.js';
import { IPV4_BROADCAST, MAC_BROADCAST, formatIpv4, isMulticast, readIpv4, writeIpv4, type Ipv4 } from './addr.js';
import type { Arp } from './arp.js';
import { finish, sumBytes, verify } from './checksum.js';
import type { Clock } from './clock.js';
import { NoRoute } from './errors.js';
import { ETHERTYPE_IPV4, type Ethernet, type FrameWriter } from './ethernet.js';
import { Reassembly, type ReassemblyOptions } from './reassembly.js';

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const IPV4_HLEN = 20;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const PMTU_ENTRIES = 256;
const MIN_MTU = 576;

export interface Ipv4Config {
  address: Ipv4;
  /** The subnet mask (contiguous). */
  netmask: Ipv4;
  gateway: Ipv4 | undefined;
}

/** A received datagram, whole (reassembled if it came in fragments). */
export interface Ipv4Packet {
  readonly src: Ipv4;
  readonly dst: Ipv4;
  readonly proto: number;
  readonly ttl: number;
  /**
   * frame[headerAt, quoteEnd): the IP header and at least the first 8 payload bytes, as ICMP
   * errors quote them (the view is made only for an error: quoteOf).
   */
  readonly frame: Uint8Array;
  readonly headerAt: number;
  readonly quoteEnd: number;
  readonly payload: Uint8Array;
  readonly info: NetFrameInfo;
}

/**
 * A reassembled datagram's header made the one its sender wrote before it fragmented it, as
 * Linux's ip_frag_reasm does: the first fragment's, with the whole length and no fragment
 * fields. An ICMP error about the datagram quotes it, with the first 8 bytes of its payload
 * (RFC 792), where the sender finds the ports to match it with.
 */
function wholeHeader(d: Uint8Array): void {
  const ihl = (d[0]! & 15) * 4;
  d[2] = d.length >> 8; d[3] = d.length;
  d[6] = 0; d[7] = 0;
  fillHeaderChecksum(d, 0, ihl);
}

/** Fill the checksum of the IP header at b[o, o + ihl). */
function fillHeaderChecksum(b: Uint8Array, o: number, ihl: number): void {
  b[o + 10] = 0; b[o + 11] = 0;
  const c = finish(sumBytes(b, o, ihl));
  b[o + 10] = c >> 8; b[o + 11] = c;
}

/** What an ICMP error about `p` quotes of it. */
export function quoteOf(p: Ipv4Packet): Uint8Array {
  return p.frame.subarray(p.headerAt, p.quoteEnd);
}

export interface Ipv4Counters {
  rxPackets: number;
  rxBadHeader: number;
  rxNotForUs: number;
  rxNoProtocol: number;
  txPackets: number;
  txFragments: number;
  txNoRoute: number;
}

export interface SendOptions {
  /** Don't fragment: TCP sizes its segments to the path MTU itself. */
  df?: boolean;
  info?: NetFrameInfo;
  ttl?: number;
}

export class Ipv4Layer {
  config: Ipv4Config = { address: 0, netmask: 0, gateway: undefined };
  readonly reassembly: Reassembly;
  readonly counters: Ipv4Counters = {
    rxPackets: 0, rxBadHeader: 0, rxNotForUs: 0, rxNoProtocol: 0, txPackets: 0, txFragments: 0, txNoRoute: 0,
  };
  #handlers = new Map<number, (p: Ipv4Packet) => void>();
  #pmtu = new Map<Ipv4, number>();
  #id = 0;
  /** Called for a datagram to a protocol nobody handles (ICMP answers protocol unreachable). */
  onUnknownProtocol: (p: Ipv4Packet) => void = () => {};

  constructor(readonly eth: Ethernet, readonly arp: Arp, clock: Clock, reassembly: Partial<ReassemblyOptions> = {}) {
    this.reassembly = new Reassembly(clock, reassembly);
    eth.on(ETHERTYPE_IPV4, (frame, off, info) => this.input(frame, off, info));
  }

  get mtu(): number {
    return this.eth.net.mtu;
  }

  /** Where an L4 header starts in a frame from alloc(). */
  get l4Offset(): number {
    return this.eth.hlen + IPV4_HLEN;
  }

  on(proto: number, fn: (p: Ipv4Packet) => void): void {
    this.#handlers.set(proto, fn);
  }

  /** A zeroed frame with room for `l4len` bytes at l4Offset. */
  alloc(l4len: number): Uint8Array {
    return this.eth.alloc(IPV4_HLEN + l4len);
  }

  /** As alloc(), not zeroed: the caller writes all of its L4 bytes. */
  allocRaw(l4len: number): Uint8Array {
    return this.eth.allocRaw(IPV4_HLEN + l4len);
  }

  isLocalBroadcast(a: Ipv4): boolean {
    const { address, netmask } = this.config;
    return a === IPV4_BROADCAST || (address !== 0 && netmask !== 0xffffffff && a === ((address | ~netmask) >>> 0));
  }

  /** The next hop for `dst`, or undefined when there is none. */
  nextHop(dst: Ipv4): Ipv4 | undefined {
    const { address, netmask, gateway } = this.config;
    if (this.isLocalBroadcast(dst)) return dst;
    if (address === 0) return undefined;
    if (((dst ^ address) & netmask) === 0) return dst;
    return gateway;
  }

  /** Throws NoRoute when `dst` is unreachable from here (no address, off-subnet without a gateway). */
  checkRoute(dst: Ipv4): void {
    if (this.nextHop(dst) === undefined) throw new NoRoute(`no route to ${formatIpv4(dst)}`);
  }

  /** The path MTU towards `dst`. */
  pathMtu(dst: Ipv4): number {
    return this.#pmtu.get(dst) ?? this.mtu;
  }

  /** ICMP said packets to `dst` must be at most `mtu` bytes. */
  lowerPathMtu(dst: Ipv4, mtu: number): void {
    const m = Math.max(MIN_MTU, Math.min(mtu, this.mtu));
    if (m >= this.pathMtu(dst)) return;
    this.#pmtu.delete(dst);
    if (this.#pmtu.size >= PMTU_ENTRIES) this.#pmtu.delete(this.#pmtu.keys().next().value as Ipv4);
    this.#pmtu.set(dst, m);
  }

  /**
   * Send the L4 bytes at l4Offset of `frame` (from alloc) to `dst`. Returns false (and counts)
   * when there is no route; larger-than-MTU datagrams are fragmented unless `df`.
   */
  output(frame: Uint8Array, dst: Ipv4, proto: number, opts: SendOptions = {}, src = this.config.address): boolean {
    return this.#output(frame.length - this.l4Offset, dst, proto, opts.df === true, opts.ttl ?? 64, opts.info, src, frame, undefined);
  }

  /**
   * As output() with don't-fragment (TCP sizes its segments to the path MTU itself), of a
   * datagram whose `l4len` L4 bytes `l4` writes: built where the device sends it from when it
   * can (the next hop's MAC known), else in a frame of our own.
   */
  outputWith(l4len: number, dst: Ipv4, proto: number, info: NetFrameInfo, l4: FrameWriter): boolean {
    return this.#output(l4len, dst, proto, true, 64, info, this.config.address, undefined, l4);
  }

  /** The one send path: the L4 bytes are in `frame` (output) or written by `l4` (outputWith). */
  #output(l4len: number, dst: Ipv4, proto: number, df: boolean, ttl: number, info: NetFrameInfo | undefined, src: Ipv4,
    frame: Uint8Array | undefined, l4: FrameWriter | undefined): boolean {
    const hop = this.nextHop(dst);
    if (hop === undefined) {
      this.counters.txNoRoute++;
      return false;
    }
    const id = (this.#id = (this.#id + 1) & 0xffff);
    const broadcast = this.isLocalBroadcast(dst);
    if (IPV4_HLEN + l4len <= this.mtu || info?.gso) {
      this.counters.txPackets++;
      const mac = l4 && (broadcast ? MAC_BROADCAST : this.arp.lookup(hop));
      if (mac) {
        const d = this.#datagram;
        d.total = IPV4_HLEN + l4len; d.id = id; d.frag = df ? FLAG_DF : 0; d.ttl = ttl; d.proto = proto; d.src = src; d.dst = dst; d.l4 = l4;
        this.eth.transmitWith(IPV4_HLEN + l4len, mac, ETHERTYPE_IPV4, info ?? NET_FRAME_PLAIN, d);
        return true;
      }
      const f = frame ?? this.#built(l4len, l4!);
      this.#header(f, this.eth.hlen, IPV4_HLEN + l4len, id, df ? FLAG_DF : 0, ttl, proto, src, dst);
      this.#emit(f, hop, broadcast, info);
      return true;
    }
    if (df) return false;
    const whole = frame ?? this.#built(l4len, l4!);
    const chunk = (this.mtu - IPV4_HLEN) & ~7;
    for (let at = 0; at < l4len; at += chunk) {
      const len = Math.min(chunk, l4len - at);
      const f = this.alloc(len);
      f.set(whole.subarray(this.l4Offset + at, this.l4Offset + at + len), this.l4Offset);
      this.#header(f, this.eth.hlen, IPV4_HLEN + len, id, (at >> 3) | (at + len < l4len ? FLAG_MF : 0), ttl, proto, src, dst);
      this.counters.txFragments++;
      this.#emit(f, hop, broadcast, undefined);
    }
    this.counters.txPackets++;
    return true;
  }

  /** A frame of our own holding what `l4` writes. */
  #built(l4len: number, l4: FrameWriter): Uint8Array {
    const f = this.allocRaw(l4len);
    l4.write(f, this.l4Offset);
    return f;
  }

  /** The datagram outputWith() is sending: its header, then its L4 bytes (one object, reused). */
  readonly #datagram = ((layer: Ipv4Layer) => ({
    total: 0, id: 0, frag: 0, ttl: 64, proto: 0, src: 0, dst: 0, l4: undefined as FrameWriter | undefined,
    write(frame: Uint8Array, at: number): void {
      layer.#header(frame, at, this.total, this.id, this.frag, this.ttl, this.proto, this.src, this.dst);
      this.l4!.write(frame, at + IPV4_HLEN);
    },
  }))(this);

  #emit(frame: Uint8Array, hop: Ipv4, broadcast: boolean, info: NetFrameInfo | undefined): void {
    if (broadcast) this.eth.transmit(frame, MAC_BROADCAST, ETHERTYPE_IPV4, info);
    else this.arp.send(hop, frame, ETHERTYPE_IPV4, info);
  }

  #header(b: Uint8Array, o: number, total: number, id: number, frag: number, ttl: number, proto: number, src: Ipv4, dst: Ipv4): void {
    b[o] = 0x45;
    b[o + 1] = 0;
    b[o + 2] = total >> 8; b[o + 3] = total;
    b[o + 4] = id >> 8; b[o + 5] = id;
    b[o + 6] = frag >> 8; b[o + 7] = frag;
    b[o + 8] = ttl;
    b[o + 9] = proto;
    writeIpv4(b, o + 12, src);
    writeIpv4(b, o + 16, dst);
    fillHeaderChecksum(b, o, IPV4_HLEN);
  }

  input(frame: Uint8Array, o: number, info: NetFrameInfo): void {
    const avail = frame.length - o;
    if (avail < IPV4_HLEN || frame[o]! >> 4 !== 4) return void this.counters.rxBadHeader++;
    let ihl = (frame[o]! & 15) * 4;
    const total = (frame[o + 2]! << 8) | frame[o + 3]!;
    if (ihl < IPV4_HLEN || ihl > avail || total < ihl || total > avail) return void this.counters.rxBadHeader++;
    if (!verify(frame, o, ihl)) return void this.counters.rxBadHeader++;
    let end = o + total; // Ethernet padding after the datagram is not payload
    const src = readIpv4(frame, o + 12);
    const dst = readIpv4(frame, o + 16);
    const { address } = this.config;
    if (isMulticast(src) || src === IPV4_BROADCAST) return void this.counters.rxBadHeader++;
    // Without an address (DHCP in progress) every datagram is looked at: UDP decides.
    if (address !== 0 && dst !== address && !this.isLocalBroadcast(dst)) return void this.counters.rxNotForUs++;
    const proto = frame[o + 9]!;
    const fragField = (frame[o + 6]! << 8) | frame[o + 7]!;
    let payload = frame.subarray(o + ihl, end);
    if (fragField & (FLAG_MF | 0x1fff)) {
      const whole = this.reassembly.add(`${src}:${dst}:${proto}:${(frame[o + 4]! << 8) | frame[o + 5]!}`,
        (fragField & 0x1fff) * 8, (fragField & FLAG_MF) !== 0, payload, frame.subarray(o, o + ihl));
      if (!whole) return;
      wholeHeader(whole);
      frame = whole;
      o = 0;
      end = whole.length;
      ihl = (whole[0]! & 15) * 4; // the first fragment's: options not copied to the others are in it only
      payload = whole.subarray(ihl);
    }
    this.counters.rxPackets++;
    const p: Ipv4Packet = { src, dst, proto, ttl: frame[o + 8]!, frame, headerAt: o, quoteEnd: Math.min(end, o + ihl + 8), payload, info };
    const fn = this.#handlers.get(proto);
    if (fn) fn(p);
    else {
      this.counters.rxNoProtocol++;
      this.onUnknownProtocol(p);
    }
  }
}

