// NAT of guest-initiated UDP: a flow table keyed by the guest's address and port and the
// destination's, each flow a host UDP socket that hears only from that destination (endpoint-
// dependent filtering, as slirp and gvisor-tap-vsock do it). Flows end after an idle time; the
// table is bounded, the least recently used flow going first when it is full.
import { createSocket, type Socket } from 'node:dgram';
import type { Ipv4 } from '../../tcpip/addr.js';
import type { TcpipStack } from '../../tcpip/index.js';

export interface UdpNatLimits {
  readonly maxFlows: number;
  readonly idleMs: number;
}

export const UDP_NAT_DEFAULTS: UdpNatLimits = { maxFlows: 1024, idleMs: 60_000 };

export interface UdpNatCounters {
  flows: number;
  evicted: number;
  toHost: number;
  toGuest: number;
}

interface Flow {
  readonly socket: Socket;
  readonly timer: NodeJS.Timeout;
}

export class UdpNat {
  readonly counters: UdpNatCounters = { flows: 0, evicted: 0, toHost: 0, toGuest: 0 };
  /** In least-recently-used order. */
  readonly #flows = new Map<string, Flow>();

  /**
   * `reply` is the stack that sends answers to guests (from the destination's address);
   * `hostAddress` maps a destination to where it is on the host.
   */
  constructor(private readonly reply: TcpipStack, private readonly hostAddress: (dst: Ipv4) => string,
    private readonly limits: UdpNatLimits = UDP_NAT_DEFAULTS) {}

  get size(): number {
    return this.#flows.size;
  }

  /** A datagram from a guest (its payload valid during the call). */
  input(src: Ipv4, srcPort: number, dst: Ipv4, dstPort: number, payload: Uint8Array): void {
    const key = `${src}:${srcPort}>${dst}:${dstPort}`;
    let flow = this.#flows.get(key);
    if (flow) {
      this.#flows.delete(key);
      this.#flows.set(key, flow);
      flow.timer.refresh();
    } else {
      if (this.#flows.size >= this.limits.maxFlows) {
        const [oldKey, old] = this.#flows.entries().next().value as [string, Flow];
        this.counters.evicted++;
        this.#end(oldKey, old);
      }
      flow = this.#open(key, src, srcPort, dst, dstPort);
    }
    this.counters.toHost++;
    flow.socket.send(payload, dstPort, this.hostAddress(dst));
  }

  #open(key: string, src: Ipv4, srcPort: number, dst: Ipv4, dstPort: number): Flow {
    const socket = createSocket('udp4');
    const host = this.hostAddress(dst);
    const timer = setTimeout(() => this.#end(key, flow), this.limits.idleMs).unref();
    const flow: Flow = { socket, timer };
    socket.on('message', (msg, rinfo) => {
      if (rinfo.address !== host || rinfo.port !== dstPort || this.#flows.get(key) !== flow) return;
      timer.refresh();
      this.counters.toGuest++;
      try {
        this.reply.udpLayer.sendTo(dstPort, src, srcPort, msg, dst);
      } catch {
        // Too large for one datagram: the host's answer costs only itself.
      }
    });
    socket.on('error', () => this.#end(key, flow));
    socket.unref();
    this.#flows.set(key, flow);
    this.counters.flows++;
    return flow;
  }

  #end(key: string, flow: Flow): void {
    if (this.#flows.get(key) !== flow) return;
    this.#flows.delete(key);
    clearTimeout(flow.timer);
    flow.socket.close();
  }

  close(): void {
    for (const [k, f] of [...this.#flows]) this.#end(k, f);
  }
}
