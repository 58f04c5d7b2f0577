// ICMP (RFC 792): echo replies, destination unreachable (with fragmentation-needed, RFC 1191)
// out and in, and ping. Errors we send are rate limited, so a flood of bad packets buys its
// sender at most a trickle of answers.
import { IPV4_BROADCAST, formatIpv4, isMulticast, readIpv4, type Ipv4 } from './addr.js';
import { finish, sumBytes, verify } from './checksum.js';
import type { Clock } from './clock.js';
import { Timeout } from './errors.js';
import { PROTO_ICMP, quoteOf, type Ipv4Layer, type Ipv4Packet } from './ipv4.js';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const UNREACH_NET = 0;
export const UNREACH_HOST = 1;
export const UNREACH_PROTOCOL = 2;
export const UNREACH_PORT = 3;
export const UNREACH_FRAG_NEEDED = 4;

/** An ICMP error about a datagram we sent, as upper layers see it. */
export interface IcmpError {
  readonly type: number;
  readonly code: number;
  /** The next-hop MTU of a fragmentation-needed message. */
  readonly mtu: number;
  /** From the quoted header: our datagram's destination and protocol, and its first 8 L4 bytes. */
  readonly dst: Ipv4;
  readonly proto: number;
  readonly l4: Uint8Array;
}

const ERRORS_PER_SECOND = 100;
const MAX_PINGS = 64;

export class Icmp {
  #tokens = ERRORS_PER_SECOND;
  #refilled: number;
  #pings = new Map<number, () => void>();
  #seq = 0;
  #errorHandlers = new Map<number, (e: IcmpError) => void>();
  rxBad = 0;
  errorsSuppressed = 0;

  constructor(private readonly ip: Ipv4Layer, private readonly clock: Clock) {
    this.#refilled = clock.now();
    ip.on(PROTO_ICMP, (p) => this.input(p));
    ip.onUnknownProtocol = (p) => this.unreachable(p, UNREACH_PROTOCOL);
  }

  /** Upper layer `proto` wants to hear of unreachable errors about its datagrams. */
  onError(proto: number, fn: (e: IcmpError) => void): void {
    this.#errorHandlers.set(proto, fn);
  }

  input(p: Ipv4Packet): void {
    const b = p.payload;
    if (b.length < 8 || (!p.info.csumBlank && !p.info.dataValidated && !verify(b, 0, b.length))) {
      this.rxBad++;
      return;
    }
    const type = b[0]!;
    if (type === ICMP_ECHO_REQUEST) {
      if (this.ip.isLocalBroadcast(p.dst) || isMulticast(p.dst)) return; // no smurf amplification
      this.#send(p.src, ICMP_ECHO_REPLY, 0, b.subarray(4));
    } else if (type === ICMP_ECHO_REPLY) {
      const key = (((b[4]! << 8) | b[5]!) << 16 | ((b[6]! << 8) | b[7]!)) >>> 0;
      const done = this.#pings.get(key);
      if (done) {
        this.#pings.delete(key);
        done();
      }
    } else if (type === ICMP_UNREACHABLE && b.length >= 8 + 20 + 8) {
      const inner = b.subarray(8);
      const ihl = (inner[0]! & 15) * 4;
      if (inner[0]! >> 4 !== 4 || ihl < 20 || inner.length < ihl + 8) return void this.rxBad++;
      if (readIpv4(inner, 12) !== this.ip.config.address) return void this.rxBad++;
      const e: IcmpError = {
        type, code: b[1]!, mtu: (b[6]! << 8) | b[7]!, dst: readIpv4(inner, 16), proto: inner[9]!,
        l4: inner.subarray(ihl, ihl + 8),
      };
      if (e.code === UNREACH_FRAG_NEEDED && e.mtu > 0) this.ip.lowerPathMtu(e.dst, e.mtu);
      this.#errorHandlers.get(e.proto)?.(e);
    }
  }

  /** Tell the sender of `p` that it cannot be delivered (rate limited; never about ICMP errors or broadcasts). */
  unreachable(p: Ipv4Packet, code: number): void {
    if (p.proto === PROTO_ICMP && p.payload.length > 0 && p.payload[0] !== ICMP_ECHO_REQUEST) return;
    if (this.ip.isLocalBroadcast(p.dst) || isMulticast(p.dst) || p.src === 0 || p.src === IPV4_BROADCAST) return;
    const now = this.clock.now();
    this.#tokens = Math.min(ERRORS_PER_SECOND, this.#tokens + ((now - this.#refilled) * ERRORS_PER_SECOND) / 1000);
    this.#refilled = now;
    if (this.#tokens < 1) {
      this.errorsSuppressed++;
      return;
    }
    this.#tokens--;
    const quote = quoteOf(p);
    const body = new Uint8Array(4 + quote.length);
    body.set(quote, 4);
    this.#send(p.src, ICMP_UNREACHABLE, code, body);
  }

  /** Echo `addr`; resolves with the round trip in ms, rejects with Timeout. */
  ping(addr: Ipv4, timeoutMs = 1000, payload = new Uint8Array(56)): Promise<number> {
    if (this.#pings.size >= MAX_PINGS) return Promise.reject(new Timeout('too many pings in flight'));
    const seq = (this.#seq = (this.#seq + 1) & 0xffff);
    const ident = 0x5845; // "XE"
    const body = new Uint8Array(4 + payload.length);
    body[0] = ident >> 8; body[1] = ident & 255; body[2] = seq >> 8; body[3] = seq & 255;
    body.set(payload, 4);
    const key = ((ident << 16) | seq) >>> 0;
    const start = this.clock.now();
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimer(timeoutMs, () => {
        this.#pings.delete(key);
        reject(new Timeout(`no echo reply from ${formatIpv4(addr)} in ${timeoutMs} ms`));
      });
      this.#pings.set(key, () => {
        timer.cancel();
        resolve(this.clock.now() - start);
      });
      this.#send(addr, ICMP_ECHO_REQUEST, 0, body);
    });
  }

  #send(dst: Ipv4, type: number, code: number, rest: Uint8Array): void {
    const len = 4 + rest.length;
    const frame = this.ip.alloc(len);
    const o = this.ip.l4Offset;
    frame[o] = type;
    frame[o + 1] = code;
    frame.set(rest, o + 4);
    const c = finish(sumBytes(frame, o, len));
    frame[o + 2] = c >> 8; frame[o + 3] = c;
    this.ip.output(frame, dst, PROTO_ICMP);
  }
}
