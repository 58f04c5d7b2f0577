// NAT of guest-initiated TCP, as gvisor-tap-vsock's forwarder does it: a guest's SYN is held
// while the gateway connects a host socket to the same address and port (or the address the
// NAT table maps it to); only when that succeeds does the SYN reach the persona's stack, which
// answers it, and the two connections are spliced. A refused, unreachable or slow host connect
// answers the guest with a RST. Bounded: flows, connects in flight, and how long a flow may take
// to become a spliced pair.
import { connect, type Socket } from 'node:net';
import type { NetFrameInfo } from '../../abi/netif.js';
import { parseIpv4, type Ipv4 } from '../../tcpip/addr.js';
import { fillL4Checksum } from '../../tcpip/checksum.js';
import type { TcpSocket } from '../../tcpip/index.js';
import type { Persona } from './persona.js';
import { splice, type SpliceHolds } from './splice.js';

const PROTO_TCP = 6;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

export interface TcpNatLimits {
  /** NAT'd connections at once (any state). */
  readonly maxFlows: number;
  /** Host connects in flight at once: a SYN flood waits on these, never on more sockets. */
  readonly maxConnecting: number;
  /** From the SYN to a spliced pair (the host connect and the guest's handshake). */
  readonly handshakeMs: number;
}

export const TCP_NAT_DEFAULTS: TcpNatLimits = { maxFlows: 4096, maxConnecting: 128, handshakeMs: 20_000 };

export interface TcpNatCounters {
  syns: number;
  connected: number;
  refused: number;
  dropped: number;
}

/** A guest's SYN as the gateway's demultiplexer found it. */
export interface Syn {
  readonly frame: Uint8Array;
  readonly info: NetFrameInfo;
  readonly src: Ipv4;
  readonly srcMac: Uint8Array;
  readonly dst: Ipv4;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
}

interface Flow {
  state: 'connecting' | 'admitted' | 'open';
  readonly persona: Persona;
  /** The host connection; once spliced, the socket splice() made of its handle. */
  host: Socket;
  readonly timer: NodeJS.Timeout;
}

export interface TcpNatHost {
  /** The persona for `dst`, made if need be; undefined when there may be no more. */
  persona(dst: Ipv4): Persona | undefined;
  /** A persona no flow uses any more. */
  idle(p: Persona): void;
  /** Where a connection to `dst` goes on the host. */
  hostAddress(dst: Ipv4): string;
  /** The gateway's count of what its splices hold. */
  readonly holds: SpliceHolds;
}

export class TcpNat {
  readonly counters: TcpNatCounters = { syns: 0, connected: 0, refused: 0, dropped: 0 };
  readonly #flows = new Map<string, Flow>();
  #connecting = 0;

  constructor(private readonly host: TcpNatHost, private readonly limits: TcpNatLimits = TCP_NAT_DEFAULTS) {}

  get flows(): number {
    return this.#flows.size;
  }

  get connecting(): number {
    return this.#connecting;
  }

  /** A SYN (without ACK) from a guest to `dst`; `admitted` false: the gateway's policy refuses it (a RST). */
  syn(s: Syn, admitted = true): void {
    this.counters.syns++;
    const key = `${s.src}:${s.srcPort}>${s.dst}:${s.dstPort}`;
    const had = this.#flows.get(key);
    if (had) {
      // A retransmitted SYN waits for the host connect; after that the stack judges it.
      if (had.state !== 'connecting') had.persona.feed(s.frame, s.info);
      return;
    }
    if (!admitted) {
      this.counters.refused++;
      const p = this.host.persona(s.dst);
      if (p) {
        p.learn(s.src, s.srcMac);
        rst(p, s);
        if (p.flows === 0) this.host.idle(p);
      }
      return;
    }
    if (this.#flows.size >= this.limits.maxFlows || this.#connecting >= this.limits.maxConnecting) {
      this.counters.dropped++;
      return;
    }
    const persona = this.host.persona(s.dst);
    if (!persona) {
      this.counters.dropped++;
      return;
    }
    persona.learn(s.src, s.srcMac);
    const held = s.frame.slice();
    const host = connect({ host: this.host.hostAddress(s.dst), port: s.dstPort, allowHalfOpen: true, noDelay: true });
    host.pause();
    const timer = setTimeout(() => fail(), this.limits.handshakeMs).unref();
    const flow: Flow = { state: 'connecting', persona, host, timer };
    this.#flows.set(key, flow);
    persona.flows++;
    this.#connecting++;
    const fail = () => {
      if (this.#flows.get(key) !== flow || flow.state === 'open') return;
      if (flow.state === 'connecting') {
        this.#connecting--;
        this.counters.refused++;
        rst(persona, s);
      }
      host.destroy();
      this.#remove(key, flow);
    };
    host.once('error', fail);
    host.once('connect', () => {
      if (this.#flows.get(key) !== flow) return;
      this.#connecting--;
      flow.state = 'admitted';
      persona.listen(s.dstPort);
      persona.feed(held, s.info);
    });
  }

  /** The persona's stack completed a handshake with a guest. */
  accepted(persona: Persona, sock: TcpSocket): void {
    const key = `${parseIpv4(sock.remoteAddress)}:${sock.remotePort}>${persona.address}:${sock.localPort}`;
    const flow = this.#flows.get(key);
    if (!flow || flow.state !== 'admitted' || flow.persona !== persona) {
      sock.reset();
      return;
    }
    flow.state = 'open';
    clearTimeout(flow.timer);
    this.counters.connected++;
    flow.host = splice(flow.host, sock, this.host.holds, () => this.#remove(key, flow));
  }

  #remove(key: string, flow: Flow): void {
    if (this.#flows.get(key) !== flow) return;
    clearTimeout(flow.timer);
    this.#flows.delete(key);
    if (--flow.persona.flows === 0) this.host.idle(flow.persona);
  }

  close(): void {
    for (const [key, f] of [...this.#flows]) {
      f.host.destroy();
      if (f.state === 'connecting') this.#connecting--;
      this.#remove(key, f);
    }
  }
}

/** Refuse the guest's SYN: RST|ACK acknowledging it (RFC 9293 §3.10.7.1), from the address it tried. */
function rst(p: Persona, s: Syn): void {
  const ip = p.stack.ip;
  const f = ip.alloc(20);
  const o = ip.l4Offset;
  f[o] = s.dstPort >> 8; f[o + 1] = s.dstPort;
  f[o + 2] = s.srcPort >> 8; f[o + 3] = s.srcPort;
  const ack = (s.seq + 1) >>> 0;
  f[o + 8] = ack >>> 24; f[o + 9] = ack >>> 16; f[o + 10] = ack >>> 8; f[o + 11] = ack;
  f[o + 12] = 5 << 4;
  f[o + 13] = TCP_RST | TCP_ACK;
  fillL4Checksum(f, o, 20, o + 16, p.address, s.src, PROTO_TCP, false);
  ip.output(f, s.src, PROTO_TCP, {}, p.address);
}
