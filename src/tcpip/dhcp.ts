// A DHCP client (RFC 2131 §4.4): DISCOVER, OFFER, REQUEST, ACK; renewing at T1 (unicast to the
// server) and rebinding at T2 (broadcast); starting over on NAK or when the lease runs out.
// Every reply is checked (ours by xid and chaddr, a usable address, a contiguous mask, sane
// lease times); anything else is counted and ignored, so a server answering nonsense only
// delays us.
import { IPV4_BROADCAST, isUnusableUnicast, maskPrefix, prefixMask, readIpv4, writeIpv4, type Ipv4 } from './addr.js';
import { TimerSlot, type Clock } from './clock.js';
import type { Ipv4Layer } from './ipv4.js';
import type { Udp } from './udp.js';

const SERVER_PORT = 67;
const CLIENT_PORT = 68;
export const COOKIE = 0x63825363;
/** op .. file: the fixed part before the magic cookie. */
export const FIXED_LEN = 236;
const MSG_DISCOVER = 1;
const MSG_OFFER = 2;
const MSG_REQUEST = 3;
const MSG_ACK = 5;
const MSG_NAK = 6;
const MIN_LEASE_S = 60;
const MAX_LEASE_S = 365 * 86400;
const MAX_DNS = 4;

export interface DhcpLease {
  readonly address: Ipv4;
  readonly netmask: Ipv4;
  readonly gateway: Ipv4 | undefined;
  readonly dns: readonly Ipv4[];
  readonly server: Ipv4;
  readonly leaseS: number;
  readonly t1S: number;
  readonly t2S: number;
}

type DhcpState = 'idle' | 'selecting' | 'requesting' | 'bound' | 'renewing' | 'rebinding';

interface Reply {
  type: number;
  yiaddr: Ipv4;
  opts: Map<number, Uint8Array>;
}

export class DhcpClient {
  state: DhcpState = 'idle';
  lease: DhcpLease | undefined;
  /** Replies ignored as not ours or not sane. */
  rejected = 0;
  #xid = 0;
  #offer: { address: Ipv4; server: Ipv4 } | undefined;
  #tries = 0;
  #retry: TimerSlot;
  #leaseTimer: TimerSlot;
  #bound = false;
  #boundAt = 0;

  constructor(
    private readonly udp: Udp,
    private readonly ip: Ipv4Layer,
    private readonly clock: Clock,
    private readonly random: () => number,
    /** Called on every ACK (first lease and renewals) and with undefined when a lease is lost. */
    private readonly onLease: (l: DhcpLease | undefined) => void,
  ) {
    this.#retry = new TimerSlot(clock);
    this.#leaseTimer = new TimerSlot(clock);
  }

  start(): void {
    if (!this.#bound) {
      this.udp.bindRaw(CLIENT_PORT, (payload) => this.input(payload));
      this.#bound = true;
    }
    this.#discover();
  }

  /** How long ago the lease was bound (ms), for a suspend record; undefined without one. */
  get leaseAgeMs(): number | undefined {
    return this.lease ? this.clock.now() - this.#boundAt : undefined;
  }

  /**
   * Carry on with a lease bound `ageMs` ago (a resume): renewing at T1 as before, at once if
   * T1 passed while the domain was suspended.
   */
  resume(lease: DhcpLease, ageMs: number): void {
    if (!this.#bound) {
      this.udp.bindRaw(CLIENT_PORT, (payload) => this.input(payload));
      this.#bound = true;
    }
    this.#xid = Math.floor(this.random() * 0x100000000) >>> 0;
    this.#bind(lease, this.clock.now() - ageMs);
  }

  stop(): void {
    this.#retry.cancel();
    this.#leaseTimer.cancel();
    if (this.#bound) this.udp.unbind(CLIENT_PORT);
    this.#bound = false;
    this.state = 'idle';
  }

  #discover(): void {
    this.state = 'selecting';
    this.#offer = undefined;
    this.#xid = Math.floor(this.random() * 0x100000000) >>> 0;
    this.#tries = 0;
    this.#transmit();
  }

  /** Send the message of the current state, and retry with RFC 2131's backoff (4, 8, ... 64 s, ±1 s). */
  #transmit(): void {
    const s = this.state;
    if (s === 'selecting') this.#send(MSG_DISCOVER, IPV4_BROADCAST, 0, []);
    else if (s === 'requesting') {
      this.#send(MSG_REQUEST, IPV4_BROADCAST, 0, [[50, ipBytes(this.#offer!.address)], [54, ipBytes(this.#offer!.server)]]);
    } else if (s === 'renewing') this.#send(MSG_REQUEST, this.lease!.server, this.lease!.address, []);
    else if (s === 'rebinding') this.#send(MSG_REQUEST, IPV4_BROADCAST, this.lease!.address, []);
    else return;
    const base = Math.min(64, 4 << Math.min(this.#tries, 4));
    this.#tries++;
    if (s === 'requesting' && this.#tries > 4) {
      this.#retry.arm(1000, () => this.#discover());
      return;
    }
    this.#retry.arm((base - 1 + 2 * this.random()) * 1000, () => this.#transmit());
  }

  #send(type: number, dst: Ipv4, ciaddr: Ipv4, extra: [number, Uint8Array][]): void {
    const opts: [number, Uint8Array][] = [[53, Uint8Array.of(type)], [55, Uint8Array.of(1, 3, 6, 51, 54, 58, 59)],
      [57, Uint8Array.of(1500 >> 8, 1500 & 255)], ...extra];
    // Ask for broadcast replies without an address: we cannot receive unicast yet.
    const b = encodeDhcpMessage({ op: 1, xid: this.#xid, flags: ciaddr === 0 ? 0x8000 : 0, ciaddr, yiaddr: 0, siaddr: 0, chaddr: this.ip.eth.mac }, opts);
    this.udp.sendTo(CLIENT_PORT, dst, SERVER_PORT, b, ciaddr);
  }

  input(b: Uint8Array): void {
    const r = this.#parse(b);
    if (!r) {
      this.rejected++;
      return;
    }
    if (this.state === 'selecting' && r.type === MSG_OFFER) {
      const server = optIp(r.opts, 54);
      if (server === undefined || isUnusableUnicast(server)) return void this.rejected++;
      this.#offer = { address: r.yiaddr, server };
      this.state = 'requesting';
      this.#tries = 0;
      this.#transmit();
    } else if (this.state === 'requesting' || this.state === 'renewing' || this.state === 'rebinding') {
      if (r.type === MSG_NAK) {
        this.#lose();
        return;
      }
      if (r.type !== MSG_ACK) return void this.rejected++;
      const lease = this.#leaseFrom(r);
      if (!lease) return void this.rejected++;
      this.#bind(lease);
    } else this.rejected++;
  }

  #parse(b: Uint8Array): Reply | undefined {
    if (b.length < FIXED_LEN + 4 || b[0] !== 2 || b[1] !== 1 || b[2] !== 6) return undefined;
    if (readIpv4(b, 4) !== this.#xid || readIpv4(b, FIXED_LEN) !== COOKIE) return undefined;
    const mac = this.ip.eth.mac;
    for (let i = 0; i < 6; i++) if (b[28 + i] !== mac[i]) return undefined;
    const opts = parseDhcpOptions(b);
    if (!opts) return undefined;
    const t = opts.get(53);
    if (!t || t.length !== 1) return undefined;
    const yiaddr = readIpv4(b, 16);
    if (t[0] !== MSG_NAK && isUnusableUnicast(yiaddr)) return undefined;
    return { type: t[0]!, yiaddr, opts };
  }

  #leaseFrom(r: Reply): DhcpLease | undefined {
    const server = optIp(r.opts, 54) ?? this.lease?.server ?? this.#offer?.server;
    if (server === undefined) return undefined;
    let netmask = optIp(r.opts, 1) ?? prefixMask(24);
    const prefix = maskPrefix(netmask);
    if (prefix < 1 || prefix > 30) return undefined;
    netmask = prefixMask(prefix);
    // A gateway must be on our subnet and not the subnet's own address or broadcast.
    let gateway = optIp(r.opts, 3);
    if (gateway !== undefined && (((gateway ^ r.yiaddr) & netmask) !== 0 || gateway === r.yiaddr || isUnusableUnicast(gateway))) gateway = undefined;
    const dns: Ipv4[] = [];
    const d = r.opts.get(6);
    if (d) for (let i = 0; i + 4 <= d.length && dns.length < MAX_DNS; i += 4) {
      const a = readIpv4(d, i);
      if (!isUnusableUnicast(a)) dns.push(a);
    }
    const leaseS = clamp(optU32(r.opts, 51) ?? 3600, MIN_LEASE_S, MAX_LEASE_S);
    let t1S = optU32(r.opts, 58) ?? leaseS / 2;
    let t2S = optU32(r.opts, 59) ?? leaseS * 0.875;
    if (!(t1S > 0 && t1S < t2S && t2S < leaseS)) {
      t1S = leaseS / 2;
      t2S = leaseS * 0.875;
    }
    return { address: r.yiaddr, netmask, gateway, dns, server, leaseS, t1S, t2S };
  }

  /** Bound at `start` (clock ms): T1, T2 and the end follow from it. */
  #bind(lease: DhcpLease, start = this.clock.now()): void {
    this.lease = lease;
    this.#boundAt = start;
    this.state = 'bound';
    this.#retry.cancel();
    this.#leaseTimer.arm(start + lease.t1S * 1000 - this.clock.now(), () => {
      this.state = 'renewing';
      this.#tries = 0;
      this.#transmit();
      this.#leaseTimer.arm(start + lease.t2S * 1000 - this.clock.now(), () => {
        this.state = 'rebinding';
        this.#tries = 0;
        this.#transmit();
        this.#leaseTimer.arm(start + lease.leaseS * 1000 - this.clock.now(), () => this.#lose());
      });
    });
    this.onLease(lease);
  }

  #lose(): void {
    this.#leaseTimer.cancel();
    const had = this.lease !== undefined;
    this.lease = undefined;
    if (had) this.onLease(undefined);
    this.#retry.arm(1000, () => this.#discover());
    this.state = 'idle';
  }
}

/** The fixed fields of a DHCP message (RFC 2131 §2) that xenode's client and server set. */
export interface DhcpFields {
  readonly op: 1 | 2;
  readonly xid: number;
  readonly flags: number;
  readonly ciaddr: Ipv4;
  readonly yiaddr: Ipv4;
  readonly siaddr: Ipv4;
  readonly chaddr: Uint8Array;
}

/** A DHCP message over Ethernet: fixed part, magic cookie, options, end; padded to BOOTP's 300 bytes. */
export function encodeDhcpMessage(f: DhcpFields, opts: readonly [number, Uint8Array][]): Uint8Array {
  let len = FIXED_LEN + 4 + 1;
  for (const [, v] of opts) len += 2 + v.length;
  const b = new Uint8Array(Math.max(300, len));
  b[0] = f.op; b[1] = 1; b[2] = 6;
  writeIpv4(b, 4, f.xid);
  b[10] = f.flags >> 8; b[11] = f.flags & 255;
  writeIpv4(b, 12, f.ciaddr);
  writeIpv4(b, 16, f.yiaddr);
  writeIpv4(b, 20, f.siaddr);
  b.set(f.chaddr, 28);
  writeIpv4(b, FIXED_LEN, COOKIE);
  let o = FIXED_LEN + 4;
  for (const [k, v] of opts) {
    b[o] = k; b[o + 1] = v.length;
    b.set(v, o + 2);
    o += 2 + v.length;
  }
  b[o] = 255;
  return b;
}

/**
 * The options (RFC 2132) of a DHCP message after its fixed part and magic cookie, up to the end
 * option: the first of each code; undefined when one runs past the message. The server in dom0's
 * gateway reads requests with it too.
 */
export function parseDhcpOptions(b: Uint8Array): Map<number, Uint8Array> | undefined {
  const opts = new Map<number, Uint8Array>();
  for (let o = FIXED_LEN + 4; o < b.length;) {
    const k = b[o]!;
    if (k === 255) break;
    if (k === 0) { o++; continue; }
    if (o + 1 >= b.length) return undefined;
    const l = b[o + 1]!;
    if (o + 2 + l > b.length) return undefined;
    if (!opts.has(k)) opts.set(k, b.slice(o + 2, o + 2 + l));
    o += 2 + l;
  }
  return opts;
}

function ipBytes(a: Ipv4): Uint8Array {
  const b = new Uint8Array(4);
  writeIpv4(b, 0, a);
  return b;
}

function optIp(opts: Map<number, Uint8Array>, k: number): Ipv4 | undefined {
  const v = opts.get(k);
  return v && v.length >= 4 && v.length % 4 === 0 ? readIpv4(v, 0) : undefined;
}

function optU32(opts: Map<number, Uint8Array>, k: number): number | undefined {
  const v = opts.get(k);
  return v && v.length === 4 ? readIpv4(v, 0) : undefined;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
