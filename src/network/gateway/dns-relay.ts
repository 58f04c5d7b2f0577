// The gateway's DNS relay (slirp's 10.0.2.3): queries to port 53 of the relay's address go to
// the host's resolver (or the configured upstream) from one host UDP socket, each under a fresh
// message id, and answers come back to the guest that asked. DNS over TCP (RFC 7766: a guest
// retrying a truncated answer) is relayed as a byte stream: each guest connection to port 53
// gets its own host connection to the upstream, spliced to it. Bounded: queries in flight,
// their lifetime, the sizes of queries and answers, and TCP connections and their idle time.
import { createSocket, type Socket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import type { TcpipStack, TcpServer, TcpSocket } from '../../tcpip/index.js';
import { splice, type SpliceHolds } from './splice.js';

export const DNS_PORT = 53;
const MIN_MESSAGE = 12;
/** EDNS answers over UDP larger than this are not relayed. */
const MAX_MESSAGE = 4096;

export interface DnsUpstream {
  readonly address: string;
  readonly port: number;
}

export interface DnsRelayLimits {
  /** Queries waiting for an answer at once; more are dropped (the guest retries). */
  readonly maxPending: number;
  readonly timeoutMs: number;
  /** Guest TCP connections relayed at once; more are reset. */
  readonly maxTcp: number;
  /** A relayed TCP connection with nothing from the upstream this long is reset. */
  readonly tcpIdleMs: number;
}

export const DNS_RELAY_DEFAULTS: DnsRelayLimits = { maxPending: 256, timeoutMs: 5000, maxTcp: 64, tcpIdleMs: 30_000 };

interface Pending {
  readonly guest: number;
  readonly guestPort: number;
  readonly id: number;
  readonly timer: NodeJS.Timeout;
}

export interface DnsRelayCounters {
  queries: number;
  answers: number;
  dropped: number;
  /** TCP connections relayed, and refused for the bound or an upstream that did not answer. */
  tcpRelayed: number;
  tcpRefused: number;
}

export class DnsRelay {
  readonly counters: DnsRelayCounters = { queries: 0, answers: 0, dropped: 0, tcpRelayed: 0, tcpRefused: 0 };
  readonly #pending = new Map<number, Pending>();
  readonly #tcp = new Set<TcpSocket>();
  readonly #listener: TcpServer;
  #socket: Socket | undefined;
  #nextId: number;

  constructor(private readonly stack: TcpipStack, readonly upstream: DnsUpstream, private readonly holds: SpliceHolds,
    private readonly limits: DnsRelayLimits = DNS_RELAY_DEFAULTS) {
    this.#nextId = Math.floor(Math.random() * 0x10000);
    stack.udpLayer.bindRaw(DNS_PORT, (msg, src, srcPort) => this.#query(msg, src, srcPort));
    this.#listener = stack.tcp.listen(DNS_PORT, (s) => this.#relayTcp(s));
  }

  /** TCP connections being relayed. */
  get tcpConnections(): number {
    return this.#tcp.size;
  }

  /** One guest connection to port 53: spliced to a host connection to the upstream once that connects. */
  #relayTcp(guest: TcpSocket): void {
    if (this.#tcp.size >= this.limits.maxTcp) {
      this.counters.tcpRefused++;
      guest.reset();
      return;
    }
    this.#tcp.add(guest);
    guest.once('close', () => this.#tcp.delete(guest));
    guest.on('error', () => {});
    const host = connect({ host: this.upstream.address, port: this.upstream.port, allowHalfOpen: true, noDelay: true });
    host.setTimeout(this.limits.tcpIdleMs, () => host.destroy(new Error('the upstream went quiet')));
    const refused = () => {
      this.counters.tcpRefused++;
      guest.reset();
    };
    host.once('error', refused);
    host.once('connect', () => {
      host.off('error', refused);
      if (guest.destroyed) return void host.destroy();
      this.counters.tcpRelayed++;
      splice(host, guest, this.holds, () => {});
    });
  }

  get pending(): number {
    return this.#pending.size;
  }

  #sock(): Socket {
    if (this.#socket) return this.#socket;
    const s = createSocket({ type: isIPv6(this.upstream.address) ? 'udp6' : 'udp4' });
    s.on('message', (msg, rinfo) => {
      if (rinfo.port === this.upstream.port && rinfo.address === this.upstream.address) this.#answer(msg);
    });
    s.on('error', () => this.#closeSocket());
    s.unref();
    this.#socket = s;
    return s;
  }

  #closeSocket(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }

  #query(msg: Uint8Array, src: number, srcPort: number): void {
    // A query (QR clear) of sane size, from a unicast sender.
    if (msg.length < MIN_MESSAGE || msg.length > MAX_MESSAGE || (msg[2]! & 0x80) !== 0 || srcPort === 0) {
      this.counters.dropped++;
      return;
    }
    if (this.#pending.size >= this.limits.maxPending) {
      this.counters.dropped++;
      return;
    }
    let id = this.#nextId;
    for (let i = 0; this.#pending.has(id); i++) {
      if (i > 0x10000) return void this.counters.dropped++;
      id = (id + 1) & 0xffff;
    }
    this.#nextId = (id + 1) & 0xffff;
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      this.counters.dropped++;
    }, this.limits.timeoutMs).unref();
    this.#pending.set(id, { guest: src, guestPort: srcPort, id: (msg[0]! << 8) | msg[1]!, timer });
    const out = Buffer.from(msg);
    out[0] = id >> 8;
    out[1] = id & 255;
    this.counters.queries++;
    this.#sock().send(out, this.upstream.port, this.upstream.address);
  }

  #answer(msg: Buffer): void {
    if (msg.length < MIN_MESSAGE || msg.length > MAX_MESSAGE || (msg[2]! & 0x80) === 0) return;
    const id = (msg[0]! << 8) | msg[1]!;
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    const out = new Uint8Array(msg);
    out[0] = p.id >> 8;
    out[1] = p.id & 255;
    this.counters.answers++;
    this.stack.udpLayer.sendTo(DNS_PORT, p.guest, p.guestPort, out);
  }

  close(): void {
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    this.#closeSocket();
    this.stack.udpLayer.unbind(DNS_PORT);
    this.#listener.close();
    for (const s of this.#tcp) s.reset();
    this.#tcp.clear();
  }
}

