// dom0's gateway on a bridge, QEMU user networking's shape (slirp, gvisor-tap-vsock): a port on
// the bridge's untagged segment that is the subnet's router at .2 (ARP, ICMP echo, DHCP server),
// its DNS relay at .3, the NAT for guest-initiated TCP and UDP to host sockets, and the far end
// of host port forwards. Everything speaks through src/tcpip stacks ("personas") that share the
// port and its MAC; this module reads just enough of each frame to hand it to the right one.
//
// The subnet is a /24 (10.0.2.0/24 by default): gateway .2, DNS .3, DHCP leases from .15.
// The gateway's own address is the host's loopback for NAT (slirp's convention): a guest that
// connects to 10.0.2.2:PORT reaches 127.0.0.1:PORT on the host, except the host's own control
// ports (DENIED_HOST_PORTS, XenAPI's among them); `restrict` (QEMU's restrict=on) forbids NAT
// and the DNS relay altogether. Each address of the subnet belongs to one MAC: its DHCP lease's,
// a vif's ip= (bind()), or else the first that used it; frames and
// ARP that claim another MAC's address are dropped, so a guest cannot take over another's
// forwarded connections by claiming its address (docs/SECURITY.md).
import { getServers } from 'node:dns';
import { networkInterfaces } from 'node:os';
import type { NetFrameInfo } from '../../abi/netif.js';
import { IPV4_BROADCAST, formatIpv4, formatMac, parseIpv4, prefixMask, readIpv4, type Ipv4 } from '../../tcpip/addr.js';
import { pseudoHeaderSum, verify } from '../../tcpip/checksum.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, parseEthernet } from '../../tcpip/ethernet.js';
import type { Clock } from '../../tcpip/index.js';
import { XenError } from '../../errors.js';
import type { Switch } from '../switch.js';
import { DHCP_SERVER_PORT, DhcpServer } from './dhcpd.js';
import { DNS_PORT, DNS_RELAY_DEFAULTS, DnsRelay, type DnsRelayLimits, type DnsUpstream } from './dns-relay.js';
import { FORWARD_DEFAULTS, hostForward, TcpForward, type ForwardHold, type ForwardLimits, type HostForward } from './forward.js';
import type { ForwardSpec } from './forwardspec.js';
import { TCP_NAT_DEFAULTS, TcpNat, type TcpNatLimits } from './nat-tcp.js';
import { UDP_NAT_DEFAULTS, UdpNat, type UdpNatLimits } from './nat-udp.js';
import { Persona, unrefClock } from './persona.js';
import { GatewayPort } from './port.js';
import { SpliceHolds } from './splice.js';

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const TCP_SYN = 0x02;
const TCP_SYN_ACK_RST_FIN = 0x17;

/** slirp's subnet and its gateway's MAC (52:55 then the address). */
export const GATEWAY_DEFAULT_SUBNET = '10.0.2.0/24';
const DEFAULT_MAC = '52:55:0a:00:02:02';
const GATEWAY_HOST = 2;
const DNS_HOST = 3;
const FIRST_LEASE = 15;
const LEASES = 240;

export interface GatewayLimits {
  /** Outside addresses with live NAT flows at once (each is a small stack). */
  readonly maxPersonas: number;
  /** How long an outside address's stack outlives its last flow (its TIME-WAITs). */
  readonly personaIdleMs: number;
  readonly tcp: TcpNatLimits;
  readonly udp: UdpNatLimits;
  readonly dns: DnsRelayLimits;
  readonly forward: ForwardLimits;
}

export const GATEWAY_LIMITS: GatewayLimits = {
  maxPersonas: 256, personaIdleMs: 60_000, tcp: TCP_NAT_DEFAULTS, udp: UDP_NAT_DEFAULTS, dns: DNS_RELAY_DEFAULTS, forward: FORWARD_DEFAULTS,
};

/**
 * Host ports no guest reaches through the NAT when the destination is the host itself (its
 * loopback or one of its addresses): XenAPI's HTTPS port, and VXLAN's (a guest must not inject
 * frames into linked bridges). The host adds the ports it really listens on (denyHostPort).
 */
export const DENIED_HOST_PORTS: { readonly tcp: readonly number[]; readonly udp: readonly number[] } = { tcp: [8443], udp: [4789] };

/** How long an address claimed by use (not leased, not bound) stays its MAC's after its last frame. */
const CLAIM_IDLE_MS = 10 * 60_000;
/** Addresses claimed by use at most (the subnet has 256). */
const MAX_CLAIMS = 256;

export interface GatewayCounters {
  /** Frames whose source address, or ARP whose sender address, belongs to another MAC. */
  dropSpoof: number;
  /** Guest-initiated NAT refused: restrict, or a denied host port. */
  denied: number;
}

/** A bridge's gateway (`xenode network-gateway`). */
export interface GatewayInfo {
  readonly bridge: string;
  readonly address: string;
  readonly dns: string;
  readonly restrict: boolean;
  /** Host ports no guest reaches through the NAT (docs/SECURITY.md). */
  readonly deniedHostPorts: { readonly tcp: readonly number[]; readonly udp: readonly number[] };
  readonly leases: number;
  /** Frames dropped for claiming another MAC's address; NAT flows refused by policy. */
  readonly dropSpoof: number;
  readonly denied: number;
  /** Bytes its splices hold for host sockets now, and the most one connection held (splice.ts). */
  readonly spliceHeld: number;
  readonly spliceHeldPeak: number;
  /** Bytes held connections of its summoning forwards have been read ahead of their splice, now (splice.ts). */
  readonly readAheadHeld: number;
}

export interface GatewayOptions {
  /** A.B.C.0/24; 10.0.2.0/24 unless given. */
  readonly subnet?: string;
  readonly mac?: string;
  readonly mtu?: number;
  /** Where the DNS relay sends queries; the host's first resolver unless given. */
  readonly dnsUpstream?: DnsUpstream;
  /**
   * Addresses guests connect to → where that is on the host, as gvisor-tap-vsock's NAT table;
   * the gateway's own address maps to 127.0.0.1 unless given. Others go to themselves.
   */
  readonly nat?: Readonly<Record<string, string>>;
  readonly leaseSeconds?: number;
  readonly limits?: Partial<GatewayLimits>;
  readonly clock?: Clock;
  /** QEMU's restrict=on: no guest-initiated NAT and no DNS relay (host forwards still work). */
  readonly restrict?: boolean;
  /** Host ports refused to guests on top of DENIED_HOST_PORTS. */
  readonly deny?: { readonly tcp?: readonly number[]; readonly udp?: readonly number[] };
}

export class Gateway {
  readonly port: GatewayPort;
  readonly address: Ipv4;
  readonly dnsAddress: Ipv4;
  readonly limits: GatewayLimits;
  readonly main: Persona;
  readonly dnsPersona: Persona;
  readonly dhcp: DhcpServer;
  readonly dns: DnsRelay;
  readonly tcpNat: TcpNat;
  readonly udpNat: UdpNat;
  readonly #network: Ipv4;
  readonly #netmask: Ipv4;
  readonly #clock: Clock;
  readonly #nat = new Map<Ipv4, string>();
  readonly #personas = new Map<Ipv4, Persona>();
  readonly #forwards = new Set<HostForward>();
  /** UDP ports of the gateway's address its own services use (DHCP, forwards' flows): never NAT'd. */
  readonly #localUdp = new Set<number>([DHCP_SERVER_PORT]);
  /** Address → MAC (aa:bb:..) for the vifs' ip= (bind()). */
  readonly #bound = new Map<Ipv4, string>();
  /** Address → MAC for addresses claimed by use (neither bound nor leased). */
  readonly #claims = new Map<Ipv4, { mac: string; seen: number }>();
  readonly #deny: { readonly tcp: Set<number>; readonly udp: Set<number> };
  #closed = false;
  /** QEMU's restrict=on (see GatewayOptions). */
  restrict: boolean;
  /** Frames the demultiplexer dropped (not for the gateway, malformed, bad checksum, spoofed, denied). */
  dropped = 0;
  readonly counters: GatewayCounters = { dropSpoof: 0, denied: 0 };
  /** What the splices of its NAT, forwards and DNS relay hold for their host sockets. */
  readonly holds = new SpliceHolds();

  private constructor(readonly bridge: string, opts: GatewayOptions) {
    const [net, len] = (opts.subnet ?? GATEWAY_DEFAULT_SUBNET).split('/');
    this.#network = parseIpv4(net ?? '');
    if (len !== '24' || (this.#network & 0xff) !== 0) throw new XenError('EINVAL', `a gateway's subnet is a /24 such as ${GATEWAY_DEFAULT_SUBNET}, not '${opts.subnet}'`);
    this.#netmask = prefixMask(24);
    this.address = this.#network + GATEWAY_HOST;
    this.dnsAddress = this.#network + DNS_HOST;
    this.limits = { ...GATEWAY_LIMITS, ...opts.limits };
    this.#clock = opts.clock ?? unrefClock;
    this.restrict = opts.restrict ?? false;
    this.#deny = {
      tcp: new Set([...DENIED_HOST_PORTS.tcp, ...(opts.deny?.tcp ?? [])]),
      udp: new Set([...DENIED_HOST_PORTS.udp, ...(opts.deny?.udp ?? [])]),
    };
    this.#nat.set(this.address, '127.0.0.1');
    for (const [from, to] of Object.entries(opts.nat ?? {})) this.#nat.set(parseIpv4(from), to);
    this.port = new GatewayPort(`gw.${bridge}`, opts.mac ?? DEFAULT_MAC, opts.mtu ?? 1500, (f, i) => this.#input(f, i));
    const onConn = (p: Persona, s: Parameters<TcpNat['accepted']>[1]) => this.tcpNat.accepted(p, s);
    this.main = new Persona(this.port, this.address, this.#netmask, this.#clock, onConn);
    this.dnsPersona = new Persona(this.port, this.dnsAddress, this.#netmask, this.#clock, onConn);
    this.dhcp = new DhcpServer(this.main.stack, {
      server: this.address, netmask: this.#netmask, dns: this.dnsAddress, first: this.#network + FIRST_LEASE, size: LEASES,
      leaseS: opts.leaseSeconds ?? 3600,
    }, () => this.#clock.now(), (ip, mac) => this.main.learn(ip, mac));
    this.dns = new DnsRelay(this.dnsPersona.stack, opts.dnsUpstream ?? hostResolver(), this.holds, this.limits.dns);
    const hostAddress = (dst: Ipv4) => this.#nat.get(dst) ?? formatIpv4(dst);
    this.tcpNat = new TcpNat({
      persona: (dst) => this.#persona(dst),
      idle: (p) => this.#idle(p),
      hostAddress,
      holds: this.holds,
    }, this.limits.tcp);
    this.udpNat = new UdpNat(this.main.stack, hostAddress, this.limits.udp);
  }

  /** Plug a gateway into `bridge` of `sw` (its untagged segment). */
  static attach(sw: Switch, bridge: string, opts: GatewayOptions = {}): Gateway {
    const gw = new Gateway(bridge, opts);
    gw.port.switchPort = sw.plugInternal(bridge, gw.port, {}, () => gw.close());
    return gw;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The address leased to the client with this MAC. */
  leaseFor(mac: string): Ipv4 | undefined {
    return this.dhcp.leaseFor(mac);
  }

  /** `ip` is the vif with `mac`'s (its ip=): frames from any other MAC claiming it are dropped. */
  bind(ip: Ipv4, mac: string): void {
    this.#bound.set(ip, mac.toLowerCase());
    this.#claims.delete(ip);
  }

  unbind(ip: Ipv4, mac: string): void {
    if (this.#bound.get(ip) === mac.toLowerCase()) this.#bound.delete(ip);
  }

  /** Refuse guests' NAT to this host port from now on (one the host listens on). */
  denyHostPort(proto: 'tcp' | 'udp', port: number): void {
    this.#deny[proto].add(port);
  }

  /** As `xenode network-gateway` shows it. */
  info(): GatewayInfo {
    return {
      bridge: this.bridge, address: formatIpv4(this.address), dns: formatIpv4(this.dnsAddress), restrict: this.restrict,
      deniedHostPorts: this.deniedHostPorts, leases: this.dhcp.leases().length, ...this.counters,
      spliceHeld: this.holds.held, spliceHeldPeak: this.holds.peak, readAheadHeld: this.holds.readAhead,
    };
  }

  /** The host ports refused to guests. */
  get deniedHostPorts(): { tcp: number[]; udp: number[] } {
    const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
    return { tcp: sorted(this.#deny.tcp), udp: sorted(this.#deny.udp) };
  }

  /** May a guest's NAT flow to `dst`:`port` go to the host? */
  #admits(proto: 'tcp' | 'udp', dst: Ipv4, port: number): boolean {
    const ok = !this.restrict && !(this.#deny[proto].has(port) && isHostAddress(this.#nat.get(dst) ?? formatIpv4(dst)));
    if (!ok) this.counters.denied++;
    return ok;
  }

  /**
   * Whether `mac` (6 bytes) may send from `ip`: the MAC the address is bound or leased to, else
   * the first MAC that used it (a lease given later overrides such a claim).
   */
  #owns(ip: Ipv4, macBytes: Uint8Array): boolean {
    if (ip === 0) return true; // DHCP's unconfigured client
    const mac = formatMac(macBytes);
    const owner = this.#bound.get(ip) ?? this.dhcp.holder(ip);
    if (owner !== undefined) return owner === mac;
    const now = this.#clock.now();
    const c = this.#claims.get(ip);
    if (c && c.mac !== mac && now - c.seen < CLAIM_IDLE_MS) return false;
    if (c) {
      c.mac = mac;
      c.seen = now;
    } else {
      if (this.#claims.size >= MAX_CLAIMS) {
        for (const [a, x] of this.#claims) if (now - x.seen >= CLAIM_IDLE_MS) this.#claims.delete(a);
        if (this.#claims.size >= MAX_CLAIMS) return false;
      }
      this.#claims.set(ip, { mac, seen: now });
    }
    return true;
  }

  #spoofed(): void {
    this.dropped++;
    this.counters.dropSpoof++;
  }

  /**
   * Open a host port forward to whatever address `target` names when a connection comes; with
   * `hold` (TCP only), each connection waits for the guest to come up and answer (forward.ts).
   */
  async forward(spec: ForwardSpec, target: () => Ipv4 | undefined, hold?: ForwardHold): Promise<HostForward> {
    if (this.#closed) throw new XenError('ENODEV', `the gateway of ${this.bridge} is closed`);
    const f = hostForward(spec, this.main.stack, target, this.limits.forward, this.#localUdp, this.holds);
    if (hold) {
      if (!(f instanceof TcpForward)) throw new XenError('EINVAL', `only a TCP forward can hold connections, not ${spec.proto}`);
      f.hold = hold;
    }
    await f.open();
    this.#forwards.add(f);
    return f;
  }

  unforward(f: HostForward): void {
    if (this.#forwards.delete(f)) f.close();
  }

  #inSubnet(a: Ipv4): boolean {
    return ((a ^ this.#network) & this.#netmask) === 0;
  }

  #local(a: Ipv4): Persona | undefined {
    return a === this.address ? this.main : a === this.dnsAddress ? this.dnsPersona : undefined;
  }

  #persona(dst: Ipv4): Persona | undefined {
    if (dst === this.address) return this.main;
    let p = this.#personas.get(dst);
    if (p) return p;
    if (this.#personas.size >= this.limits.maxPersonas) {
      const idle = [...this.#personas.values()].find((x) => x.flows === 0);
      if (!idle) return undefined;
      this.#drop(idle);
    }
    p = new Persona(this.port, dst, 0, this.#clock, (q, s) => this.tcpNat.accepted(q, s));
    this.#personas.set(dst, p);
    return p;
  }

  #idle(p: Persona): void {
    if (p === this.main) return;
    this.#clock.setTimer(this.limits.personaIdleMs, () => {
      if (p.flows === 0 && this.#personas.get(p.address) === p) this.#drop(p);
    });
  }

  #drop(p: Persona): void {
    this.#personas.delete(p.address);
    p.stop();
  }

  #input(frame: Uint8Array, info: NetFrameInfo): void {
    const h = parseEthernet(frame);
    if (!h || h.vlan !== undefined) return void this.dropped++;
    const o = h.payloadOffset;
    if (h.ethertype === ETHERTYPE_ARP) {
      if (frame.length < o + 28) return void this.dropped++;
      const target = readIpv4(frame, o + 24);
      // A guest's announcement (sender and target its own address) goes to the router, whose
      // ARP may be waiting for it (a summoned guest coming up, forward.ts).
      const p = this.#local(target) ?? (readIpv4(frame, o + 14) === target ? this.main : undefined);
      if (!p) return void this.dropped++;
      // The sender's hardware address must be the frame's, and its address that MAC's.
      if (!sameBytes(frame, o + 8, h.src) || !this.#owns(readIpv4(frame, o + 14), h.src)) return this.#spoofed();
      return p.feed(frame, info);
    }
    if (h.ethertype !== ETHERTYPE_IPV4 || frame.length < o + 20 || frame[o]! >> 4 !== 4) return void this.dropped++;
    const ihl = (frame[o]! & 15) * 4;
    const total = (frame[o + 2]! << 8) | frame[o + 3]!;
    if (ihl < 20 || total < ihl || o + total > frame.length) return void this.dropped++;
    const src = readIpv4(frame, o + 12);
    const dst = readIpv4(frame, o + 16);
    const proto = frame[o + 9]!;
    const l4 = o + ihl;
    const l4len = total - ihl;
    // Broadcasts (DHCP) are the router's; everything else must come from the subnet.
    if (dst === IPV4_BROADCAST || dst === ((this.#network | 0xff) >>> 0)) {
      if (!this.#owns(src, h.src)) return this.#spoofed();
      // A DHCP client speaks for its own MAC only: chaddr is the frame's source.
      if (proto === PROTO_UDP && l4len >= 8 + 34 && ((frame[l4 + 2]! << 8) | frame[l4 + 3]!) === DHCP_SERVER_PORT &&
          !sameBytes(frame, l4 + 8 + 28, h.src)) {
        this.dhcp.rejected++;
        return this.#spoofed();
      }
      return this.main.feed(frame, info);
    }
    if (!this.#inSubnet(src) || src === this.address || src === this.dnsAddress) return void this.dropped++;
    if (!this.#owns(src, h.src)) return this.#spoofed();
    const local = this.#local(dst);
    if (!local && this.#inSubnet(dst)) return void this.dropped++; // another host of the segment
    if (local === this.dnsPersona) {
      // restrict: the relay asks the host's resolver, so it is off too (as slirp's).
      if (this.restrict && proto !== PROTO_ICMP) return void this.dropped++;
      return local.feed(frame, info);
    }
    const whole = (((frame[o + 6]! << 8) | frame[o + 7]!) & 0x3fff) === 0;
    const checked = info.csumBlank || info.dataValidated;
    if (whole && proto === PROTO_TCP && l4len >= 20 && (frame[l4 + 13]! & TCP_SYN_ACK_RST_FIN) === TCP_SYN) {
      if (!checked && !verify(frame, l4, l4len, pseudoHeaderSum(src, dst, PROTO_TCP, l4len))) return void this.dropped++;
      const seq = ((frame[l4 + 4]! << 24) | (frame[l4 + 5]! << 16) | (frame[l4 + 6]! << 8) | frame[l4 + 7]!) >>> 0;
      const dstPort = (frame[l4 + 2]! << 8) | frame[l4 + 3]!;
      return this.tcpNat.syn({ frame, info, src, srcMac: h.src, dst, srcPort: (frame[l4]! << 8) | frame[l4 + 1]!, dstPort, seq },
        this.#admits('tcp', dst, dstPort));
    }
    if (whole && proto === PROTO_UDP && l4len >= 8) {
      const dstPort = (frame[l4 + 2]! << 8) | frame[l4 + 3]!;
      if (!(local === this.main && this.#localUdp.has(dstPort))) {
        const len = (frame[l4 + 4]! << 8) | frame[l4 + 5]!;
        const hasSum = frame[l4 + 6] !== 0 || frame[l4 + 7] !== 0;
        if (len < 8 || len > l4len || (hasSum && !checked && !verify(frame, l4, len, pseudoHeaderSum(src, dst, PROTO_UDP, len)))) return void this.dropped++;
        const srcPort = (frame[l4]! << 8) | frame[l4 + 1]!;
        if (srcPort === 0 || dstPort === 0 || !this.#admits('udp', dst, dstPort)) return void this.dropped++;
        this.main.learn(src, h.src);
        return this.udpNat.input(src, srcPort, dst, dstPort, frame.subarray(l4 + 8, l4 + len));
      }
    }
    if (local) return local.feed(frame, info);
    const p = proto === PROTO_TCP ? this.#personas.get(dst) : undefined;
    if (p) p.feed(frame, info);
    else this.dropped++;
  }

  /** Close forwards and flows, stop the stacks; the port comes out of its bridge. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const f of this.#forwards) f.close();
    this.#forwards.clear();
    this.tcpNat.close();
    this.udpNat.close();
    this.dns.close();
    for (const p of [...this.#personas.values()]) this.#drop(p);
    this.main.stop();
    this.dnsPersona.stop();
    this.port.switchPort?.unplug();
    this.port.switchPort = undefined;
  }
}

function sameBytes(frame: Uint8Array, at: number, mac: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (frame[at + i] !== mac[i]) return false;
  return true;
}

/** Whether a NAT destination (as the host sees it) is this host: loopback, any, or an address of one of its interfaces. */
function isHostAddress(a: string): boolean {
  if (a.startsWith('127.') || a === '0.0.0.0' || a === '::1' || a === '::' || a === 'localhost') return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === a));
}

/** The host's first resolver (from /etc/resolv.conf, as Node reads it). */
export function hostResolver(): DnsUpstream {
  const first = getServers()[0] ?? '127.0.0.1';
  const m = /^\[(.+)\]:(\d+)$/.exec(first) ?? /^([0-9.]+):(\d+)$/.exec(first);
  return m ? { address: m[1]!, port: Number(m[2]) } : { address: first, port: DNS_PORT };
}
