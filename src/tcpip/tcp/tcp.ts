// The TCP layer: demultiplexing segments to connections by 4-tuple, listeners with a bounded
// half-open table (a SYN flood evicts the oldest half-open connection, never an established
// one), bounded connection and TIME-WAIT counts, RSTs for segments nobody owns (RFC 9293
// §3.10.7.1), and ICMP errors checked against the connection's window (RFC 5927).
import { NET_FRAME_PLAIN, XEN_NETIF_GSO_TYPE_TCPV4, type NetFrameInfo } from '../../abi/netif.js';
import { formatIpv4, isUnusableUnicast, parseIpv4, type Ipv4 } from '../addr.js';
import { fillL4Checksum, pseudoHeaderSum, verify } from '../checksum.js';
import type { Clock, Timer } from '../clock.js';
import { BufferPool } from '../bufferpool.js';
import { Slab } from '../slab.js';
import { NoRoute, TcpipError } from '../errors.js';
import { UNREACH_FRAG_NEEDED, UNREACH_PORT, UNREACH_PROTOCOL, type Icmp, type IcmpError } from '../icmp.js';
import { PROTO_TCP, type Ipv4Layer, type Ipv4Packet } from '../ipv4.js';
import type { ByteQueue } from './bytequeue.js';
import { Connection, type TcpHost } from './connection.js';
import { SequenceSecrets } from './isn.js';
import type { TcpSnapshot } from './snapshot.js';
import { TCP_DEFAULTS, type Endpoint, type TcpConfig } from './settings.js';
import { SEQ_INIT, seqAdd, seqGe, seqLe } from './seq.js';
import { TcpSocket } from './socket.js';
import { ConnectionTable } from './table.js';
import { ACK, FIN, RST, SYN, encodeHeader, optionsLength, parseSegment, TCP_HLEN, type TcpOptions } from './wire.js';

const EPHEMERAL_LOW = 49152;

interface Listener {
  readonly port: number;
  /** Undefined while a listener carried over a resume waits for the program to listen again. */
  onConn: ((s: TcpSocket) => void) | undefined;
  readonly backlog: number;
  /** Half-open connections, oldest first. */
  readonly halfOpen: Set<Connection>;
  /** Connections accepted while it waits for the program (at most `backlog`). */
  readonly waiting: TcpSocket[];
  /** A listener carried over a resume: its wait for the program (RESUMED_LISTENER_MS). */
  expiry?: Timer;
}

/** How long a listener carried over a resume waits for the program to listen on its port again. */
export const RESUMED_LISTENER_MS = 30_000;

export interface TcpServer {
  readonly port: number;
  close(): void;
}

export interface TcpCounters {
  rxSegments: number;
  rxBad: number;
  rstSent: number;
  synDropped: number;
  halfOpenEvicted: number;
  timeWaitRecycled: number;
  /** Of connections released so far: segments sent again, and how many of those a timeout caused. */
  retransmits: number;
  timeouts: number;
}

export interface ConnectOptions {
  localPort?: number;
  noDelay?: boolean;
}

/** A segment's info with its checksum left to the peer on this host. */
const CSUM_BLANK: NetFrameInfo = Object.freeze({ csumBlank: true, dataValidated: false });

export class Tcp implements TcpHost {
  readonly config: TcpConfig;
  readonly counters: TcpCounters = {
    rxSegments: 0, rxBad: 0, rstSent: 0, synDropped: 0, halfOpenEvicted: 0, timeWaitRecycled: 0, retransmits: 0, timeouts: 0,
  };
  #conns = new ConnectionTable<Connection>();
  #listeners = new Map<number, Listener>();
  #timeWait = new Set<Connection>();
  /** The stream of each connection that has one (a suspend asks it for what it holds). */
  #sockets = new Map<Connection, TcpSocket>();
  /** Connections carried over a resume that no listener took and the program has not asked for. */
  #resumed: TcpSocket[] = [];
  /** RFC 6528's secrets: drawn here, or a suspended stack's, carried on by restore(). */
  #secrets: SequenceSecrets;
  /**
   * What the sequence clock (ISNs' and new connections' timestamps) adds to `clock`: after a
   * restore on a host whose clock reads less than the suspended stack's did, enough that both
   * go on from where they were rather than fall back.
   */
  #seqClockSkew = 0;

  constructor(
    private readonly ip: Ipv4Layer,
    icmp: Icmp,
    readonly clock: Clock,
    readonly random: () => number,
    config: Partial<TcpConfig> = {},
  ) {
    this.config = { ...TCP_DEFAULTS, ...config };
    this.#secrets = new SequenceSecrets(random);
    ip.on(PROTO_TCP, (p) => this.input(p));
    icmp.onError(PROTO_TCP, (e) => this.#icmpError(e));
    ip.arp.onUnreachable = (hop) => {
      for (const c of [...this.#conns.values()]) if (c.state === 'SYN-SENT' && this.ip.nextHop(c.remoteAddr) === hop) c.unreachable(false);
    };
  }

  /** Kept bytes have a slab apart from frames', so that a stream's bytes lie end to end in it. */
  readonly slab = new Slab();
  readonly sendBlocks = new BufferPool();

  get gso(): boolean {
    const o = this.ip.eth.net.offloads;
    return o.gsoTcpv4 && o.csum;
  }

  /** Connections in any state but LISTEN. */
  get connectionCount(): number {
    return this.#conns.size;
  }

  get timeWaitCount(): number {
    return this.#timeWait.size;
  }

  /** Connections per state, for tests and stats. */
  states(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.#conns.values()) out[c.state] = (out[c.state] ?? 0) + 1;
    return out;
  }

  /** The connections (tests and stats look at them). */
  connections(): IterableIterator<Connection> {
    return this.#conns.values();
  }

  pathMtu(addr: Ipv4): number {
    return this.ip.pathMtu(addr);
  }

  listen(port: number, onConn: (s: TcpSocket) => void, opts: { backlog?: number } = {}): TcpServer {
    checkPort(port, false);
    const backlog = Math.max(1, Math.floor(opts.backlog ?? this.config.backlog));
    const kept = this.#listeners.get(port);
    let l: Listener;
    if (kept && kept.onConn === undefined) {
      // Listening again after a resume: the connections it accepted meanwhile (and before) come first.
      l = kept;
      l.onConn = onConn;
      const waiting = l.waiting.splice(0);
      queueMicrotask(() => {
        for (const s of waiting) onConn(s);
      });
    } else {
      if (kept) throw new TcpipError('EADDRINUSE', `TCP port ${port} is already listening`);
      l = { port, onConn, backlog, halfOpen: new Set(), waiting: [] };
      this.#listeners.set(port, l);
    }
    return {
      port,
      close: () => {
        if (this.#listeners.get(port) !== l) return;
        this.#listeners.delete(port);
        for (const c of [...l.halfOpen]) c.abandon();
      },
    };
  }

  /** Open a connection; resolves once established, rejects with ConnectionRefused, Timeout or NoRoute. */
  connect(addr: string, port: number, opts: ConnectOptions = {}): Promise<TcpSocket> {
    let remote: Ipv4;
    try {
      remote = parseIpv4(addr);
      checkPort(port, false);
      if (isUnusableUnicast(remote)) throw new TcpipError('EINVAL', `cannot connect to ${addr}`);
      this.ip.checkRoute(remote);
      if (this.#conns.size >= this.config.maxConnections) throw new TcpipError('EMFILE', `${this.#conns.size} connections open`);
    } catch (e) {
      return Promise.reject(e);
    }
    let local: number;
    try {
      local = opts.localPort ?? this.#ephemeral(remote, port);
      checkPort(local, false);
      if (this.#conns.has(remote, port, local)) throw new TcpipError('EADDRINUSE', `port ${local} to ${addr}:${port} is in use`);
    } catch (e) {
      return Promise.reject(e);
    }
    const c = new Connection(this, local, remote, port, false, this.#isn(local, remote, port));
    c.noDelay = opts.noDelay ?? false;
    this.#conns.set(c);
    const socket = this.#socket(c);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
      c.open();
    });
  }

  #isn(localPort: number, remoteAddr: Ipv4, remotePort: number): number {
    return this.#secrets.isn(this.ip.config.address, localPort, remoteAddr, remotePort, this.#seqClock());
  }

  #seqClock(): number {
    return this.clock.now() + this.#seqClockSkew;
  }

  #ephemeral(remote: Ipv4, port: number): number {
    for (let i = 0; i < 1000; i++) {
      const p = EPHEMERAL_LOW + Math.floor(this.random() * (65536 - EPHEMERAL_LOW));
      if (!this.#conns.has(remote, port, p) && !this.#listeners.has(p)) return p;
    }
    throw new TcpipError('EADDRNOTAVAIL', `no free local port towards ${formatIpv4(remote)}:${port}`);
  }

  // ---- TcpHost ----

  tsOffset(remoteAddr: Ipv4): number {
    return (this.#secrets.tsOffset(this.ip.config.address, remoteAddr) + this.#seqClockSkew) >>> 0;
  }

  emit(c: Connection, seq: number, ack: number, flags: number, window: number, opts: TcpOptions | undefined,
    len: number, bufOffset: number): void {
    this.#send(c, seq, ack, flags, window, opts, len, len > c.mss ? c.mss : 0, len > 0 ? c.sndBuf : undefined, bufOffset);
  }

  /**
   * One segment: its header, then `len` bytes of `payload` from `bufOffset`, built where the
   * device sends it from when it can (the send buffer copied once, straight into netfront's
   * granted pages), else in a frame of our own.
   */
  #send(ep: Endpoint, seq: number, ack: number, flags: number, window: number, opts: TcpOptions | undefined,
    len: number, gsoSize: number, payload: ByteQueue | undefined, bufOffset: number): void {
    const w = this.#segment;
    w.ep = ep; w.srcPort = ep.localPort; w.dstPort = ep.remotePort;
    w.seq = seq; w.ack = flags & ACK ? ack : 0; w.flags = flags; w.window = window; w.opts = opts;
    w.hlen = TCP_HLEN + optionsLength(opts); w.len = len; w.payload = payload; w.bufOffset = bufOffset;
    w.blank = this.ip.eth.net.offloads.csum;
    const info = gsoSize > 0 ? this.#gsoInfo(gsoSize) : w.blank ? CSUM_BLANK : NET_FRAME_PLAIN;
    this.ip.outputWith(w.hlen + len, ep.remoteAddr, PROTO_TCP, info, w);
  }

  /** The segment #send is sending, its own header fields (one object, reused: it is written before outputWith returns). */
  readonly #segment = ((tcp: Tcp) => ({
    ep: undefined as unknown as Endpoint, srcPort: 0, dstPort: 0, seq: SEQ_INIT, ack: SEQ_INIT, flags: 0, window: 0, opts: undefined as TcpOptions | undefined,
    hlen: 0, len: 0, payload: undefined as ByteQueue | undefined, bufOffset: 0, blank: false,
    write(frame: Uint8Array, o: number): void {
      encodeHeader(frame, o, this, this.opts);
      if (this.payload) this.payload.copyTo(this.bufOffset, this.len, frame, o + this.hlen);
      fillL4Checksum(frame, o, this.hlen + this.len, o + 16, tcp.ip.config.address, this.ep.remoteAddr, PROTO_TCP, this.blank);
    },
  }))(this);

  /** A GSO super-frame's info by segment size (the MSS: one or two per connection). */
  #gsoInfo(size: number): NetFrameInfo {
    let info = this.#gsoInfos.get(size);
    if (!info) {
      if (this.#gsoInfos.size >= 64) this.#gsoInfos.clear();
      this.#gsoInfos.set(size, (info = { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size } }));
    }
    return info;
  }

  readonly #gsoInfos = new Map<number, NetFrameInfo>();

  #sendRst(ep: Endpoint, seq: number, ack: number, flags: number): void {
    this.counters.rstSent++;
    this.#send(ep, seq, ack, flags, 0, undefined, 0, 0, undefined, 0);
  }

  established(c: Connection): void {
    if (!c.passive) return;
    const l = this.#listeners.get(c.localPort);
    if (!l || !l.halfOpen.delete(c)) {
      c.reset();
      return;
    }
    this.#accepted(l, this.#socket(c));
  }

  #socket(c: Connection, resumed = false): TcpSocket {
    const s = new TcpSocket(c, resumed);
    this.#sockets.set(c, s);
    return s;
  }

  #accepted(l: Listener, s: TcpSocket): void {
    if (l.onConn) l.onConn(s);
    else if (l.waiting.length < l.backlog) l.waiting.push(s);
    else s.reset();
  }

  timeWait(c: Connection): void {
    this.#timeWait.add(c);
    // The stream needs nothing more from a TIME-WAIT connection once this turn is over (the FIN
    // reached it; bytes still unread it takes from the connection it holds): let it go with the
    // program's last reference, as young garbage, not with the connection 2 MSL later.
    queueMicrotask(() => {
      if (c.state !== 'TIME-WAIT') return;
      this.#sockets.delete(c);
      c.events = undefined;
      c.reader = undefined; // an onBytes reader holds its socket and what it splices to
    });
    if (this.#timeWait.size > this.config.maxTimeWait) {
      const oldest = this.#timeWait.values().next().value as Connection;
      this.counters.timeWaitRecycled++;
      oldest.abandon();
    }
  }

  release(c: Connection): void {
    if (this.#conns.delete(c)) {
      this.counters.retransmits += c.stats.retransmits;
      this.counters.timeouts += c.stats.timeouts;
    }
    this.#timeWait.delete(c);
    this.#sockets.delete(c);
    if (c.passive) this.#listeners.get(c.localPort)?.halfOpen.delete(c);
  }

  // ---- Input ----

  input(p: Ipv4Packet): void {
    this.counters.rxSegments++;
    const b = p.payload;
    if (p.dst !== this.ip.config.address || this.ip.config.address === 0 || isUnusableUnicast(p.src)) {
      this.counters.rxBad++;
      return;
    }
    if (!p.info.csumBlank && !p.info.dataValidated && !verify(b, 0, b.length, pseudoHeaderSum(p.src, p.dst, PROTO_TCP, b.length))) {
      this.counters.rxBad++;
      return;
    }
    const seg = parseSegment(b, p.info.owned === true);
    if (!seg || seg.srcPort === 0 || seg.dstPort === 0) {
      this.counters.rxBad++;
      return;
    }
    const c = this.#conns.get(p.src, seg.srcPort, seg.dstPort);
    const f = seg.flags;
    if (c) {
      // RFC 9293 §3.6.1 / RFC 6191: a new SYN beyond the old connection's timestamps or sequence space may reuse a TIME-WAIT pair.
      if (!(c.state === 'TIME-WAIT' && (f & (SYN | ACK | RST)) === SYN && this.#listeners.has(seg.dstPort) && c.supersededBy(seg))) {
        c.input(seg);
        return;
      }
      c.abandon();
    }
    if (f & RST) return;
    const ep: Endpoint = { localPort: seg.dstPort, remoteAddr: p.src, remotePort: seg.srcPort };
    const l = this.#listeners.get(seg.dstPort);
    if (!l || (f & (SYN | ACK)) !== SYN) {
      if (f & ACK) this.#sendRst(ep, seg.ack, 0, RST);
      else this.#sendRst(ep, 0, seqAdd(seg.seq, seg.payload.length + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0)), RST | ACK);
      return;
    }
    if (this.#conns.size >= this.config.maxConnections) {
      this.counters.synDropped++;
      return;
    }
    if (l.halfOpen.size >= l.backlog) {
      const oldest = l.halfOpen.values().next().value as Connection;
      this.counters.halfOpenEvicted++;
      oldest.abandon();
    }
    const nc = new Connection(this, seg.dstPort, p.src, seg.srcPort, true, this.#isn(seg.dstPort, p.src, seg.srcPort));
    this.#conns.set(nc);
    l.halfOpen.add(nc);
    nc.acceptSyn(seg);
  }

  #icmpError(e: IcmpError): void {
    const srcPort = (e.l4[0]! << 8) | e.l4[1]!;
    const dstPort = (e.l4[2]! << 8) | e.l4[3]!;
    const seq = ((e.l4[4]! << 24) | (e.l4[5]! << 16) | (e.l4[6]! << 8) | e.l4[7]!) >>> 0;
    const c = this.#conns.get(e.dst, dstPort, srcPort);
    if (!c || !seqGe(seq, c.sndUna) || !seqLe(seq, c.sndMax)) return; // not about anything in flight
    if (e.code === UNREACH_FRAG_NEEDED) c.pathMtuChanged();
    else c.unreachable(e.code === UNREACH_PORT || e.code === UNREACH_PROTOCOL);
  }

  // ---- Suspend and resume ----

  /** Connections (all but those still opening actively) and listening ports, for a suspend record. */
  snapshot(): TcpSnapshot {
    const connections = [];
    for (const c of this.#conns.values()) {
      if (c.state === 'SYN-SENT' || c.state === 'CLOSED') continue;
      connections.push(this.#sockets.get(c)?.snapshot() ?? c.snapshot(new Uint8Array(0)));
    }
    return {
      connections, listeners: [...this.#listeners.values()].map((l) => ({ port: l.port, backlog: l.backlog })),
      sequence: { secrets: this.#secrets.words, clockMs: this.#seqClock() },
    };
  }

  /**
   * Carry on from a snapshot (checked by checkTcpSnapshot) in a fresh stack: each listening port
   * accepts again at once and hands its connections, old and new, to the program's next
   * listen() on that port (or resets them after RESUMED_LISTENER_MS without one); connections
   * no listener takes wait for resumed().
   */
  restore(s: TcpSnapshot): void {
    // The same secrets and a clock that does not fall back: a 4-tuple reused after the restore
    // gets an ISN and timestamps beyond its last connection's, as it would have on the old host.
    if (s.sequence) {
      this.#secrets = new SequenceSecrets(s.sequence.secrets);
      // Negative too: a clock jumping ahead by more than 2^31 ticks (2.4 h) would wrap the ISN behind.
      this.#seqClockSkew = Math.ceil(s.sequence.clockMs - this.clock.now());
    }
    for (const { port, backlog } of s.listeners) {
      if (this.#listeners.has(port)) continue;
      const l: Listener = { port, onConn: undefined, backlog, halfOpen: new Set(), waiting: [] };
      this.#listeners.set(port, l);
      l.expiry = this.clock.setTimer(RESUMED_LISTENER_MS, () => {
        if (this.#listeners.get(port) !== l || l.onConn) return;
        this.#listeners.delete(port);
        for (const c of [...l.halfOpen]) c.abandon();
        for (const w of l.waiting.splice(0)) w.reset();
      });
    }
    for (const cs of s.connections) {
      const c = Connection.restore(this, cs);
      if (this.#conns.has(c.remoteAddr, c.remotePort, c.localPort)) continue;
      this.#conns.set(c);
      const l = c.passive ? this.#listeners.get(c.localPort) : undefined;
      if (c.state === 'TIME-WAIT') this.#timeWait.add(c);
      else if (c.state === 'SYN-RECEIVED') l?.halfOpen.add(c);
      else {
        const socket = this.#socket(c, true);
        if (cs.finSeq !== -1) socket.end(); // the program had ended its side
        if (l) l.waiting.push(socket); // not counted against the backlog: they were accepted before
        else this.#resumed.push(socket);
      }
    }
  }

  /** The connections carried over a resume that no listener took (a client's, typically); each is handed out once. */
  resumed(): TcpSocket[] {
    return this.#resumed.splice(0);
  }

  /** Fail every connection (the interface went away or the address changed). */
  abortAll(reason: string): void {
    for (const c of [...this.#conns.values()]) c.reset(new NoRoute(reason));
  }

  /**
   * The stack stops: every connection fails, and a listener carried over a resume stops waiting
   * for the program (its timer would hold the stack for RESUMED_LISTENER_MS: a warm-up's scratch
   * stacks, say).
   */
  stop(reason: string): void {
    this.abortAll(reason);
    for (const l of this.#listeners.values()) l.expiry?.cancel();
  }
}

function checkPort(port: number, zeroOk: boolean): void {
  if (!Number.isInteger(port) || port < (zeroOk ? 0 : 1) || port > 65535) throw new TcpipError('EINVAL', `bad port ${port}`);
}
