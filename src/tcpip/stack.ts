// A TCP/IP stack over one Net device: the layers wired together, configured statically or by
// DHCP, with the guest-facing API (tcp.listen/connect, udp.bind, dns.resolve, icmp.ping).
import type { Net } from '../drivers/net/front/net.js';
import { formatIpv4, parseIpv4, type Ipv4 } from './addr.js';
import { Arp, type ArpOptions } from './arp.js';
import { realClock, type Clock } from './clock.js';
import { parseStaticConfig, type StaticConfig, type StaticConfigInput } from './config.js';
import { DhcpClient, type DhcpLease } from './dhcp.js';
import { DnsResolver } from './dns.js';
import { Timeout } from './errors.js';
import { Ethernet } from './ethernet.js';
import { Icmp } from './icmp.js';
import { Ipv4Layer } from './ipv4.js';
import type { ReassemblyOptions } from './reassembly.js';
import type { TcpConfig } from './tcp/settings.js';
import { Tcp, type ConnectOptions, type TcpServer } from './tcp/tcp.js';
import type { TcpSocket } from './tcp/socket.js';
import { Udp, type UdpPeer, type UdpSocket } from './udp.js';
import { checkStackSnapshot, type StackSnapshot } from './snapshot.js';

export interface StackOptions {
  clock?: Clock;
  /** Uniform in [0, 1); defaults to the Web Crypto generator. Tests pass a seeded one. */
  random?: () => number;
  /** 802.1Q tag for every frame (the vif sits on a trunk). */
  vlan?: number;
  tcp?: Partial<TcpConfig>;
  arp?: Partial<ArpOptions>;
  reassembly?: Partial<ReassemblyOptions>;
}

export interface AddressInfo {
  readonly address: string;
  readonly netmask: string;
  readonly gateway: string | undefined;
  readonly dns: readonly string[];
}

/**
 * Random words drawn 256 at a time, as Linux batches get_random_u32: a draw per call (an array
 * and getRandomValues' checks and fill each time) cost an opening connection more than its
 * ISN's hash.
 */
const randomWords = new Uint32Array(256);
let randomAt = randomWords.length;

function cryptoRandom(): number {
  if (randomAt === randomWords.length) {
    globalThis.crypto.getRandomValues(randomWords);
    randomAt = 0;
  }
  return randomWords[randomAt++]! / 0x100000000;
}

export class TcpipStack {
  readonly clock: Clock;
  readonly random: () => number;
  readonly eth: Ethernet;
  readonly arp: Arp;
  readonly ip: Ipv4Layer;
  readonly icmpLayer: Icmp;
  readonly udpLayer: Udp;
  readonly tcpLayer: Tcp;
  readonly resolver: DnsResolver;
  #dhcp: DhcpClient | undefined;
  #stopListening: () => void;
  /** A suspend took the state: frames that arrive now are dropped (their senders retransmit). */
  #frozen = false;

  readonly tcp = {
    listen: (port: number, onConn: (s: TcpSocket) => void, opts?: { backlog?: number }): TcpServer =>
      this.tcpLayer.listen(port, onConn, opts),
    connect: (addr: string, port: number, opts?: ConnectOptions): Promise<TcpSocket> => this.tcpLayer.connect(addr, port, opts),
    /** After a restore or migration: the connections no listen() took (see Tcp.restore); each is handed out once. */
    resumed: (): TcpSocket[] => this.tcpLayer.resumed(),
  };

  readonly udp = {
    bind: (port: number, handler: (msg: Uint8Array, from: UdpPeer) => void): UdpSocket => this.udpLayer.bind(port, handler),
  };

  readonly dns = {
    resolve: (name: string): Promise<string[]> => this.resolver.resolve(name),
  };

  readonly icmp = {
    ping: (addr: string, timeoutMs?: number): Promise<number> => this.icmpLayer.ping(parseIpv4(addr), timeoutMs),
  };

  constructor(readonly net: Net, opts: StackOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? cryptoRandom;
    this.eth = new Ethernet(net, opts.vlan);
    this.arp = new Arp(this.eth, this.clock, () => this.ip.config.address, opts.arp);
    this.ip = new Ipv4Layer(this.eth, this.arp, this.clock, opts.reassembly);
    this.icmpLayer = new Icmp(this.ip, this.clock);
    this.udpLayer = new Udp(this.ip, this.icmpLayer, this.random);
    this.tcpLayer = new Tcp(this.ip, this.icmpLayer, this.clock, this.random, opts.tcp);
    this.resolver = new DnsResolver(this.udpLayer, this.clock, this.random);
    this.#stopListening = net.listen((frame, info) => {
      if (!this.#frozen) this.eth.input(frame, info);
    });
  }

  get address(): AddressInfo | undefined {
    const c = this.ip.config;
    if (c.address === 0) return undefined;
    return {
      address: formatIpv4(c.address), netmask: formatIpv4(c.netmask),
      gateway: c.gateway === undefined ? undefined : formatIpv4(c.gateway),
      dns: this.resolver.servers.map(formatIpv4),
    };
  }

  /** Use a static address (xl's ip=); announces it with a gratuitous ARP. */
  configure(c: StaticConfigInput | StaticConfig): void {
    const s = typeof (c as StaticConfigInput).ip === 'string' ? parseStaticConfig(c as StaticConfigInput) : (c as StaticConfig);
    this.#setAddress(s.address, s.netmask, s.gateway, s.dns);
  }

  #setAddress(address: Ipv4, netmask: Ipv4, gateway: Ipv4 | undefined, dns: readonly Ipv4[]): void {
    const changed = address !== this.ip.config.address;
    if (changed && this.ip.config.address !== 0) this.tcpLayer.abortAll('the interface address changed');
    this.ip.config = { address, netmask, gateway };
    this.resolver.servers = [...dns];
    if (changed) {
      this.arp.flush();
      this.arp.announce();
    }
  }

  /** Gratuitous ARP on demand (after resume or migration). */
  announce(): void {
    this.arp.announce();
  }

  /** Configure by DHCP; resolves with the first lease, rejects with Timeout after `timeoutMs`. */
  dhcp(timeoutMs = 60_000): Promise<DhcpLease> {
    return new Promise((resolve, reject) => {
      let first = true;
      const timer = this.clock.setTimer(timeoutMs, () => {
        if (first) reject(new Timeout(`no DHCP lease in ${timeoutMs} ms`));
      });
      this.#dhcpClient((lease) => {
        if (first) {
          first = false;
          timer.cancel();
          resolve(lease);
        }
      }).start();
    });
  }

  #dhcpClient(onFirst?: (lease: DhcpLease) => void): DhcpClient {
    this.#dhcp?.stop();
    this.#dhcp = new DhcpClient(this.udpLayer, this.ip, this.clock, this.random, (lease) => {
      if (lease) this.#setAddress(lease.address, lease.netmask, lease.gateway, lease.dns);
      else this.#setAddress(0, 0, undefined, []);
      if (lease) onFirst?.(lease);
    });
    return this.#dhcp;
  }

  // ---- Suspend and resume ----

  /**
   * Stop taking frames and return the state (a suspend): nothing that arrives afterwards is
   * acknowledged, so what the snapshot holds is all the peers count as delivered. thaw() takes
   * frames again (the domain resumed in place).
   */
  freeze(): StackSnapshot {
    this.#frozen = true;
    const c = this.ip.config;
    return {
      address: c.address, netmask: c.netmask, gateway: c.gateway, dns: [...this.resolver.servers], arp: this.arp.snapshot(),
      lease: this.#dhcp?.lease ? { lease: this.#dhcp.lease, ageMs: this.#dhcp.leaseAgeMs! } : undefined,
      tcp: this.tcpLayer.snapshot(),
    };
  }

  thaw(): void {
    this.#frozen = false;
  }

  /**
   * Carry on from a snapshot in a fresh stack: the same address (the lease renewing at its T1 as
   * before), ARP cache, listening ports and connections, then a gratuitous ARP so that the switch
   * and the peers learn where the address is now. A snapshot read back from outside is checked
   * first (EINVAL, and nothing changed, when it is malformed).
   */
  restore(state: unknown): void {
    const s = checkStackSnapshot(state);
    if (s.lease) this.#dhcpClient().resume(s.lease.lease, s.lease.ageMs);
    else this.#setAddress(s.address, s.netmask, s.gateway, s.dns);
    this.resolver.servers = [...s.dns];
    this.arp.restore(s.arp);
    this.tcpLayer.restore(s.tcp);
  }

  /** Stop: reset every connection and stop listening to the device. */
  stop(): void {
    this.#dhcp?.stop();
    this.tcpLayer.stop('the stack stopped');
    this.arp.flush();
    this.ip.reassembly.clear();
    this.#stopListening();
  }
}

/** Build a stack on `net` (configure it with configure() or dhcp()). */
export function createStack(net: Net, opts?: StackOptions): TcpipStack {
  return new TcpipStack(net, opts);
}

export type { TcpSocket, TcpServer, UdpSocket, UdpPeer, DhcpLease };
