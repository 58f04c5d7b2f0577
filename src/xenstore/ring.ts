// The xenstore ring (xen/io/xs_wire.h struct xenstore_domain_interface, docs/misc/xenstore-ring.txt):
// two 1024-byte byte rings with free-running u32 indices in a 4 KiB page shared between a guest
// and xenstored, signalled through an event channel. Both ends live here: the server end that
// xenstored runs for every introduced domain, and the client end a guest's library OS uses.
//
// The page belongs to the peer as much as to us, so every index the peer writes is read once
// (Atomics.load into a local), checked, and only then used; the indices we own are kept in
// private copies and only ever stored to the page, so a peer that scribbles on them hurts itself.
import {
  XENSTORE_CONNECTED, XENSTORE_ERROR_COMM, XENSTORE_ERROR_NONE, XENSTORE_ERROR_PROTO, XENSTORE_ERROR_RINGIDX, XENSTORE_RECONNECT, XENSTORE_RING_SIZE,
  XENSTORE_SERVER_FEATURE_ERROR, XENSTORE_SERVER_FEATURE_RECONNECTION, XS_INTF_CONNECTION, XS_INTF_ERROR,
  XS_INTF_REQ, XS_INTF_REQ_CONS, XS_INTF_REQ_PROD, XS_INTF_RSP, XS_INTF_RSP_CONS, XS_INTF_RSP_PROD,
  XS_INTF_SERVER_FEATURES,
} from '../abi/xs_wire.js';
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import type { XsClientTransport } from './client-transport.js';
import type { CloseReason, ConnectionSink, DomainRing, ServerTransport } from './transport.js';

const MASK = XENSTORE_RING_SIZE - 1;
// Word indices of the control fields in a Uint32Array over the page.
const W_REQ_CONS = XS_INTF_REQ_CONS >> 2;
const W_REQ_PROD = XS_INTF_REQ_PROD >> 2;
const W_RSP_CONS = XS_INTF_RSP_CONS >> 2;
const W_RSP_PROD = XS_INTF_RSP_PROD >> 2;
const W_FEATURES = XS_INTF_SERVER_FEATURES >> 2;
const W_CONNECTION = XS_INTF_CONNECTION >> 2;
const W_ERROR = XS_INTF_ERROR >> 2;

/** What the server end offers in server_features. */
export const SERVER_FEATURES = XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR;

/**
 * Bytes moved from the peer's ring per service pass before yielding to the event loop, so a
 * guest that keeps its ring full cannot starve dom0 or the other domains.
 */
const MAX_BYTES_PER_PASS = 16 * XENSTORE_RING_SIZE;
/** A server end stops reading requests while this many reply bytes wait for room (flow control). */
const SERVER_READ_HOLD_OFF = 4 * XENSTORE_RING_SIZE;

const ERROR_NAMES: Record<number, string> = {
  [XENSTORE_ERROR_COMM]: 'XENSTORE_ERROR_COMM',
  [XENSTORE_ERROR_RINGIDX]: 'XENSTORE_ERROR_RINGIDX',
  [XENSTORE_ERROR_PROTO]: 'XENSTORE_ERROR_PROTO',
};

/** The xs_wire.h name of a ring `error` value (for messages). */
export function ringErrorName(code: number): string {
  return ERROR_NAMES[code] ?? `error ${code}`;
}

function controlWords(page: Uint8Array): Uint32Array {
  if (page.byteLength < PAGE_SIZE) {
    throw new XenError('EINVAL', `xenstore ring page is ${page.byteLength} bytes, need ${PAGE_SIZE}`);
  }
  if (page.byteOffset % 4 !== 0) {
    throw new XenError('EINVAL', 'xenstore ring page is not 4-byte aligned');
  }
  return new Uint32Array(page.buffer, page.byteOffset, PAGE_SIZE >> 2);
}

/** A FIFO of byte chunks waiting for room in the ring we produce into. */
class Backlog {
  #chunks: Uint8Array[] = [];
  #head = 0; // offset already written from chunks[0]
  bytes = 0;

  push(b: Uint8Array): void {
    this.#chunks.push(b);
    this.bytes += b.byteLength;
  }

  /** Copy up to `room` bytes into `dst` at ring offset `prod`; returns the count. */
  drainInto(data: Uint8Array, prod: number, room: number): number {
    let done = 0;
    while (done < room && this.#chunks.length > 0) {
      const c = this.#chunks[0]!;
      const n = Math.min(room - done, c.byteLength - this.#head);
      copyIn(data, (prod + done) & MASK, c.subarray(this.#head, this.#head + n));
      done += n;
      this.#head += n;
      if (this.#head === c.byteLength) {
        this.#chunks.shift();
        this.#head = 0;
      }
    }
    this.bytes -= done;
    return done;
  }

  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.bytes = 0;
  }
}

/** Write `src` (at most a ring's worth) into a ring at masked offset `at`, wrapping once. */
function copyIn(data: Uint8Array, at: number, src: Uint8Array): void {
  const first = Math.min(src.byteLength, XENSTORE_RING_SIZE - at);
  data.set(first === src.byteLength ? src : src.subarray(0, first), at);
  if (first < src.byteLength) data.set(src.subarray(first), 0);
}

/** Copy `n` bytes out of a ring from masked offset `at` into private memory. */
function copyOut(data: Uint8Array, at: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const first = Math.min(n, XENSTORE_RING_SIZE - at);
  out.set(data.subarray(at, at + first), 0);
  if (first < n) out.set(data.subarray(0, n - first), first);
  return out;
}

/**
 * One end of the page: consumes one byte ring and produces into the other. The server end
 * consumes `req` and produces `rsp`; the client end the opposite.
 */
abstract class RingEnd {
  protected readonly words: Uint32Array;
  protected readonly port: DomainRing['evtchn'];
  readonly #inData: Uint8Array;
  readonly #outData: Uint8Array;
  readonly #inCons: number;
  readonly #inProd: number;
  readonly #outCons: number;
  readonly #outProd: number;
  /** Private copies of the two indices this end owns. */
  protected myInCons: number;
  protected myOutProd: number;
  protected readonly backlog = new Backlog();
  #unsubscribe: (() => void) | undefined;
  #notifyQueued = false;
  #passQueued = false;
  /** Set once the ring may no longer be used (peer broke it, or it was closed). */
  protected stopped = false;

  constructor(ring: DomainRing, inIsReq: boolean) {
    this.words = controlWords(ring.page);
    this.port = ring.evtchn;
    const page = ring.page;
    const req = page.subarray(XS_INTF_REQ, XS_INTF_REQ + XENSTORE_RING_SIZE);
    const rsp = page.subarray(XS_INTF_RSP, XS_INTF_RSP + XENSTORE_RING_SIZE);
    this.#inData = inIsReq ? req : rsp;
    this.#outData = inIsReq ? rsp : req;
    this.#inCons = inIsReq ? W_REQ_CONS : W_RSP_CONS;
    this.#inProd = inIsReq ? W_REQ_PROD : W_RSP_PROD;
    this.#outCons = inIsReq ? W_RSP_CONS : W_REQ_CONS;
    this.#outProd = inIsReq ? W_RSP_PROD : W_REQ_PROD;
    // Neither end may assume the indices start at zero (xenstore-ring.txt).
    this.myInCons = Atomics.load(this.words, this.#inCons);
    this.myOutProd = Atomics.load(this.words, this.#outProd);
  }

  protected listen(): void {
    this.#unsubscribe = this.port.onEvent(() => this.service());
  }

  protected unlisten(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Handle an event (or a deferred pass): the subclass checks control fields, then calls pump(). */
  protected abstract service(): void;
  /** The peer broke the ring (impossible indices). */
  protected abstract broken(code: number, why: string): void;
  /** Bytes arrived from the peer. */
  protected abstract deliver(bytes: Uint8Array): void;
  /** Whether to take more input now (flow control). */
  protected wantInput(): boolean {
    return true;
  }

  /** Re-read our own indices from the page after a reset. */
  protected resync(): void {
    this.myInCons = Atomics.load(this.words, this.#inCons);
    this.myOutProd = Atomics.load(this.words, this.#outProd);
    this.backlog.clear();
  }

  /** Queue bytes for the peer and write what fits now. */
  protected enqueue(bytes: Uint8Array): void {
    if (this.backlog.bytes > 0) {
      // Copy what we keep: the caller may reuse its buffer once we return.
      this.backlog.push(bytes.slice());
      this.flushOut();
      return;
    }
    const room = this.#room();
    if (room === undefined) return;
    const n = Math.min(room, bytes.byteLength);
    if (n > 0) {
      copyIn(this.#outData, this.myOutProd & MASK, bytes.subarray(0, n));
      this.#produced(n);
    }
    if (n < bytes.byteLength) this.backlog.push(bytes.slice(n));
  }

  /** Free bytes in the out ring, or undefined if the peer broke it. */
  #room(): number | undefined {
    if (this.stopped) return undefined;
    const cons = Atomics.load(this.words, this.#outCons);
    const used = (this.myOutProd - cons) >>> 0;
    if (used > XENSTORE_RING_SIZE) {
      this.broken(XENSTORE_ERROR_RINGIDX, `consumer index ${cons} is ${used} bytes behind producer`);
      return undefined;
    }
    return XENSTORE_RING_SIZE - used;
  }

  #produced(n: number): void {
    this.myOutProd = (this.myOutProd + n) >>> 0;
    Atomics.store(this.words, this.#outProd, this.myOutProd);
    this.queueNotify();
  }

  /** Move backlog into the out ring. */
  protected flushOut(): void {
    if (this.backlog.bytes === 0) return;
    const room = this.#room();
    if (!room) return;
    const n = this.backlog.drainInto(this.#outData, this.myOutProd, room);
    if (n > 0) this.#produced(n);
  }

  /** Take what the peer produced. */
  protected fillIn(): void {
    let moved = 0;
    while (!this.stopped && moved < MAX_BYTES_PER_PASS && this.wantInput()) {
      const prod = Atomics.load(this.words, this.#inProd);
      const avail = (prod - this.myInCons) >>> 0;
      if (avail > XENSTORE_RING_SIZE) {
        this.broken(XENSTORE_ERROR_RINGIDX, `producer index ${prod} is ${avail} bytes ahead of consumer`);
        return;
      }
      if (avail === 0) return;
      const bytes = copyOut(this.#inData, this.myInCons & MASK, avail);
      this.myInCons = (this.myInCons + avail) >>> 0;
      Atomics.store(this.words, this.#inCons, this.myInCons);
      // The peer may be waiting for room.
      this.queueNotify();
      moved += avail;
      this.deliver(bytes);
    }
    // Stopped on the per-pass budget with input left: come back after other work had a turn.
    if (!this.stopped && moved >= MAX_BYTES_PER_PASS) this.queuePass();
  }

  /** One pass both ways: room the peer made first, then its input (which may answer at once). */
  protected pump(): void {
    this.flushOut();
    this.fillIn();
  }

  /** Coalesce notifications: many writes in one turn cost the peer one wake-up. */
  protected queueNotify(): void {
    if (this.#notifyQueued) return;
    this.#notifyQueued = true;
    queueMicrotask(() => {
      this.#notifyQueued = false;
      if (!this.stopped) this.port.notify();
    });
  }

  protected queuePass(): void {
    if (this.#passQueued) return;
    this.#passQueued = true;
    setImmediate(() => {
      this.#passQueued = false;
      this.service();
    });
  }

  protected readWord(w: number): number {
    return Atomics.load(this.words, w);
  }

  protected writeWord(w: number, v: number): void {
    Atomics.store(this.words, w, v);
  }
}

/**
 * xenstored's end of a domain's ring: request bytes go to the connection's `receive`, reply
 * bytes from `send` go into the rsp ring, held back while the guest has not made room.
 */
export class XenstoreRingServer extends RingEnd implements ServerTransport {
  readonly #sink: ConnectionSink;
  #closed = false;

  constructor(ring: DomainRing, sink: ConnectionSink) {
    super(ring, true);
    this.#sink = sink;
    sink.onInputSpace = () => this.queuePass();
    // Advertised before any byte is consumed or produced, as the reconnection feature requires.
    Atomics.or(this.words, W_FEATURES, SERVER_FEATURES);
    this.listen();
    // The guest may have written (and signalled) before we were attached; look once the
    // daemon has finished wiring the connection to us.
    this.queuePass();
  }

  /** SendBytes: returns the reply bytes still waiting for room in the rsp ring. */
  readonly send = (bytes: Uint8Array): number => {
    if (this.#closed || this.stopped) return 0;
    if (bytes.byteLength > 0) this.enqueue(bytes);
    return this.backlog.bytes;
  };

  /** xenstored dropped the peer: record why in `error` and stop using the ring for good. */
  close(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    if (reason !== XENSTORE_ERROR_NONE && !this.stopped) {
      this.writeWord(W_ERROR, reason);
      this.port.notify();
    }
    this.stopped = true;
    this.backlog.clear();
    this.unlisten();
    this.port.close();
  }

  protected service(): void {
    if (this.#closed) return;
    // A guest may ask for a reset at any time, including after the ring broke.
    if (this.readWord(W_CONNECTION) === XENSTORE_RECONNECT) {
      this.#reconnect();
      return;
    }
    if (this.stopped) return;
    const held = this.backlog.bytes;
    this.pump();
    if (this.backlog.bytes < held) this.#sink.outputPending?.(this.backlog.bytes);
  }

  protected override wantInput(): boolean {
    return this.backlog.bytes < SERVER_READ_HOLD_OFF && this.#sink.wantsInput !== false;
  }

  protected deliver(bytes: Uint8Array): void {
    this.#sink.receive(bytes);
  }

  protected broken(code: number): void {
    // xenstore-ring.txt "connection error feature": report, then stop talking and drop the
    // connection's packets, requests, watches and transactions; a reconnect may revive it.
    this.writeWord(W_ERROR, code);
    this.stopped = true;
    this.backlog.clear();
    this.#sink.reset();
    this.port.notify();
  }

  #reconnect(): void {
    this.#sink.reset();
    for (const w of [W_REQ_CONS, W_REQ_PROD, W_RSP_CONS, W_RSP_PROD]) this.writeWord(w, 0);
    this.writeWord(W_ERROR, XENSTORE_ERROR_NONE);
    this.resync();
    this.stopped = false;
    // Last: the guest ignores every other field until it sees this.
    this.writeWord(W_CONNECTION, XENSTORE_CONNECTED);
    this.port.notify();
  }
}

/** The ServeRing of transport.ts: attach xenstored's connection `sink` to a domain's ring. */
export function serveRing(ring: DomainRing, sink: ConnectionSink): ServerTransport {
  return new XenstoreRingServer(ring, sink);
}

/**
 * A guest's end of its xenstore ring, as a client transport: requests into `req`, replies and
 * watch events out of `rsp`.
 */
export class XenstoreRingClient extends RingEnd implements XsClientTransport {
  #onData: ((bytes: Uint8Array) => void) | undefined;
  #onClose: ((err: XenError) => void) | undefined;
  #early: Uint8Array[] = [];
  #closed = false;
  #reconnecting: { resolve: () => void } | undefined;

  constructor(ring: DomainRing) {
    super(ring, false);
    this.listen();
    // Someone else may have started a reset (xenstore-ring.txt): wait for it like our own.
    if (this.readWord(W_CONNECTION) === XENSTORE_RECONNECT) this.#awaitReconnect();
    else this.queuePass();
  }

  get serverFeatures(): number {
    return this.readWord(W_FEATURES);
  }

  start(onData: (bytes: Uint8Array) => void, onClose: (err: XenError) => void): void {
    this.#onData = onData;
    this.#onClose = onClose;
    for (const b of this.#early.splice(0)) onData(b);
  }

  send(bytes: Uint8Array): void {
    if (this.#closed) throw new XenError('ENOTCONN', 'xenstore ring is closed');
    if (this.#reconnecting) throw new XenError('EAGAIN', 'xenstore ring is being reconnected');
    this.enqueue(bytes);
  }

  close(): void {
    this.#shutdown(new XenError('ENOTCONN', 'xenstore ring closed by this end'));
  }

  /**
   * Ask xenstored to reset the ring (ring reconnection feature): every request, watch and
   * transaction of this connection is dropped and both queues start empty.
   */
  reconnect(): Promise<void> {
    if (this.#closed) return Promise.reject(new XenError('ENOTCONN', 'xenstore ring is closed'));
    if ((this.serverFeatures & XENSTORE_SERVER_FEATURE_RECONNECTION) === 0) {
      return Promise.reject(new XenError('EOPNOTSUPP', 'xenstored does not offer ring reconnection'));
    }
    this.writeWord(W_CONNECTION, XENSTORE_RECONNECT);
    const done = this.#awaitReconnect();
    this.port.notify();
    return done;
  }

  #awaitReconnect(): Promise<void> {
    this.stopped = true;
    return new Promise((resolve) => {
      this.#reconnecting = { resolve };
    });
  }

  protected service(): void {
    if (this.#closed) return;
    if (this.#reconnecting) {
      if (this.readWord(W_CONNECTION) !== XENSTORE_CONNECTED) return;
      const { resolve } = this.#reconnecting;
      this.#reconnecting = undefined;
      this.resync();
      this.stopped = false;
      resolve();
    }
    const err = this.readWord(W_ERROR);
    if (err !== XENSTORE_ERROR_NONE && (this.serverFeatures & XENSTORE_SERVER_FEATURE_ERROR) !== 0) {
      this.#shutdown(new XenError('EIO', `xenstored stopped the ring: ${ringErrorName(err)}`));
      return;
    }
    this.pump();
  }

  protected deliver(bytes: Uint8Array): void {
    if (this.#onData) this.#onData(bytes);
    else this.#early.push(bytes);
  }

  protected broken(code: number, why: string): void {
    // Only the server may write `error`; the guest just stops using a ring it cannot trust.
    this.#shutdown(new XenError('EIO', `xenstore ring is corrupt (${ringErrorName(code)}): ${why}`));
  }

  #shutdown(err: XenError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopped = true;
    this.backlog.clear();
    this.unlisten();
    this.#early = [];
    this.#onClose?.(err);
  }
}
