// One TCP connection (RFC 9293's TCB and its segment-arrival rules), hardened per RFC 5961
// (RST and SYN only act on an exact sequence match, else a rate-limited challenge ACK; ACKs
// outside the window are dropped), with RFC 6298 retransmission, NewReno congestion control,
// RFC 7323 window scaling, timestamps and PAWS, RFC 2018 SACK (blocks on our pure ACKs; the
// peer's blocks steer which holes we resend in recovery), delayed ACKs, Nagle, zero-window
// probes and keepalive. Buffers are bounded: the send buffer by sndBufMax, the receive side by the window
// we advertise (the reassembly queue holds only bytes inside it, in at most MAX_OOO pieces).
import { formatIpv4, type Ipv4 } from '../addr.js';
import { TimerSlot, type Clock } from '../clock.js';
import { ConnectionRefused, ConnectionReset, NoRoute, Timeout, type TcpipError } from '../errors.js';
import { ByteQueue } from './bytequeue.js';
import { NewReno } from './newreno.js';
import { Rto } from './rto.js';
import { SEQ_INIT, seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqRange } from './seq.js';
import { ACK, FIN, MAX_SACK_BLOCKS, MAX_SACK_BLOCKS_WITH_TS, PSH, RST, SYN, tsOption, type SackBlock, type Segment, type TcpOptions } from './wire.js';
import { POOL_LARGE, type BufferPool } from '../bufferpool.js';
import type { Slab } from '../slab.js';
import type { TcpConfig } from './settings.js';

/** What a connection needs from the TCP layer that owns it. */
export interface TcpHost {
  readonly clock: Clock;
  readonly config: TcpConfig;
  /** Where small kept bytes (the send buffer, received segments) are copied to. */
  readonly slab: Slab;
  /** The blocks of send buffers: given back once acknowledged. */
  readonly sendBlocks: BufferPool;
  /** The vif does GSO: segments may be super-frames of several MSS. */
  readonly gso: boolean;
  pathMtu(addr: Ipv4): number;
  /** What our timestamps towards `addr` add to the clock (the same for every connection to it: isn.ts). */
  tsOffset(addr: Ipv4): number;
  /**
   * Send one segment; `len` payload bytes are copied from the connection's send buffer at
   * `bufOffset`.
   */
  emit(c: Connection, seq: number, ack: number, flags: number, window: number, opts: TcpOptions | undefined,
    len: number, bufOffset: number): void;
  /** The handshake completed. */
  established(c: Connection): void;
  /** The connection entered TIME-WAIT. */
  timeWait(c: Connection): void;
  /** The connection is CLOSED: forget it. */
  release(c: Connection): void;
}

export type TcpState =
  | 'SYN-SENT' | 'SYN-RECEIVED' | 'ESTABLISHED' | 'FIN-WAIT-1' | 'FIN-WAIT-2' | 'CLOSE-WAIT'
  | 'CLOSING' | 'LAST-ACK' | 'TIME-WAIT' | 'CLOSED';

const MAX_OOO = 64;
/** SACKed ranges the sender remembers at most (the peer reports at most MAX_OOO pieces). */
const MAX_SACKED = MAX_OOO;
const DEFAULT_MSS = 536;
const TS_OPT_LEN = 12;
const MAX_WSCALE = 14;
const CHALLENGE_ACKS_PER_SECOND = 10;
/** Writes below this are copied to the slab rather than into a pooled block of their own. */
const SMALL_WRITE = 2048;
/** A GSO tail waits for more bytes only while the last segment went out less than this ago (Linux's tcp_tso_should_defer: 1 ms). */
const TSO_DEFER_MS = 1;

/**
 * A connection's state as plain, structured-cloneable data (Connection.snapshot and restore;
 * checked by tcp/snapshot.ts when it comes from outside): times as ms relative to the snapshot.
 */
export interface ConnectionSnapshot {
  readonly state: TcpState;
  readonly localPort: number;
  readonly remoteAddr: number;
  readonly remotePort: number;
  readonly passive: boolean;
  readonly iss: number;
  readonly sndUna: number;
  readonly sndNxt: number;
  readonly sndMax: number;
  readonly sndWnd: number;
  readonly maxSndWnd: number;
  readonly sndWl1: number;
  readonly sndWl2: number;
  readonly sndWscale: number;
  /** -1: no FIN queued. */
  readonly finSeq: number;
  /** From sndUna on: sent and unacknowledged, then unsent. */
  readonly sndBuf: Uint8Array;
  readonly irs: number;
  readonly rcvNxt: number;
  readonly rcvAdv: number;
  readonly rcvWscale: number;
  readonly wsOk: boolean;
  /** Received in order, not yet read by the program. */
  readonly rcvQueue: Uint8Array;
  readonly ooo: readonly { readonly seq: number; readonly data: Uint8Array; readonly fin: boolean }[];
  readonly finReceived: boolean;
  readonly lastAckSent: number;
  readonly sendMss: number;
  readonly tsOk: boolean;
  readonly tsRecent: number;
  /** Our timestamp clock's value at the snapshot. */
  readonly tsVal: number;
  readonly sackOk: boolean;
  readonly recentOoo: number;
  readonly sacked: readonly { readonly start: number; readonly end: number }[];
  readonly rtxHigh: number;
  readonly srtt: number;
  readonly rttvar: number;
  readonly rto: number;
  readonly cwnd: number;
  readonly ssthresh: number;
  readonly dupAcks: number;
  readonly inRecovery: boolean;
  readonly recover: number;
  readonly rttSeq: number;
  readonly rttAgeMs: number;
  readonly retries: number;
  /** ms left on the retransmission (or persist) timer; -1: not armed. */
  readonly rtxInMs: number;
  readonly persisting: boolean;
  readonly delackArmed: boolean;
  /** ms left of TIME-WAIT or FIN-WAIT-2; -1 in other states. */
  readonly otherInMs: number;
  /** ms since the peer was last heard. */
  readonly idleMs: number;
  readonly noDelay: boolean;
  readonly stats: ConnectionStats;
  readonly keepalive: { idleMs: number; intervalMs: number; count: number; sent: number } | undefined;
}

/**
 * What happened on a connection, for benches and diagnosis: retransmissions (and what caused
 * them), what the peer's ACKs said, and what we sent. The first four travel in snapshots.
 */
export interface ConnectionStats {
  /** Segments sent again, and how many of those a timeout, three duplicate ACKs or SACK holes caused. */
  retransmits: number;
  timeouts: number;
  fastRetransmits: number;
  sackRetransmits: number;
  /** Duplicate ACKs received (RFC 5681 §2's definition). */
  dupAcksIn?: number;
  /** Segments that arrived beyond rcvNxt (held for reassembly or dropped). */
  outOfOrderIn?: number;
  /** Segments sent with payload, and pure ACKs (window updates included). */
  dataSegmentsOut?: number;
  acksOut?: number;
  /** Times we advertised a zero window, and zero-window probes we sent. */
  zeroWindowsOut?: number;
  zeroWindowProbes?: number;
}

const NEW_STATS = () => ({
  retransmits: 0, timeouts: 0, fastRetransmits: 0, sackRetransmits: 0,
  dupAcksIn: 0, outOfOrderIn: 0, dataSegmentsOut: 0, acksOut: 0, zeroWindowsOut: 0, zeroWindowProbes: 0,
});

/** A segment held out of order, its `seq` a double from the first (see SEQ_INIT). */
function heldSegment(seq: number, data: Uint8Array, fin: boolean): { seq: number; data: Uint8Array; fin: boolean } {
  const o = { seq: SEQ_INIT, data, fin };
  o.seq = seq;
  return o;
}

/** What the owner of a connection (the stream) hears from it. */
export interface ConnectionEvents {
  onEstablished(): void;
  /** In-order bytes are ready to read(), or the peer's FIN arrived. */
  onReadable(): void;
  /** Send buffer space freed. */
  onWritable(): void;
  /** The connection is gone; with an error unless it closed in order. */
  onClosed(err: TcpipError | undefined): void;
}

export class Connection {
  state: TcpState;
  events: ConnectionEvents | undefined;
  // Send side (RFC 9293 names).
  readonly iss: number;
  sndUna: number;
  sndNxt: number;
  /** The highest sequence number sent (sndNxt goes back to sndUna after a timeout). */
  sndMax: number;
  sndWnd = 0;
  #maxSndWnd = 0;
  #sndWl1 = SEQ_INIT;
  #sndWl2 = SEQ_INIT;
  #sndWscale = 0;
  readonly sndBuf: ByteQueue;
  /** Sequence number of our FIN once close() was called, else -1. */
  #finSeq = SEQ_INIT; // -1 (none) once constructed
  // Receive side.
  #irs = SEQ_INIT;
  rcvNxt = SEQ_INIT;
  /** The right edge of the window we last advertised. */
  #rcvAdv = SEQ_INIT;
  #rcvWscale = 0;
  #wsOk = false;
  readonly rcvQueue = new ByteQueue();
  #ooo: { seq: number; data: Uint8Array; fin: boolean }[] = [];
  #finReceived = false;
  #lastAckSent = SEQ_INIT;
  /** When a segment last went out (host clock, ms; a double from the start, as SEQ_INIT is): a tail waits only while sends are recent. */
  #sentAt = -Infinity;
  #unackedSegs = 0;
  #ackQueued = false;
  // Options.
  #sendMss = DEFAULT_MSS;
  #tsOk = false;
  #tsRecent = SEQ_INIT;
  #sackOk = false;
  /** Where the latest out-of-order segment began: its block goes first (RFC 2018 §4). */
  #recentOoo = SEQ_INIT;
  /** What the peer SACKed above sndUna: sorted, disjoint. */
  #sacked: { start: number; end: number }[] = [];
  /** Recovery resent everything below this (holes are resent once each). */
  #rtxHigh = SEQ_INIT;
  #tsOffset: number;
  // Timing and congestion.
  readonly rto: Rto;
  readonly cc: NewReno;
  #rttSeq = SEQ_INIT; // -1 (none) once constructed
  #rttStart = 0;
  #retries = 0;
  /**
   * Restored with data in flight: the first segment from the peer resends the first segment
   * again (the one resent at the restore, or its ACK, may have gone before the network knew where
   * this end is now: a migrated guest's gratuitous ARP races it), rather than an RTO later.
   */
  #resendWhenHeard = false;
  #rtx: TimerSlot;
  /** The timers' callbacks, made once: the slots are armed again for nearly every segment. */
  readonly #rtxFired = (): void => this.#onTimeout();
  readonly #delackFired = (): void => this.#sendAck();
  /** The rtx slot runs the persist timer (zero window, nothing in flight). */
  #persisting = false;
  #delack: TimerSlot;
  #other: TimerSlot;
  #lastRecv: number;
  #challengeTokens = CHALLENGE_ACKS_PER_SECOND;
  #challengeRefill = 0;
  noDelay = false;
  /**
   * A reader that takes bytes as they arrive, each a view valid during the call (TcpSocket's
   * onBytes): in-order bytes go to it straight from the received frame, with no copy, while
   * nothing waits before them in the receive queue. Unset, they are queued (onBytes' reader
   * stopped).
   */
  reader: ((bytes: Uint8Array) => void) | undefined;
  readonly stats: Required<ConnectionStats> = NEW_STATS();
  #keepalive: { idleMs: number; intervalMs: number; count: number; sent: number } | undefined;

  constructor(
    private readonly host: TcpHost,
    readonly localPort: number,
    readonly remoteAddr: Ipv4,
    readonly remotePort: number,
    readonly passive: boolean,
    iss: number,
  ) {
    const clock: Clock = host.clock;
    this.iss = iss;
    this.sndBuf = new ByteQueue((b) => host.sendBlocks.give(b));
    this.sndUna = this.sndNxt = this.sndMax = iss;
    this.#finSeq = this.#rttSeq = -1;
    this.state = passive ? 'SYN-RECEIVED' : 'SYN-SENT';
    this.rto = new Rto(host.config.rto);
    this.cc = new NewReno(DEFAULT_MSS, iss);
    this.#rtx = new TimerSlot(clock);
    this.#delack = new TimerSlot(clock);
    this.#other = new TimerSlot(clock);
    this.#tsOffset = host.tsOffset(remoteAddr);
    this.#lastRecv = clock.now();
    let ws = 0;
    while (ws < MAX_WSCALE && host.config.rcvBufMax >> ws > 0xffff) ws++;
    this.#rcvWscale = ws;
  }

  get config(): TcpConfig {
    return this.host.config;
  }

  get describe(): string {
    return `${formatIpv4(this.remoteAddr)}:${this.remotePort}`;
  }

  get finReceived(): boolean {
    return this.#finReceived;
  }

  /** Bytes the application may still add to the send buffer. */
  get sendSpace(): number {
    return this.#finSeq === -1 && this.#synchronizedOrOpening() ? Math.max(0, this.config.sndBufMax - this.sndBuf.length) : 0;
  }

  get mss(): number {
    return this.#sendMss;
  }

  #synchronizedOrOpening(): boolean {
    return this.state !== 'CLOSED' && this.state !== 'TIME-WAIT';
  }

  #ourMss(): number {
    return this.host.pathMtu(this.remoteAddr) - 40;
  }

  #tsVal(): number {
    return (Math.floor(this.host.clock.now()) + this.#tsOffset) >>> 0;
  }

  // ---- Opening ----

  /** Active open: send the SYN. */
  open(): void {
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.#rttStart = this.host.clock.now();
    this.#sendSyn();
    this.#armRtx();
  }

  /** Passive open: take the SYN's options and answer with SYN-ACK. */
  acceptSyn(seg: Segment): void {
    this.#irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.#takeSynOptions(seg);
    this.sndWnd = seg.window; // never scaled in a SYN
    this.#maxSndWnd = this.sndWnd;
    this.#sndWl1 = seg.seq;
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.#sendSyn();
    this.#armRtx();
  }

  /** Options of the peer's SYN: window scaling and timestamps only when both sides offer them. */
  #takeSynOptions(seg: Segment): void {
    const o = seg.opts;
    const peerMss = o.mss !== undefined && o.mss > 0 ? o.mss : DEFAULT_MSS;
    this.#wsOk = o.wscale !== undefined;
    if (!this.#wsOk) this.#rcvWscale = 0;
    this.#tsOk = (this.passive || this.#tsOk) && o.ts !== undefined;
    this.#sndWscale = this.#wsOk ? Math.min(MAX_WSCALE, o.wscale!) : 0;
    if (o.ts) this.#tsRecent = o.ts.val;
    this.#sackOk = this.config.sack && o.sackOk === true;
    this.#sendMss = Math.max(64, Math.min(peerMss, this.#ourMss()) - (this.#tsOk ? TS_OPT_LEN : 0));
    this.cc.setMss(this.#sendMss);
    this.cc.cwnd = 10 * this.#sendMss;
  }

  /** Our SYN (active open) or SYN-ACK (passive, and simultaneous open). */
  #sendSyn(): void {
    const synAck = this.state === 'SYN-RECEIVED';
    const opts: TcpOptions = { mss: this.#ourMss() };
    if (!synAck || this.#wsOk) opts.wscale = this.#rcvWscale;
    if (this.config.sack && (!synAck || this.#sackOk)) opts.sackOk = true;
    if (!synAck) this.#tsOk = true; // offered; the SYN-ACK decides
    if (this.#tsOk) opts.ts = tsOption(this.#tsVal(), synAck ? this.#tsRecent : 0);
    const wnd = Math.min(this.config.rcvBufMax, 0xffff);
    this.host.emit(this, this.iss, this.rcvNxt, synAck ? SYN | ACK : SYN, wnd, opts, 0, 0);
    if (synAck) this.#rcvAdv = seqAdd(this.rcvNxt, wnd);
  }

  // ---- Application calls ----

  /** Queue bytes to send; returns how many fit in the send buffer (all of them when `unbounded`: a suspend takes what the program wrote, TcpSocket.writeNow a reused buffer's read). */
  write(data: Uint8Array, unbounded = false): number {
    const n = unbounded && this.#finSeq === -1 && this.#synchronizedOrOpening() ? data.length : Math.min(data.length, this.sendSpace);
    if (n === 0) return 0;
    // Copy: the caller may reuse its buffer, and we keep the bytes until they are acknowledged.
    // Large writes go to pooled blocks (reused once acknowledged), small ones to the slab.
    for (let at = 0; at < n;) {
      const len = Math.min(n - at, POOL_LARGE);
      const piece = data.subarray(at, at + len);
      if (len < SMALL_WRITE) this.sndBuf.push(this.host.slab.copy(piece));
      else {
        const b = this.host.sendBlocks.take(len);
        b.set(piece);
        this.sndBuf.push(b);
      }
      at += len;
    }
    this.output();
    return n;
  }

  /** Take received bytes (undefined when none are waiting); opens the window as space frees. */
  read(max?: number): Uint8Array | undefined {
    const b = this.rcvQueue.shift(max);
    // A window update, if the opening is worth one, goes with the ACK at the end of this turn:
    // a reader that takes each segment as it arrives reads a whole batch of them first.
    if (b && this.#windowUpdateDue()) this.#ackAtTurnEnd();
    return b;
  }

  /**
   * The window we would advertise now opens enough beyond the one the peer knows to be worth an
   * update (receiver-side SWS avoidance). Once the peer's FIN is in it sends nothing more: an
   * update would only draw a reset from a peer that has since closed (CLOSE-WAIT's reader, or
   * TIME-WAIT's).
   */
  #windowUpdateDue(): boolean {
    if (!this.#isSynchronized() || this.#finReceived) return false;
    const advertised = Math.max(0, seqDiff(this.#rcvAdv, this.rcvNxt));
    return this.#freeRcv() - advertised >= Math.min(this.config.rcvBufMax / 2, 2 * this.#sendMss);
  }

  /** No more data from us: send FIN after what is queued. */
  close(): void {
    switch (this.state) {
      case 'SYN-SENT':
        this.#closed(undefined);
        return;
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        this.state = 'FIN-WAIT-1';
        break;
      case 'CLOSE-WAIT':
        this.state = 'LAST-ACK';
        break;
      default:
        return;
    }
    this.#finSeq = seqAdd(this.sndUna, this.sndBuf.length);
    this.output();
  }

  /** Abort: RST to the peer if it knows us, drop everything. */
  reset(err?: TcpipError): void {
    if (this.state === 'CLOSED') return;
    if (this.state !== 'SYN-SENT' && this.state !== 'TIME-WAIT') {
      this.host.emit(this, this.sndNxt, this.rcvNxt, RST | ACK, 0, undefined, 0, 0);
    }
    this.#closed(err);
  }

  /** Forget the connection without a word to the peer (an evicted half-open one, a recycled TIME-WAIT). */
  abandon(): void {
    this.#closed(undefined);
  }

  setKeepAlive(enable: boolean, idleMs = 7_200_000, intervalMs = 75_000, count = 9): void {
    this.#keepalive = enable ? { idleMs, intervalMs, count, sent: 0 } : undefined;
    if (enable) this.#armKeepalive();
    else if (this.state !== 'TIME-WAIT' && this.state !== 'FIN-WAIT-2') this.#other.cancel();
  }

  // ---- Output ----

  #freeRcv(): number {
    return Math.max(0, this.config.rcvBufMax - this.rcvQueue.length);
  }

  /** The window to advertise (unscaled bytes): never shrinking the right edge we promised. */
  #rcvWindow(): number {
    const promised = Math.max(0, seqDiff(this.#rcvAdv, this.rcvNxt));
    let wnd = this.#freeRcv();
    if (wnd < promised) wnd = promised;
    else if (wnd - promised < Math.min(this.config.rcvBufMax / 2, this.#sendMss) && wnd < this.config.rcvBufMax) wnd = promised;
    return Math.min(wnd, 0xffff << this.#rcvWscale);
  }

  #isSynchronized(): boolean {
    return this.state !== 'SYN-SENT' && this.state !== 'SYN-RECEIVED' && this.state !== 'CLOSED';
  }

  /** Send a segment at `seq` with `len` bytes from the send buffer (starting at seq - sndUna). */
  #sendSegment(seq: number, flags: number, len: number): void {
    const wnd = this.#rcvWindow();
    const field = wnd >> this.#rcvWscale;
    let opts: TcpOptions | undefined = this.#tsOk ? { ts: tsOption(this.#tsVal(), this.#tsRecent) } : undefined;
    // SACK blocks ride on pure ACKs only: on a full-sized segment they would not fit the MTU.
    if (len === 0 && this.#sackOk && this.#ooo.length > 0) (opts ??= {}).sack = this.#sackBlocks();
    this.host.emit(this, seq, this.rcvNxt, flags | ACK, field, opts, len, seqDiff(seq, this.sndUna));
    this.#sentAt = this.host.clock.now();
    if (len > 0) this.stats.dataSegmentsOut++;
    else if ((flags & FIN) === 0) this.stats.acksOut++;
    if (field === 0) this.stats.zeroWindowsOut++;
    this.#rcvAdv = seqAdd(this.rcvNxt, field << this.#rcvWscale);
    this.#lastAckSent = this.rcvNxt;
    this.#unackedSegs = 0;
    this.#delack.clear();
  }

  #sendAck(): void {
    this.#sendSegment(this.sndNxt, 0, 0);
  }

  #challengeAck(): void {
    const now = this.host.clock.now();
    this.#challengeTokens = Math.min(CHALLENGE_ACKS_PER_SECOND,
      this.#challengeTokens + ((now - this.#challengeRefill) * CHALLENGE_ACKS_PER_SECOND) / 1000);
    this.#challengeRefill = now;
    if (this.#challengeTokens < 1) return;
    this.#challengeTokens--;
    this.#sendAck();
  }

  /** The out-of-order data we hold as SACK blocks, the one holding the latest arrival first. */
  #sackBlocks(): SackBlock[] {
    const ranges: { start: number; end: number }[] = [];
    for (const o of this.#ooo) {
      const end = seqAdd(o.seq, o.data.length);
      const last = ranges[ranges.length - 1];
      if (last && seqLe(o.seq, last.end)) {
        if (seqGt(end, last.end)) last.end = end;
      } else ranges.push(seqRange(o.seq, end));
    }
    const first = ranges.findIndex((r) => seqGe(this.#recentOoo, r.start) && seqLt(this.#recentOoo, r.end));
    if (first > 0) ranges.unshift(...ranges.splice(first, 1));
    return ranges.slice(0, this.#tsOk ? MAX_SACK_BLOCKS_WITH_TS : MAX_SACK_BLOCKS);
  }

  /** Note the peer's SACK blocks: only those inside what is in flight count. */
  #takeSack(blocks: readonly SackBlock[]): void {
    for (const b of blocks) {
      const start = seqLt(b.start, this.sndUna) ? this.sndUna : b.start;
      if (!seqLt(start, b.end) || seqGt(b.end, this.sndMax)) continue;
      const s = this.#sacked;
      let i = 0;
      while (i < s.length && seqLt(s[i]!.end, start)) i++;
      // Merge with every range it touches.
      let lo = start;
      let hi = b.end;
      let j = i;
      while (j < s.length && seqLe(s[j]!.start, hi)) {
        if (seqLt(s[j]!.start, lo)) lo = s[j]!.start;
        if (seqGt(s[j]!.end, hi)) hi = s[j]!.end;
        j++;
      }
      if (j === i && s.length >= MAX_SACKED) continue;
      s.splice(i, j - i, seqRange(lo, hi));
    }
  }

  /** Forget SACKed ranges now below sndUna. */
  #pruneSacked(): void {
    const s = this.#sacked;
    while (s.length > 0 && seqLe(s[0]!.end, this.sndUna)) s.shift();
    if (s.length > 0 && seqLt(s[0]!.start, this.sndUna)) s[0]!.start = this.sndUna;
  }

  #sackedBytes(): number {
    let n = 0;
    for (const r of this.#sacked) n += seqDiff(r.end, r.start);
    return n;
  }

  /** In recovery: resend (up to one MSS of) the next hole below SACKed data not yet resent. */
  #retransmitHole(): boolean {
    let p = seqGt(this.#rtxHigh, this.sndUna) ? this.#rtxHigh : this.sndUna;
    for (const r of this.#sacked) {
      if (seqLt(p, r.start)) {
        const len = Math.min(seqDiff(r.start, p), this.#sendMss, this.sndBuf.length - seqDiff(p, this.sndUna));
        if (len <= 0) return false;
        this.#rttSeq = -1; // Karn
        this.stats.retransmits++;
        this.stats.sackRetransmits++;
        this.#sendSegment(p, 0, len);
        this.#rtxHigh = seqAdd(p, len);
        return true;
      }
      if (seqGt(r.end, p)) p = r.end;
    }
    return false;
  }

  /** Send whatever the windows, Nagle and the FIN allow. */
  output(): void {
    if (this.state === 'SYN-SENT' || this.state === 'SYN-RECEIVED' || this.state === 'CLOSED' ||
        this.state === 'TIME-WAIT' || this.state === 'FIN-WAIT-2') return;
    const mss = this.#sendMss;
    for (;;) {
      const inFlight = seqDiff(this.sndNxt, this.sndUna);
      const offset = Math.min(inFlight, this.sndBuf.length);
      const unsent = this.sndBuf.length - offset;
      const finPending = this.#finSeq !== -1 && this.sndNxt === this.#finSeq;
      if (unsent === 0 && !finPending) break;
      const usable = Math.min(this.sndWnd, this.cc.cwnd) - inFlight;
      if (unsent > 0 && usable <= 0) {
        if (this.sndWnd === 0 && inFlight === 0) this.#armPersist();
        break;
      }
      const maxSeg = this.host.gso ? Math.max(mss, Math.floor(Math.min(this.config.gsoMax, 0xffff - 80) / mss) * mss) : mss;
      let len = Math.min(unsent, Math.max(0, usable), maxSeg);
      const fin = finPending || (this.#finSeq !== -1 && len === unsent && unsent > 0);
      // The last bytes written, more than a segment and less than a super-frame, with at least
      // two segments in flight: the peer ACKs those at once (every second full-sized segment),
      // and that ACK sends these with whatever is written meanwhile, as full super-frames rather
      // than a part one after each write (a 64 KiB write is 44 segments and a 1,824-byte tail).
      // Linux's tcp_tso_should_defer holds the write queue's tail too, Nagle on or off, and as
      // it does, not in recovery, nor once the last segment went out TSO_DEFER_MS ago or more
      // (then the tail goes at the next ACK). (It also bounds the wait by the window's room and
      // by when the ACK is expected; here it is due at once, and a loss brings dup ACKs or the
      // RTO, armed while these segments are in flight.) A FIN goes at once.
      if (len === unsent && len > mss && len < maxSeg && inFlight >= 2 * mss && !fin && !this.cc.inRecovery &&
          this.host.clock.now() - this.#sentAt < TSO_DEFER_MS) break;
      // A super-frame ending in a part segment: send the whole segments and leave the part to
      // Nagle, to travel with the bytes written next (Linux's tcp_mss_split_point).
      if (len === unsent && len > mss && inFlight > 0 && !this.noDelay && !fin) len -= len % mss;
      // Nagle (RFC 896): hold a small segment while data is unacknowledged.
      if (len > 0 && len < mss && inFlight > 0 && !this.noDelay && !fin) break;
      // Sender SWS avoidance (RFC 9293 §3.8.6.2.1, where a full segment is a super-frame with
      // GSO): while the window cuts a segment short and ACKs are due, wait for them rather
      // than send a runt; half the congestion window is enough in slow start.
      if (len < unsent && inFlight > 0 && !fin && len < Math.min(maxSeg, this.#maxSndWnd / 2, this.cc.cwnd / 2)) break;
      if (len === 0 && !fin) break;
      this.#sendSegment(this.sndNxt, (fin ? FIN : 0) | (len > 0 && len === unsent ? PSH : 0), len);
      if (this.#rttSeq === -1 && len > 0 && !seqLt(this.sndNxt, this.sndMax)) {
        this.#rttSeq = seqAdd(this.sndNxt, len);
        this.#rttStart = this.host.clock.now();
      }
      this.sndNxt = seqAdd(this.sndNxt, len + (fin ? 1 : 0));
      if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
      // RFC 6298 (5.1): started if it is not running, not restarted by new data, or a sender
      // that writes more often than its RTO would never time out on a segment lost before them.
      if (!this.#rtx.armed || this.#persisting) this.#armRtx();
      if (fin) break;
    }
  }

  /** Resend the first unacknowledged segment (fast retransmit, partial ACK, timeout). */
  #retransmitFirst(): void {
    const len = Math.min(this.sndBuf.length, this.#sendMss, Math.max(0, seqDiff(this.sndMax, this.sndUna)));
    const fin = this.#finSeq !== -1 && seqAdd(this.sndUna, len) === this.#finSeq && seqGt(this.sndMax, this.#finSeq);
    if (len === 0 && !fin) return;
    this.#rttSeq = -1; // Karn: no samples from retransmissions
    this.stats.retransmits++;
    this.#sendSegment(this.sndUna, fin ? FIN : 0, len);
    const end = seqAdd(this.sndUna, len + (fin ? 1 : 0));
    if (seqLt(this.sndNxt, end)) this.sndNxt = end;
    if (seqGt(end, this.#rtxHigh)) this.#rtxHigh = end;
  }

  // ---- Timers ----

  /** (Re)start the retransmission timer: a new deadline; the slot moves its clock timer only when that comes earlier. */
  #armRtx(): void {
    this.#persisting = false;
    this.#rtx.arm(this.rto.rto, this.#rtxFired);
  }

  #onTimeout(): void {
    const opening = this.state === 'SYN-SENT' || this.state === 'SYN-RECEIVED';
    this.#retries++;
    const limit = opening ? this.config.synRetries : this.config.dataRetries;
    if (this.#retries > limit) {
      this.#closed(this.passive && opening ? undefined : new Timeout(`${this.describe}: no answer after ${this.#retries - 1} retransmissions`));
      return;
    }
    this.rto.backoff();
    if (opening) {
      this.stats.retransmits++;
      this.stats.timeouts++;
      this.#sendSyn();
      this.#armRtx();
      return;
    }
    if (this.sndUna === this.sndMax) return;
    this.stats.timeouts++;
    this.cc.onTimeout(seqDiff(this.sndMax, this.sndUna), this.sndMax);
    // After a timeout everything is sent again from sndUna: SACK state may be stale (RFC 6675 §5.1).
    this.#sacked = [];
    this.#rtxHigh = this.sndUna;
    this.sndNxt = this.sndUna;
    this.#retransmitFirst();
    this.#armRtx();
  }

  #armPersist(): void {
    if (this.#rtx.armed) return;
    this.#persisting = true;
    this.#rtx.arm(this.rto.rto, () => {
      this.#persisting = false;
      // A zero-window probe: one byte already acknowledged, so the peer answers with its window.
      if (this.sndWnd === 0 && this.sndUna === this.sndNxt && this.sndBuf.length > 0) {
        this.host.emit(this, seqAdd(this.sndUna, -1), this.rcvNxt, ACK, this.#rcvWindow() >> this.#rcvWscale,
          this.#tsOk ? { ts: tsOption(this.#tsVal(), this.#tsRecent) } : undefined, 0, 0);
        this.stats.zeroWindowProbes++;
        this.rto.backoff();
        this.#armPersist();
      } else this.output();
    });
  }

  /**
   * RFC 9293's "ACK at least every second full-sized segment" (a GSO super-frame counts as the
   * segments it stands for), sent once the frames that arrived together are all in and read.
   */
  #scheduleAck(bytes: number): void {
    this.#unackedSegs += Math.floor(bytes / this.#sendMss);
    if (this.#unackedSegs >= 2) this.#ackAtTurnEnd();
    else this.#delack.ensure(this.config.delayedAckMs, this.#delackFired);
  }

  /**
   * One ACK at the end of this turn, for the segments that arrived in it (the device hands a
   * ring's frames over in one go, as Linux's NAPI poll does) and carrying the window the reads
   * in it opened: one ACK per batch, not one per super-frame and another per read. Nothing
   * waits on a timer: the ACK leaves in the same wake-up as the batch it acknowledges.
   */
  #ackAtTurnEnd(): void {
    if (this.#ackQueued) return;
    this.#ackQueued = true;
    queueMicrotask(() => {
      this.#ackQueued = false;
      if ((this.#unackedSegs > 0 && this.#isSynchronized()) || this.#windowUpdateDue()) this.#sendAck();
    });
  }

  #armKeepalive(): void {
    const ka = this.#keepalive;
    if (!ka || this.state === 'TIME-WAIT' || this.state === 'CLOSED') return;
    const idle = this.host.clock.now() - this.#lastRecv;
    const wait = ka.sent === 0 ? Math.max(0, ka.idleMs - idle) : ka.intervalMs;
    this.#other.arm(wait, () => {
      const idleNow = this.host.clock.now() - this.#lastRecv;
      if (ka.sent === 0 && idleNow < ka.idleMs) return this.#armKeepalive();
      if (ka.sent >= ka.count) {
        this.reset(new Timeout(`${this.describe}: ${ka.count} keepalive probes unanswered`));
        return;
      }
      ka.sent++;
      this.host.emit(this, seqAdd(this.sndUna, -1), this.rcvNxt, ACK, this.#rcvWindow() >> this.#rcvWscale,
        this.#tsOk ? { ts: tsOption(this.#tsVal(), this.#tsRecent) } : undefined, 0, 0);
      this.#armKeepalive();
    });
  }

  /** Bounded: a peer that goes silent without its FIN does not keep us forever. */
  #armFinWait2(): void {
    this.#other.arm(this.config.finWait2Ms, () => this.#closed(undefined));
  }

  #enterTimeWait(): void {
    this.state = 'TIME-WAIT';
    this.#rtx.cancel();
    this.#delack.cancel();
    this.#other.arm(2 * this.config.mslMs, () => this.#closed(undefined));
    this.host.timeWait(this);
  }

  #closed(err: TcpipError | undefined): void {
    if (this.state === 'CLOSED') return;
    this.state = 'CLOSED';
    this.#rtx.cancel();
    this.#delack.cancel();
    this.#other.cancel();
    this.#ooo = [];
    this.host.release(this);
    this.events?.onClosed(err);
  }

  // ---- Suspend and resume (the guest's stack travels in its suspend record) ----

  /**
   * The TCB as plain data, times as ms relative to now (the clock of the host that resumes it
   * starts elsewhere); `unread`: received bytes handed to the stream but not yet consumed (they
   * go back before the receive queue).
   */
  snapshot(unread: Uint8Array): ConnectionSnapshot {
    const now = this.host.clock.now();
    const closing = this.state === 'TIME-WAIT' || this.state === 'FIN-WAIT-2';
    return {
      state: this.state, localPort: this.localPort, remoteAddr: this.remoteAddr, remotePort: this.remotePort, passive: this.passive,
      iss: this.iss, sndUna: this.sndUna, sndNxt: this.sndNxt, sndMax: this.sndMax, sndWnd: this.sndWnd, maxSndWnd: this.#maxSndWnd,
      sndWl1: this.#sndWl1, sndWl2: this.#sndWl2, sndWscale: this.#sndWscale, finSeq: this.#finSeq,
      sndBuf: concat(this.sndBuf),
      irs: this.#irs, rcvNxt: this.rcvNxt, rcvAdv: this.#rcvAdv, rcvWscale: this.#rcvWscale, wsOk: this.#wsOk,
      rcvQueue: concat(this.rcvQueue, unread),
      ooo: this.#ooo.map((o) => heldSegment(o.seq, o.data.slice(), o.fin)),
      finReceived: this.#finReceived, lastAckSent: this.#lastAckSent,
      sendMss: this.#sendMss, tsOk: this.#tsOk, tsRecent: this.#tsRecent, tsVal: this.#tsVal(), sackOk: this.#sackOk,
      recentOoo: this.#recentOoo, sacked: this.#sacked.map((r) => seqRange(r.start, r.end)), rtxHigh: this.#rtxHigh,
      srtt: this.rto.srtt, rttvar: this.rto.rttvar, rto: this.rto.rto,
      cwnd: this.cc.cwnd, ssthresh: this.cc.ssthresh, dupAcks: this.cc.dupAcks, inRecovery: this.cc.inRecovery, recover: this.cc.recover,
      rttSeq: this.#rttSeq, rttAgeMs: now - this.#rttStart, retries: this.#retries,
      rtxInMs: this.#rtx.armed ? Math.max(0, this.#rtx.due - now) : -1, persisting: this.#persisting,
      delackArmed: this.#delack.armed, otherInMs: closing && this.#other.armed ? Math.max(0, this.#other.due - now) : -1,
      idleMs: now - this.#lastRecv, noDelay: this.noDelay, stats: { ...this.stats },
      keepalive: this.#keepalive ? { ...this.#keepalive } : undefined,
    };
  }

  /** A connection carried on from a snapshot (checked by checkConnectionSnapshot): its timers armed with what was left of them. */
  static restore(host: TcpHost, s: ConnectionSnapshot): Connection {
    const c = new Connection(host, s.localPort, s.remoteAddr, s.remotePort, s.passive, s.iss);
    const now = host.clock.now();
    c.state = s.state;
    c.sndUna = s.sndUna;
    c.sndNxt = s.sndNxt;
    c.sndMax = s.sndMax;
    c.sndWnd = s.sndWnd;
    c.#maxSndWnd = s.maxSndWnd;
    c.#sndWl1 = s.sndWl1;
    c.#sndWl2 = s.sndWl2;
    c.#sndWscale = s.sndWscale;
    c.#finSeq = s.finSeq;
    for (let at = 0; at < s.sndBuf.length; at += POOL_LARGE) c.sndBuf.push(s.sndBuf.slice(at, at + POOL_LARGE));
    c.#irs = s.irs;
    c.rcvNxt = s.rcvNxt;
    c.#rcvAdv = s.rcvAdv;
    c.#rcvWscale = s.rcvWscale;
    c.#wsOk = s.wsOk;
    c.rcvQueue.push(s.rcvQueue);
    c.#ooo = s.ooo.map((o) => heldSegment(o.seq, o.data, o.fin));
    c.#finReceived = s.finReceived;
    c.#lastAckSent = s.lastAckSent;
    c.#sendMss = s.sendMss;
    c.#tsOk = s.tsOk;
    c.#tsRecent = s.tsRecent;
    // Our timestamps go on from where they were: the peer's PAWS check needs them not to fall.
    c.#tsOffset = (s.tsVal - Math.floor(now)) >>> 0;
    c.#sackOk = s.sackOk;
    c.#recentOoo = s.recentOoo;
    c.#sacked = s.sacked.map((r) => seqRange(r.start, r.end));
    c.#rtxHigh = s.rtxHigh;
    c.rto.restore(s.srtt, s.rttvar, s.rto);
    Object.assign(c.cc, { cwnd: s.cwnd, ssthresh: s.ssthresh, dupAcks: s.dupAcks, inRecovery: s.inRecovery, recover: s.recover });
    c.cc.setMss(s.sendMss);
    c.#rttSeq = s.rttSeq;
    c.#rttStart = now - s.rttAgeMs;
    c.#retries = s.retries;
    c.#lastRecv = now - s.idleMs;
    c.noDelay = s.noDelay;
    Object.assign(c.stats, s.stats);
    c.#keepalive = s.keepalive ? { ...s.keepalive } : undefined;
    if (s.rtxInMs >= 0) {
      if (s.persisting) {
        c.#persisting = true;
        c.#rtx.arm(s.rtxInMs, () => {
          c.#persisting = false;
          c.output();
        });
      } else {
        // What was in flight went out just before the suspend, maybe into a vif that was going:
        // send its first segment again at once rather than after what was left of the RTO.
        c.#rtx.arm(0, () => {
          if (c.sndUna === c.sndMax) return;
          c.#retransmitFirst();
          c.#armRtx();
        });
        c.#resendWhenHeard = true;
      }
    }
    if (s.delackArmed) c.#delack.arm(0, () => c.#sendAck());
    if (s.state === 'TIME-WAIT' || s.state === 'FIN-WAIT-2') c.#other.arm(Math.max(0, s.otherInMs), () => c.#closed(undefined));
    else if (c.#keepalive) c.#armKeepalive();
    return c;
  }

  /**
   * A SYN for this TIME-WAIT connection's 4-tuple may open a new one (RFC 6191): its timestamp
   * is newer than the last we saw, or, equal or without timestamps, its sequence number is beyond
   * the last the peer sent here (rcvNxt).
   */
  supersededBy(seg: Segment): boolean {
    const ts = seg.opts.ts;
    if (this.#tsOk && ts && ts.val !== this.#tsRecent) return seqGt(ts.val, this.#tsRecent);
    return seqGt(seg.seq, this.rcvNxt);
  }

  // ---- Input (RFC 9293 §3.10.7) ----

  input(seg: Segment): void {
    this.#input(seg);
    if (!this.#resendWhenHeard) return;
    this.#resendWhenHeard = false;
    if (this.#isSynchronized() && this.sndUna !== this.sndMax) {
      this.#retransmitFirst();
      this.#armRtx();
    }
  }

  #input(seg: Segment): void {
    this.#lastRecv = this.host.clock.now();
    if (this.#keepalive) this.#keepalive.sent = 0;
    if (this.state === 'SYN-SENT') return this.#inputSynSent(seg);
    const flags = seg.flags;
    // A retransmitted SYN while we wait for the handshake's ACK: answer it again.
    if (this.state === 'SYN-RECEIVED' && (flags & (SYN | ACK | RST)) === SYN && seg.seq === this.#irs) {
      this.#sendSyn();
      return;
    }
    let seq = seg.seq;
    let data = seg.payload;
    let fin = (flags & FIN) !== 0;
    const syn = (flags & SYN) !== 0;
    const segLen = data.length + (syn ? 1 : 0) + (fin ? 1 : 0);
    const wnd = Math.max(0, seqDiff(this.#rcvAdv, this.rcvNxt));
    // 1. Sequence number acceptable? (and PAWS, RFC 7323 §5)
    let ok: boolean;
    if (segLen === 0) ok = wnd === 0 ? seq === this.rcvNxt : seqGe(seq, this.rcvNxt) && seqLt(seq, seqAdd(this.rcvNxt, wnd));
    else if (wnd === 0) ok = seq === this.rcvNxt && (flags & (RST | ACK)) !== 0; // data is trimmed off below
    else {
      const last = seqAdd(seq, segLen - 1);
      ok = (seqGe(seq, this.rcvNxt) && seqLt(seq, seqAdd(this.rcvNxt, wnd))) ||
           (seqGe(last, this.rcvNxt) && seqLt(last, seqAdd(this.rcvNxt, wnd)));
    }
    if (ok && this.#tsOk && seg.opts.ts && (flags & RST) === 0 && seqLt(seg.opts.ts.val, this.#tsRecent)) ok = false;
    if (!ok) {
      if ((flags & RST) === 0) this.#sendAck();
      return;
    }
    // 2. RST (RFC 5961 §3): only an exact match resets; in-window gets a challenge ACK.
    if (flags & RST) {
      if (seq !== this.rcvNxt) return this.#challengeAck();
      if (this.state === 'SYN-RECEIVED' && this.passive) return this.#closed(undefined);
      const closing = this.state === 'CLOSING' || this.state === 'LAST-ACK' || this.state === 'TIME-WAIT';
      return this.#closed(closing ? undefined : new ConnectionReset(`${this.describe} reset the connection`));
    }
    // 4. SYN in a synchronized state (RFC 5961 §4): challenge ACK, never a reset.
    if (syn) {
      if (this.state === 'SYN-RECEIVED' && this.passive) return this.#closed(undefined);
      return this.#challengeAck();
    }
    // Trim to the window: bytes before rcvNxt were seen; bytes beyond the window are not ours yet.
    const before = seqDiff(this.rcvNxt, seq);
    if (before > 0) {
      data = data.subarray(Math.min(before, data.length));
      seq = this.rcvNxt;
    }
    const room = Math.max(0, seqDiff(seqAdd(this.rcvNxt, wnd), seq));
    if (data.length > room) {
      data = data.subarray(0, room);
      fin = false;
    }
    // 5. ACK.
    if ((flags & ACK) === 0) return;
    if (this.state === 'SYN-RECEIVED') {
      if (!seqGt(seg.ack, this.sndUna) || seqGt(seg.ack, this.sndMax)) {
        this.host.emit(this, seg.ack, 0, RST, 0, undefined, 0, 0);
        return;
      }
      this.#tsRecent = seg.opts.ts?.val ?? this.#tsRecent;
      this.state = this.#finSeq !== -1 ? 'FIN-WAIT-1' : 'ESTABLISHED';
      this.sndUna = seg.ack;
      this.sndWnd = seg.window << this.#sndWscale;
      this.#maxSndWnd = this.sndWnd;
      this.#sndWl1 = seg.seq;
      this.#sndWl2 = seg.ack;
      if (this.#retries > 0) this.rto.handshakeTimedOut();
      this.#retries = 0;
      this.#rtx.clear();
      this.host.established(this);
      this.events?.onEstablished();
      if ((this.state as TcpState) === 'CLOSED') return;
    } else if (!this.#processAck(seg)) {
      this.output(); // LAST-ACK and CLOSING may still have data to send
      return;
    }
    if (this.state === 'CLOSED') return;
    if (this.#tsOk && seg.opts.ts && seqLe(seg.seq, this.#lastAckSent)) this.#tsRecent = seg.opts.ts.val;
    // 7. Data.
    if ((data.length > 0 || fin) &&
        (this.state === 'ESTABLISHED' || this.state === 'FIN-WAIT-1' || this.state === 'FIN-WAIT-2')) {
      this.#receive(seq, data, fin, seg.owned === true);
    }
    this.output();
  }

  /** Step 5 for synchronized states; false when the segment is to be dropped. */
  #processAck(seg: Segment): boolean {
    const ack = seg.ack;
    if (seqGt(ack, this.sndMax)) {
      this.#sendAck();
      return false;
    }
    if (seqLt(ack, seqAdd(this.sndUna, -Math.max(this.#maxSndWnd, 1)))) {
      this.#challengeAck();
      return false;
    }
    const wndField = seg.window << this.#sndWscale;
    if (this.#sackOk && seg.opts.sack) this.#takeSack(seg.opts.sack);
    let writable = false;
    if (seqGt(ack, this.sndUna)) {
      const flightBefore = seqDiff(this.sndMax, this.sndUna);
      const acked = seqDiff(ack, this.sndUna);
      this.sndBuf.drop(acked);
      this.sndUna = ack;
      if (seqLt(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
      this.#retries = 0;
      // RTT: from the timestamp echo when there is one, else the one timed segment (Karn).
      if (this.#tsOk && seg.opts.ts && seg.opts.ts.ecr !== 0) {
        this.rto.sample(seqDiff(this.#tsVal(), seg.opts.ts.ecr));
      } else if (this.#rttSeq !== -1 && seqGe(ack, this.#rttSeq)) {
        this.rto.sample(this.host.clock.now() - this.#rttStart);
      }
      if (this.#rttSeq !== -1 && seqGe(ack, this.#rttSeq)) this.#rttSeq = -1;
      this.#pruneSacked();
      // A partial ACK: resend the next hole SACK shows, else (NewReno) the segment at sndUna
      // unless this recovery resent it already.
      if (this.cc.onAck(ack, acked, flightBefore) === 'partial' && !this.#retransmitHole() &&
          !seqGt(this.#rtxHigh, this.sndUna)) this.#retransmitFirst();
      if (this.sndUna === this.sndMax) this.#rtx.clear();
      else this.#armRtx();
      writable = this.sendSpace > 0;
    } else if (ack === this.sndUna && seg.payload.length === 0 && (seg.flags & (SYN | FIN)) === 0 &&
               wndField === this.sndWnd && this.sndUna !== this.sndMax) {
      this.stats.dupAcksIn++;
      const lost = this.#sackOk && this.#sackedBytes() >= 3 * this.#sendMss;
      if (this.cc.onDupAck(ack, seqDiff(this.sndMax, this.sndUna), this.sndMax, lost)) {
        this.stats.fastRetransmits++;
        this.#rtxHigh = this.sndUna;
        this.#retransmitFirst();
      } else if (this.cc.inRecovery) this.#retransmitHole();
    }
    if (seqLt(this.#sndWl1, seg.seq) || (this.#sndWl1 === seg.seq && seqLe(this.#sndWl2, ack))) {
      const opened = this.sndWnd === 0 && wndField > 0;
      this.sndWnd = wndField;
      this.#maxSndWnd = Math.max(this.#maxSndWnd, wndField);
      this.#sndWl1 = seg.seq;
      this.#sndWl2 = ack;
      if (opened && this.#persisting) this.#rtx.cancel();
    }
    // The writer hears of the room only now: what it writes is sent at once (output()), within
    // this ACK's window. Told before the update, it was sent within the last window measured
    // from this ACK, past the right edge the peer gave by the bytes this ACK acknowledged.
    if (writable) {
      this.events?.onWritable();
      if (this.state === 'CLOSED') return false;
    }
    if (this.sndWnd === 0 && ack === this.sndUna && this.#isSynchronized()) {
      // The peer is alive and its window is shut: stop retransmitting into it and probe
      // instead, for as long as it keeps answering (RFC 9293 §3.8.6.1).
      this.#retries = 0;
      if (seqGt(this.sndNxt, this.sndUna) && this.#finSeq === -1) {
        this.sndNxt = this.sndUna;
        if (!this.#persisting) this.#rtx.cancel();
      }
    }
    const finAcked = this.#finSeq !== -1 && seqGt(this.sndUna, this.#finSeq);
    switch (this.state) {
      case 'FIN-WAIT-1':
        if (finAcked) {
          this.state = 'FIN-WAIT-2';
          this.#armFinWait2();
        }
        break;
      case 'FIN-WAIT-2':
        this.#armFinWait2();
        break;
      case 'CLOSING':
        if (finAcked) this.#enterTimeWait();
        return false;
      case 'LAST-ACK':
        if (finAcked) this.#closed(undefined);
        return false;
      case 'TIME-WAIT':
        if (seg.flags & FIN) {
          this.#sendAck();
          this.#other.arm(2 * this.config.mslMs, () => this.#closed(undefined));
        }
        return false;
      default:
        break;
    }
    return true;
  }

  #receive(seq: number, data: Uint8Array, fin: boolean, owned: boolean): void {
    if (seq !== this.rcvNxt) {
      // Out of order: keep it (bounded) and send a duplicate ACK at once.
      this.stats.outOfOrderIn++;
      if (this.#ooo.length < MAX_OOO && data.length > 0) {
        let i = this.#ooo.length;
        while (i > 0 && seqGt(this.#ooo[i - 1]!.seq, seq)) i--;
        const prev = this.#ooo[i - 1];
        this.#recentOoo = seq;
        if (!(prev && prev.seq === seq && prev.data.length >= data.length)) {
          this.#ooo.splice(i, 0, heldSegment(seq, owned ? data : this.host.slab.copy(data), fin));
        }
      }
      this.#sendAck();
      return;
    }
    const filledHole = this.#ooo.length > 0;
    this.#accept(data, fin, owned);
    while (this.#ooo.length > 0 && !this.#finReceived) {
      const o = this.#ooo[0]!;
      if (seqGt(o.seq, this.rcvNxt)) break;
      this.#ooo.shift();
      const skip = seqDiff(this.rcvNxt, o.seq);
      if (skip < o.data.length || (skip === o.data.length && o.fin)) this.#accept(o.data.subarray(skip), o.fin, true);
    }
    if (fin || filledHole || this.#finReceived) this.#sendAck();
    // A reader that took the bytes as they came (onBytes) may have answered already, the ACK
    // riding on its answer: then no delayed ACK is due, which would only repeat it later.
    else if (this.#lastAckSent !== this.rcvNxt) this.#scheduleAck(data.length);
    this.events?.onReadable();
  }

  #accept(data: Uint8Array, fin: boolean, owned: boolean): void {
    if (data.length > 0) {
      this.rcvNxt = seqAdd(this.rcvNxt, data.length);
      if (this.reader && this.rcvQueue.length === 0) this.reader(data);
      // A frame is valid during the call only, unless it is owned (NetFrameInfo.owned): keep a copy.
      else this.rcvQueue.push(owned ? data : this.host.slab.copy(data));
    }
    if (fin && !this.#finReceived) {
      this.#finReceived = true;
      this.#ooo = [];
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      switch (this.state) {
        case 'ESTABLISHED': this.state = 'CLOSE-WAIT'; break;
        case 'FIN-WAIT-1':
          if (this.#finSeq !== -1 && seqGt(this.sndUna, this.#finSeq)) this.#enterTimeWait();
          else this.state = 'CLOSING';
          break;
        case 'FIN-WAIT-2':
          this.#other.cancel();
          this.#enterTimeWait();
          break;
        default: break;
      }
    }
  }

  #inputSynSent(seg: Segment): void {
    const f = seg.flags;
    const ackOk = (f & ACK) !== 0 && seqGt(seg.ack, this.iss) && seqLe(seg.ack, this.sndMax);
    if ((f & ACK) && !ackOk) {
      if (!(f & RST)) this.host.emit(this, seg.ack, 0, RST, 0, undefined, 0, 0);
      return;
    }
    if (f & RST) {
      if (ackOk) this.#closed(new ConnectionRefused(`${this.describe} refused the connection`));
      return;
    }
    if (!(f & SYN)) return;
    this.#irs = seg.seq;
    this.rcvNxt = this.#rcvAdv = seqAdd(seg.seq, 1);
    this.#takeSynOptions(seg);
    this.sndWnd = seg.window; // unscaled in a SYN
    this.#sndWl1 = seg.seq;
    this.#sndWl2 = seg.ack;
    if (ackOk) {
      this.sndUna = seg.ack;
      this.#maxSndWnd = this.sndWnd;
      this.state = 'ESTABLISHED';
      if (this.#retries === 0) this.rto.sample(this.host.clock.now() - this.#rttStart); // Karn
      else this.rto.handshakeTimedOut();
      this.#retries = 0;
      this.#rtx.clear();
      this.#sendAck();
      this.host.established(this);
      this.events?.onEstablished();
      this.output();
    } else {
      // Simultaneous open: answer with SYN-ACK from the same ISN.
      this.state = 'SYN-RECEIVED';
      this.#sendSyn();
      this.#armRtx();
    }
  }

  /** The peer or the path is gone (ICMP hard error): fail the open, or keep trying (RFC 1122 soft errors). */
  unreachable(refused: boolean): void {
    if (this.state !== 'SYN-SENT') return;
    this.#closed(refused ? new ConnectionRefused(`${this.describe}: port unreachable`) : new NoRoute(`${this.describe}: unreachable`));
  }

  /** ICMP says the path MTU fell: send smaller segments from now on. */
  pathMtuChanged(): void {
    const mss = Math.max(64, this.#ourMss() - (this.#tsOk ? TS_OPT_LEN : 0));
    if (mss < this.#sendMss) {
      this.#sendMss = mss;
      this.cc.setMss(mss);
      if (this.sndUna !== this.sndMax) {
        this.sndNxt = this.sndUna;
        this.output();
      }
    }
  }
}

/** A byte queue's bytes as one array, `before` ahead of them. */
function concat(q: ByteQueue, before: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(before.length + q.length);
  out.set(before);
  q.copyTo(0, q.length, out, before.length);
  return out;
}
