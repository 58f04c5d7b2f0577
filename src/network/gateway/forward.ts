// Host port forwards (QEMU's hostfwd): a host socket on ADDRESS:PORT (127.0.0.1 unless told
// otherwise) whose connections (TCP) or datagrams (UDP, one flow per host peer) the gateway
// carries to a guest's port through its own stack, from the gateway's address. The guest's
// address is looked up when a connection arrives (its DHCP lease may come later than the
// forward). Bounded: connections per forward, UDP flows per forward with idle timeouts.
//
// A TCP forward may hold its connections (ForwardHold: summoning, toolstack/summon-forwards.ts):
// from the moment its guest's domain is built (or once it runs), the gateway tries the guest's
// port until the guest's stack answers the handshake (a RST or silence while the guest comes up
// is retried), and joins the two once the boot is done too; Jitsu's synjitsu holds SYNs for a
// booting unikernel the same way.
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { XenError } from '../../errors.js';
import { formatIpv4, type Ipv4 } from '../../tcpip/addr.js';
import type { TcpSocket, TcpipStack } from '../../tcpip/index.js';
import type { ForwardSpec } from './forwardspec.js';
import { FlowTable } from './flowtable.js';
import { ReadAhead, splice, type SpliceHolds } from './splice.js';

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

/** How a forward holds each connection while its guest comes up. */
export interface ForwardHold {
  /**
   * Resolves once the guest runs, true if it was booted for this (rejects when it cannot be).
   * A boot calls `built` as soon as the guest's domain is built (its vif on the bridge, its
   * kernel handed over): its port is tried from then on, while the boot finishes.
   */
  readonly ready: (built: () => void) => Promise<boolean>;
  /** A connection the guest has not answered within this long is reset. */
  readonly holdMs: number;
  /** Told once a held connection is joined to its guest (true) or given up (false). */
  readonly settled?: (joined: boolean) => void;
}

/** Between handshake attempts at a guest coming up (after a RST, or while it has no address yet). */
const RETRY_MS = 1;

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
  /**
   * Connections from their accept until both sides closed. Counted here, not by the server's
   * maxConnections: a spliced connection's socket is no longer the server's (src/readinto.ts).
   */
  #live = 0;
  /** Set: connections are held until the guest answers (summoning). */
  hold: ForwardHold | undefined;

  constructor(spec: ForwardSpec, stack: TcpipStack, target: () => Ipv4 | undefined, limits: ForwardLimits, localUdp: Set<number>,
    private readonly holds: SpliceHolds) {
    super(spec, stack, target, limits, localUdp);
  }

  open(): Promise<void> {
    // Paused from the start: a connection's reads begin in splice() (or, held, in its ReadAhead), into its one read buffer.
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (s) => this.#accept(s));
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

  get connections(): number {
    return this.#live;
  }

  #accept(s: Socket): void {
    s.on('error', () => {});
    if (this.#live >= this.limits.maxConnections) {
      this.counters.refused++;
      s.resetAndDestroy();
      return;
    }
    this.#live++;
    s.setNoDelay(true);
    if (this.hold) return void this.#held(s, this.hold);
    const ip = this.target();
    if (ip === undefined) return this.#refuse(s);
    this.stack.tcp.connect(formatIpv4(ip), this.spec.guestPort, { noDelay: true }).then((g) => {
      if (s.destroyed) {
        g.reset();
        this.#live--;
        return;
      }
      this.#join(s, g);
    }, () => this.#refuse(s));
  }

  #refuse(s: Socket): void {
    this.counters.refused++;
    this.#live--;
    s.resetAndDestroy();
  }

  #join(s: Socket | ReadAhead, g: TcpSocket): void {
    this.counters.accepted++;
    splice(s, g, this.holds, () => this.#live--);
  }

  /**
   * A held connection: the guest's port is tried from the moment its domain is built (or once
   * it runs, if it ran already), while its boot finishes; the two are joined only once the boot
   * is done, so a boot that fails after its guest answered still resets both sides.
   */
  async #held(accepted: Socket, hold: ForwardHold): Promise<void> {
    const until = performance.now() + hold.holdMs;
    // The client's request is read while its guest boots, and goes to it with the join.
    const ahead = new ReadAhead(accepted, this.holds);
    const s = ahead.socket;
    let failed = false;
    let built!: () => void;
    const started = new Promise<boolean>((r) => (built = () => r(true)));
    const ready = hold.ready(built);
    ready.catch(() => (failed = true));
    const reach = Promise.race([started, ready]).then((booted) => this.#reach(booted, until, () => s.destroyed || failed), () => undefined);
    let g: TcpSocket | undefined;
    try {
      await ready;
      g = await reach;
    } catch {
      // The guest could not be booted: refused like a forward to nobody (and what reached it meanwhile is reset).
      void reach.then((late) => late?.reset());
    }
    // Either side may have gone while the boot finished: splice() would wait for a 'close'
    // that came already, and the connection would count against maxConnections for ever.
    if (!g || s.destroyed || g.destroyed) {
      g?.reset();
      this.#refuse(s);
      hold.settled?.(false);
      return;
    }
    this.#join(ahead, g);
    hold.settled?.(true);
  }

  /**
   * A connection to the guest's port, tried until its stack answers, `until` passes or the
   * client goes. A guest just booted has a new vif: what the gateway's ARP knew of its address
   * is forgotten, so the first SYN waits for its answer (its stack announces itself as it comes
   * up, arp.ts) rather than going to a vif not connected yet, where only TCP's retransmission,
   * a second later, would find it.
   */
  async #reach(booted: boolean, until: number, gone: () => boolean): Promise<TcpSocket | undefined> {
    let forget = booted;
    while (!gone() && performance.now() < until) {
      const ip = this.target();
      if (ip !== undefined) {
        if (forget) this.stack.arp.forget(ip);
        forget = false;
        const g = await this.stack.tcp.connect(formatIpv4(ip), this.spec.guestPort, { noDelay: true }).catch(() => undefined);
        if (g) {
          // Until the join, a reset from the guest only destroys it (#held looks), rather than
          // being an error nobody listens to (the host's uncaught-error log).
          g.on('error', () => {});
          return g;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    return undefined;
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

/** `holds`: the gateway's count of what its TCP splices hold. */
export function hostForward(spec: ForwardSpec, stack: TcpipStack, target: () => Ipv4 | undefined, limits: ForwardLimits, localUdp: Set<number>,
  holds: SpliceHolds): HostForward {
  return spec.proto === 'tcp' ? new TcpForward(spec, stack, target, limits, localUdp, holds) : new UdpForward(spec, stack, target, limits, localUdp);
}
