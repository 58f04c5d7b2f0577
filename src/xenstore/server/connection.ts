// One client connection of xenstored, whatever carries it: cuts the byte stream into
// xsd_sockmsg packets (common/frames.ts), owns the connection's transactions and watches, and
// frames replies and watch events. Its requests are handled when the scheduler gives it a turn;
// it holds at most INPUT_HOLD bytes of unprocessed input (the transport stops reading beyond
// that), and while more than OUTPUT_THROTTLE bytes of its output are unread its requests wait.
// A peer that sends an over-long packet, or lets unread output (watch events) grow past the
// connection's or the daemon's bound, is dropped; nothing it does reaches other connections.
import { Buffer } from 'node:buffer';
import {
  XENSTORE_ERROR_COMM, XENSTORE_ERROR_NONE, XENSTORE_ERROR_PROTO, XENSTORE_PAYLOAD_MAX, XS_ERROR, XS_WATCH_EVENT,
  XSD_ERRORS, XSD_SOCKMSG_SIZE, type XsdSockmsg,
} from '../../abi/xs_wire.js';
import type { XenErrnoName } from '../../errors.js';
import { XsFrameReader, packetOf } from '../common/frames.js';
import type { Domain } from './domain.js';
import type { Accessor } from './perms.js';
import type { CloseReason, ConnectionSink, SendBytes } from './transport.js';
import type { Transaction } from './view.js';
import type { WatchOwner } from './watches.js';

/** A connection as a transport (or the host) holds it. */
export interface XsConnection extends ConnectionSink {
  readonly domid: number;
  readonly closed: boolean;
}

/** What a connection needs from the daemon it belongs to. */
export interface ConnectionOwner {
  dispatch(conn: Connection, type: number, reqId: number, txId: number, payload: Buffer): void;
  /** The connection is gone: forget its watches and transactions. */
  forget(conn: Connection): void;
  trace(conn: Connection, dir: 'IN' | 'OUT', msg: Buffer): void;
  readonly tracing: boolean;
  readonly log: (line: string) => void;
  readonly limits: { readonly outstanding: number; readonly maxOutputBytes: number; readonly maxTotalOutputBytes: number };
  /** The connection may have requests to handle: give it a turn. */
  wake(conn: Connection): void;
  /** Unread output of some connection changed by `delta` bytes; returns the total over all connections. */
  addUnread(delta: number): number;
}

/** Unprocessed input a connection holds before its transport stops reading. */
export const INPUT_HOLD = 16 * 1024;
/** Unread output beyond which a connection's requests wait until the peer reads. */
export const OUTPUT_THROTTLE = 64 * 1024;

// A reply is made for every request: its header and short strings are stored byte by byte, which
// costs a fraction of Buffer's writeUInt32LE and write(), with their argument checks (a few tens
// of ns each, at 1,000 clients part of the daemon's CPU per request: docs/PERFORMANCE.md, xsc18).

function putU32(b: Buffer, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
  b[at + 2] = v >>> 16;
  b[at + 3] = v >>> 24;
}

/** Strings up to this long are stored a char at a time; longer ones through Buffer's write. */
const SHORT_STRING = 32;

/** `s` (one byte per char) into `b` at `at`. */
function putLatin1(b: Buffer, at: number, s: string): void {
  if (s.length > SHORT_STRING) {
    b.write(s, at, 'latin1');
    return;
  }
  for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i);
}

function header(type: number, reqId: number, txId: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(XSD_SOCKMSG_SIZE + len);
  putU32(b, 0, type);
  putU32(b, 4, reqId);
  putU32(b, 8, txId);
  putU32(b, 12, len);
  return b;
}

const ERROR_PAYLOADS = new Map<string, Buffer>(XSD_ERRORS.map((e) => [e, Buffer.from(`${e}\0`, 'latin1')]));

export class Connection implements XsConnection, Accessor, WatchOwner {
  readonly home: string;
  readonly transactions = new Map<number, Transaction>();
  #nextTxId = 1;
  /** The transport was told to stop reading (input over INPUT_HOLD). */
  #inputHeld = false;
  /** Output handed to the transport and not yet taken by the peer, as last reported. */
  #unread = 0;
  /** Holds from outside (hold()): requests wait while any is on. */
  #holds = 0;
  #closed = false;
  readonly #frames = new XsFrameReader(
    (h, payload) => this.#packet(h, payload),
    (len) => this.drop(XENSTORE_ERROR_PROTO, `packet payload of ${len} bytes exceeds ${XENSTORE_PAYLOAD_MAX}`),
  );
  // Output the transport has not delivered yet: message end offsets in the byte stream.
  #sentBytes = 0;
  #ends: number[] = [];

  constructor(
    private readonly owner: ConnectionOwner,
    readonly seq: number,
    readonly domain: Domain,
    readonly privileged: boolean,
    private readonly transport: SendBytes,
    private readonly onDrop: (reason: CloseReason) => void,
  ) {
    this.home = domain.path;
  }

  /** Set by the transport: called when the connection takes input again after holding it. */
  onInputSpace: (() => void) | undefined;

  get domid(): number {
    return this.domain.domid;
  }

  get target(): number | undefined {
    return this.domain.target;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Replies and events handed to the transport and not yet delivered (as of the last send). */
  get outstanding(): number {
    return this.#ends.length;
  }

  receive(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#frames.append(bytes);
    this.owner.wake(this);
    // What was not served now waits for a later turn: it must not stay a view of the transport's buffer.
    this.#frames.own(bytes);
    if (!this.wantsInput) this.#inputHeld = true;
  }

  /** False while the connection holds more unprocessed input than INPUT_HOLD: stop reading. */
  get wantsInput(): boolean {
    return this.#frames.buffered <= INPUT_HOLD;
  }

  /** A complete request waits and may be handled now. */
  get runnable(): boolean {
    return !this.#closed && this.#holds === 0 && this.#unread <= OUTPUT_THROTTLE && this.#frames.ready;
  }

  /** Handle up to `max` requests (the scheduler's turn); returns how many were handled. */
  serve(max: number): number {
    // One packet at a time: a reply may leave too much unread, or a request stall the rest.
    let n = 0;
    while (n < max && this.runnable) n += this.#frames.pull(1);
    if (this.#inputHeld && this.wantsInput) {
      this.#inputHeld = false;
      this.onInputSpace?.();
    }
    return n;
  }

  #packet(h: XsdSockmsg, payload: Buffer): void {
    if (this.owner.tracing) this.owner.trace(this, 'IN', packetOf(payload));
    this.owner.dispatch(this, h.type, h.reqId, h.txId, payload);
  }

  /** Hold further requests until resume() (a request completing asynchronously). */
  stall(): void {
    this.#frames.hold();
  }

  resume(): void {
    this.#frames.release();
    this.owner.wake(this);
  }

  /** Requests wait (input is still taken, up to INPUT_HOLD) until the returned function is called; calling it again does nothing. */
  hold(): () => void {
    this.#holds++;
    let on = true;
    return () => {
      if (!on) return;
      on = false;
      this.#holds--;
      this.owner.wake(this);
    };
  }

  nextTransactionId(): number {
    // Ids are per connection, never 0 (that means "no transaction"), never one in use.
    for (;;) {
      const id = this.#nextTxId;
      this.#nextTxId = (this.#nextTxId + 1) >>> 0;
      if (id !== 0 && !this.transactions.has(id)) return id;
    }
  }

  reply(type: number, reqId: number, txId: number, payload: Uint8Array | string): void {
    const isString = typeof payload === 'string';
    const len = isString ? payload.length : payload.byteLength;
    if (len > XENSTORE_PAYLOAD_MAX) {
      this.replyError(reqId, txId, 'E2BIG');
      return;
    }
    const msg = header(type, reqId, txId, len);
    if (isString) putLatin1(msg, XSD_SOCKMSG_SIZE, payload);
    else msg.set(payload, XSD_SOCKMSG_SIZE);
    this.#send(msg);
  }

  replyError(reqId: number, txId: number, errno: XenErrnoName): void {
    // Errors without a wire name go out as EINVAL, as cxenstored's send_error does.
    const payload = ERROR_PAYLOADS.get(errno) ?? ERROR_PAYLOADS.get('EINVAL')!;
    this.reply(XS_ERROR, reqId, txId, payload);
  }

  /** A WATCH_EVENT ("path\0token\0"); events that would not fit a packet are not sent. */
  sendEvent(path: string, token: Buffer): void {
    if (this.#closed) return;
    const len = path.length + token.length + 2;
    if (len > XENSTORE_PAYLOAD_MAX) return;
    const msg = header(XS_WATCH_EVENT, 0, 0, len);
    putLatin1(msg, XSD_SOCKMSG_SIZE, path);
    msg[XSD_SOCKMSG_SIZE + path.length] = 0;
    token.copy(msg, XSD_SOCKMSG_SIZE + path.length + 1);
    msg[msg.length - 1] = 0;
    this.#send(msg);
  }

  #send(msg: Buffer): void {
    if (this.#closed) return;
    if (this.owner.tracing) this.owner.trace(this, 'OUT', msg);
    let backlog: number;
    try {
      backlog = this.transport(msg) ?? 0;
    } catch (e) {
      // A transport that cannot take bytes has lost its peer.
      this.drop(XENSTORE_ERROR_COMM, `transport failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.#sentBytes += msg.length;
    this.#noteUnread(backlog);
    if (this.#closed) return;
    if (backlog === 0) {
      if (this.#ends.length > 0) this.#ends = [];
      return;
    }
    const ends = this.#ends;
    ends.push(this.#sentBytes);
    const delivered = this.#sentBytes - backlog;
    let i = 0;
    while (i < ends.length && ends[i]! <= delivered) i++;
    if (i > 0) ends.splice(0, i);
    if (!this.privileged && ends.length > this.owner.limits.outstanding) {
      this.drop(XENSTORE_ERROR_COMM, `${ends.length} replies/events (${backlog} bytes) left unread`);
    }
  }

  /** The transport reports how many bytes of output the peer has not taken yet. */
  outputPending(bytes: number): void {
    if (this.#closed) return;
    const was = this.#unread;
    this.#noteUnread(bytes);
    if (was > OUTPUT_THROTTLE && bytes <= OUTPUT_THROTTLE) this.owner.wake(this);
  }

  #noteUnread(bytes: number): void {
    // close() took this connection's bytes out of the total; a report that arrives after it (a
    // transport reporting from inside send, which then returns) must not put them back for good.
    if (this.#closed) return;
    const grew = bytes > this.#unread;
    const total = this.owner.addUnread(bytes - this.#unread);
    this.#unread = bytes;
    const { maxOutputBytes, maxTotalOutputBytes } = this.owner.limits;
    if (bytes > maxOutputBytes) this.drop(XENSTORE_ERROR_COMM, `${bytes} bytes of output left unread`);
    else if (grew && total > maxTotalOutputBytes) this.drop(XENSTORE_ERROR_COMM, `${bytes} bytes left unread while all connections hold ${total}`);
  }

  /** The peer reconnected its ring: start afresh, as a new connection would. */
  reset(): void {
    if (this.#closed) return;
    this.#frames.clear();
    this.#inputHeld = false;
    this.#ends = [];
    this.owner.forget(this);
  }

  /** The transport is gone. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#frames.clear();
    this.owner.addUnread(-this.#unread);
    this.#unread = 0;
    this.owner.forget(this);
  }

  /** xenstored drops the peer (bad input, unread output, domain released). */
  drop(reason: CloseReason, why: string): void {
    if (this.#closed) return;
    if (reason !== XENSTORE_ERROR_NONE) this.owner.log(`dropping connection of domain ${this.domid}: ${why}`);
    this.close();
    this.onDrop(reason);
  }
}
