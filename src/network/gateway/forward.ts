// Host port forwards (QEMU's hostfwd): a host socket on ADDRESS:PORT (127.0.0.1 unless told
// otherwise) whose connections (TCP) or datagrams (UDP, one flow per host peer) the gateway
// carries to a guest's port through its own stack, from the gateway's address. The guest's
// address is looked up when a connection arrives (its DHCP lease may come later than the
// forward). Bounded: connections per forward, UDP flows per forward with idle timeouts.
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { XenError } from '../../errors.js';
import { formatIpv4, type Ipv4 } from '../../tcpip/addr.js';
import type { TcpipStack } from '../../tcpip/index.js';
import type { ForwardSpec } from './forwardspec.js';
import { FlowTable } from './flowtable.js';
import { splice } from './splice.js';

export interface ForwardLimits {
  readonly maxConnections: number;
  readonly maxUdpFlows: number;
  readonly udpIdleMs: number;
}

export const FORWARD_DEFAULTS: ForwardLimits = { maxConnections: 1024, maxUdpFlows: 256, udpIdleMs: 60_000 };

export interface ForwardCounters {
  accepted: number;
  refused: number;
  datagrams: number;
}

/** A forward, listening once open() resolves. */
export abstract class HostForward {
  readonly counters: ForwardCounters = { accepted: 0, refused: 0, datagrams: 0 };

  /** `localUdp`: the UDP ports of the gateway's own address in use by the gateway (not NAT'd). */
  constructor(readonly spec: ForwardSpec, protected readonly stack: TcpipStack, protected readonly target: () => Ipv4 | undefined,
    protected readonly limits: ForwardLimits, protected readonly localUdp: Set<number>) {}

  abstract open(): Promise<void>;
  abstract close(): void;
  /** The host port it listens on (the spec's, or the one the host chose for port 0). */
  abstract get boundPort(): number;
}

/** Bind errors as the user should see them. */
function bindError(spec: ForwardSpec, e: NodeJS.ErrnoException): XenError {
  const where = `${spec.hostAddress}:${spec.hostPort}`;
  if (e.code === 'EADDRINUSE') return new XenError('EADDRINUSE', `host port ${where} (${spec.proto}) is in use`);
  if (e.code === 'EACCES') return new XenError('EACCES', `no permission to listen on ${where} (ports below 1024 need root)`);
  if (e.code === 'EADDRNOTAVAIL') return new XenError('EADDRNOTAVAIL', `${spec.hostAddress} is not an address of this host`);
  return new XenError('EIO', `listening on ${where}: ${e.message}`);
}

export class TcpForward extends HostForward {
  #server: Server | undefined;

  open(): Promise<void> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (s) => this.#accept(s));
    server.maxConnections = this.limits.maxConnections;
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(bindError(this.spec, e)));
      server.listen({ host: this.spec.hostAddress, port: this.spec.hostPort, exclusive: true }, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        resolve();
      });
    });
  }

  get boundPort(): number {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a.port : this.spec.hostPort;
  }

  #accept(s: Socket): void {
    s.on('error', () => {});
    s.setNoDelay(true);
    const ip = this.target();
    if (ip === undefined) {
      this.counters.refused++;
      s.resetAndDestroy();
      return;
    }
    this.stack.tcp.connect(formatIpv4(ip), this.spec.guestPort, { noDelay: true }).then((g) => {
      if (s.destroyed) {
        g.reset();
        return;
      }
      this.counters.accepted++;
      splice(s, g, () => {});
    }, () => {
      this.counters.refused++;
      s.resetAndDestroy();
    });
  }

  close(): void {
    this.#server?.close();
    this.#server = undefined;
  }
}

export class UdpForward extends HostForward {
  #socket: DgramSocket | undefined;
  /** By host peer ADDRESS:PORT: the port of the gateway's address its datagrams come from. */
  readonly #flows = new FlowTable<number>(this.limits.maxUdpFlows, this.limits.udpIdleMs, (port) => {
    this.stack.udpLayer.unbind(port);
    this.localUdp.delete(port);
  });

  open(): Promise<void> {
    const sock = createSocket('udp4');
    this.#socket = sock;
    sock.on('message', (msg, rinfo) => this.#fromHost(msg, rinfo.address, rinfo.port));
    return new Promise((resolve, reject) => {
      sock.once('error', (e) => reject(bindError(this.spec, e)));
      sock.bind({ address: this.spec.hostAddress, port: this.spec.hostPort, exclusive: true }, () => {
        sock.removeAllListeners('error');
        sock.on('error', () => {});
        resolve();
      });
    });
  }

  get boundPort(): number {
    return this.#socket ? this.#socket.address().port : this.spec.hostPort;
  }

  #fromHost(msg: Buffer, address: string, peerPort: number): void {
    const ip = this.target();
    if (ip === undefined) return void this.counters.refused++;
    const key = `${address}:${peerPort}`;
    let port = this.#flows.touch(key);
    if (port === undefined) {
      port = this.stack.udpLayer.bindRaw(0, (payload, src, srcPort) => {
        if (src !== this.target() || srcPort !== this.spec.guestPort || !this.#flows.refresh(key, port!)) return;
        // A copy: dgram sends after its address lookup, and `payload` views a frame the stack reuses.
        this.#socket?.send(Buffer.from(payload), peerPort, address);
      });
      this.localUdp.add(port);
      this.#flows.add(key, port);
    }
    this.counters.datagrams++;
    try {
      this.stack.udpLayer.sendTo(port, ip, this.spec.guestPort, msg);
    } catch {
      // Larger than one datagram can be: dropped.
    }
  }

  close(): void {
    this.#flows.clear();
    this.#socket?.close();
    this.#socket = undefined;
  }
}

export function hostForward(spec: ForwardSpec, stack: TcpipStack, target: () => Ipv4 | undefined, limits: ForwardLimits, localUdp: Set<number>): HostForward {
  return spec.proto === 'tcp' ? new TcpForward(spec, stack, target, limits, localUdp) : new UdpForward(spec, stack, target, limits, localUdp);
}
