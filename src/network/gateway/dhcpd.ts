// The gateway's DHCP server (RFC 2131/2132) in slirp's shape: leases from the pool's first
// address up, one per client MAC, with the gateway as router and server identifier and the DNS
// relay as name server. Requests are checked (BOOTREQUEST over Ethernet, the magic cookie,
// bounded options); anything else is counted and ignored, so nonsense costs only its sender.
import { IPV4_BROADCAST, formatIpv4, formatMac, isUnusableUnicast, readIpv4, writeIpv4, type Ipv4 } from '../../tcpip/addr.js';
import { COOKIE, FIXED_LEN, encodeDhcpMessage, parseDhcpOptions } from '../../tcpip/dhcp.js';
import type { TcpipStack } from '../../tcpip/index.js';

export const DHCP_SERVER_PORT = 67;
const CLIENT_PORT = 68;
const DISCOVER = 1;
const OFFER = 2;
const REQUEST = 3;
const DECLINE = 4;
const ACK = 5;
const NAK = 6;
const RELEASE = 7;
const INFORM = 8;
const MAX_REQUEST = 1500;

export interface DhcpPool {
  readonly server: Ipv4;
  readonly netmask: Ipv4;
  readonly dns: Ipv4;
  /** The first address leased, and how many there are. */
  readonly first: Ipv4;
  readonly size: number;
  readonly leaseS: number;
}

export interface DhcpLeaseInfo {
  readonly mac: string;
  readonly address: string;
  /** When it runs out, in ms of the gateway's clock. */
  readonly expires: number;
}

interface Lease {
  address: Ipv4;
  expires: number;
}

export class DhcpServer {
  /** By client MAC (aa:bb:...): each client keeps its address while the gateway lives. */
  readonly #leases = new Map<string, Lease>();
  readonly #byAddress = new Map<Ipv4, string>();
  rejected = 0;

  /** `onAck`: a client was given (or confirmed) an address, at that MAC. */
  constructor(private readonly stack: TcpipStack, private readonly pool: DhcpPool, private readonly now: () => number,
    private readonly onAck: (address: Ipv4, mac: Uint8Array) => void = () => {}) {
    stack.udpLayer.bindRaw(DHCP_SERVER_PORT, (payload) => this.input(payload));
  }

  /** The address leased to `mac`, if any. */
  leaseFor(mac: string): Ipv4 | undefined {
    const l = this.#leases.get(mac.toLowerCase());
    return l && l.expires > this.now() ? l.address : undefined;
  }

  /** The MAC an address is leased (or offered) to, if any. */
  holder(address: Ipv4): string | undefined {
    return this.#byAddress.get(address);
  }

  leases(): DhcpLeaseInfo[] {
    return [...this.#leases].map(([mac, l]) => ({ mac, address: formatIpv4(l.address), expires: l.expires }));
  }

  input(b: Uint8Array): void {
    const m = parseRequest(b);
    if (!m) return void this.rejected++;
    const mac = formatMac(m.chaddr);
    const server = m.opts.get(54);
    // A client that chose another server's offer: forget ours.
    if (server && (server.length !== 4 || readIpv4(server, 0) !== this.pool.server)) {
      if (m.type === REQUEST && this.#leases.get(mac)?.expires === 0) this.#release(mac);
      return;
    }
    switch (m.type) {
      case DISCOVER: {
        const address = this.#allocate(mac);
        if (address !== undefined) this.#reply(m, OFFER, address);
        return;
      }
      case REQUEST: {
        const want = optIp(m.opts.get(50)) ?? (m.ciaddr || undefined);
        const l = this.#leases.get(mac);
        if (want !== undefined && l && l.address === want) {
          l.expires = this.now() + this.pool.leaseS * 1000;
          this.#reply(m, ACK, want);
          this.onAck(want, m.chaddr);
        } else if (want !== undefined && this.#inPool(want) && !this.#byAddress.has(want)) {
          this.#bind(mac, want);
          this.#reply(m, ACK, want);
          this.onAck(want, m.chaddr);
        } else this.#reply(m, NAK, 0);
        return;
      }
      case INFORM:
        if (m.ciaddr) this.#reply(m, ACK, 0);
        return;
      case RELEASE:
      case DECLINE:
        this.#release(mac);
        return;
      default:
        this.rejected++;
    }
  }

  #inPool(a: Ipv4): boolean {
    return a >= this.pool.first && a < this.pool.first + this.pool.size;
  }

  #allocate(mac: string): Ipv4 | undefined {
    const had = this.#leases.get(mac);
    if (had) return had.address;
    const now = this.now();
    let stale: string | undefined;
    for (let i = 0; i < this.pool.size; i++) {
      const a = this.pool.first + i;
      const owner = this.#byAddress.get(a);
      if (owner === undefined) return this.#bind(mac, a, 0);
      if (stale === undefined && this.#leases.get(owner)!.expires <= now) stale = owner;
    }
    if (stale === undefined) return undefined;
    const a = this.#leases.get(stale)!.address;
    this.#release(stale);
    return this.#bind(mac, a, 0);
  }

  /** An offered address is held (expires 0: not yet acknowledged) until the client asks for it. */
  #bind(mac: string, address: Ipv4, expires = this.now() + this.pool.leaseS * 1000): Ipv4 {
    this.#release(mac);
    this.#leases.set(mac, { address, expires });
    this.#byAddress.set(address, mac);
    return address;
  }

  #release(mac: string): void {
    const l = this.#leases.get(mac);
    if (!l) return;
    this.#leases.delete(mac);
    this.#byAddress.delete(l.address);
  }

  #reply(m: DhcpRequest, type: number, yiaddr: Ipv4): void {
    const p = this.pool;
    const ip = (a: Ipv4) => {
      const v = new Uint8Array(4);
      writeIpv4(v, 0, a);
      return v;
    };
    const u32 = (n: number) => ip(n >>> 0);
    const opts: [number, Uint8Array][] = [[53, Uint8Array.of(type)], [54, ip(p.server)]];
    if (type !== NAK) {
      opts.push([1, ip(p.netmask)], [3, ip(p.server)], [6, ip(p.dns)]);
      if (type !== ACK || yiaddr !== 0) opts.push([51, u32(p.leaseS)], [58, u32(p.leaseS / 2)], [59, u32((p.leaseS * 7) / 8)]);
    }
    const b = encodeDhcpMessage({
      op: 2, xid: m.xid, flags: m.flags, ciaddr: type === ACK && yiaddr === 0 ? m.ciaddr : 0, yiaddr, siaddr: p.server, chaddr: m.chaddr,
    }, opts);
    // A client with an address (renewing, INFORM) hears us at it; one without cannot yet.
    const dst = m.ciaddr !== 0 && type !== NAK && !isUnusableUnicast(m.ciaddr) ? m.ciaddr : IPV4_BROADCAST;
    this.stack.udpLayer.sendTo(DHCP_SERVER_PORT, dst, CLIENT_PORT, b);
  }
}

interface DhcpRequest {
  type: number;
  xid: number;
  flags: number;
  ciaddr: Ipv4;
  chaddr: Uint8Array;
  opts: Map<number, Uint8Array>;
}

/** A BOOTREQUEST from an Ethernet client with a DHCP message type, or undefined. */
export function parseRequest(b: Uint8Array): DhcpRequest | undefined {
  if (b.length < FIXED_LEN + 4 || b.length > MAX_REQUEST) return undefined;
  if (b[0] !== 1 || b[1] !== 1 || b[2] !== 6 || readIpv4(b, FIXED_LEN) !== COOKIE) return undefined;
  const chaddr = b.slice(28, 34);
  if ((chaddr[0]! & 1) === 1 || chaddr.every((x) => x === 0)) return undefined;
  const opts = parseDhcpOptions(b);
  if (!opts) return undefined;
  const t = opts.get(53);
  if (!t || t.length !== 1) return undefined;
  const ciaddr = readIpv4(b, 12);
  return { type: t[0]!, xid: readIpv4(b, 4), flags: (b[10]! << 8) | b[11]!, ciaddr: isUnusableUnicast(ciaddr) ? 0 : ciaddr, chaddr, opts };
}

function optIp(v: Uint8Array | undefined): Ipv4 | undefined {
  return v && v.length === 4 ? readIpv4(v, 0) : undefined;
}
