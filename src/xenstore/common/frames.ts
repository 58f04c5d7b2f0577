// xsd_sockmsg framing (xen/io/xs_wire.h): encode a request, cut a byte stream into packets.
// Shared by xenstored's connections, the client library and the benchmark's load generator.
import { Buffer } from 'node:buffer';
import {
  XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_LEN, XSD_SOCKMSG_REQ_ID, XSD_SOCKMSG_SIZE, XSD_SOCKMSG_TX_ID, XSD_SOCKMSG_TYPE, XS_TYPE_NAMES, writeSockmsg,
  type XsdSockmsg,
} from '../../abi/xs_wire.js';
import { XenError } from '../../errors.js';

export function typeName(type: number): string {
  const n = XS_TYPE_NAMES[type];
  return n ? `XS_${n}` : `type ${type}`;
}

/**
 * One request packet: the header, then each part followed by a NUL, except that with `rawLast`
 * the last part (a WRITE value) goes without one. E2BIG if the payload exceeds
 * XENSTORE_PAYLOAD_MAX, which xenstored would treat as a protocol violation and disconnect.
 */
export function encodeRequest(type: number, reqId: number, txId: number, parts: readonly (string | Uint8Array)[], rawLast = false): Buffer {
  const bufs = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
  let len = rawLast ? -1 : 0;
  for (const b of bufs) len += b.byteLength + 1;
  len = Math.max(len, 0);
  if (len > XENSTORE_PAYLOAD_MAX) {
    throw new XenError('E2BIG', `${typeName(type)} payload is ${len} bytes (limit ${XENSTORE_PAYLOAD_MAX})`);
  }
  const out = Buffer.allocUnsafe(XSD_SOCKMSG_SIZE + len);
  writeSockmsg(out, { type, reqId, txId, len });
  let at = XSD_SOCKMSG_SIZE;
  bufs.forEach((b, i) => {
    out.set(b, at);
    at += b.byteLength;
    if (!(rawLast && i === bufs.length - 1)) out[at++] = 0;
  });
  return out;
}

/**
 * The whole packet (header and payload) of a payload XsFrameReader delivered: its header lies
 * just before it in the same memory.
 */
export function packetOf(payload: Buffer): Buffer {
  return Buffer.from(payload.buffer, payload.byteOffset - XSD_SOCKMSG_SIZE, XSD_SOCKMSG_SIZE + payload.length);
}

/**
 * Cuts an xsd_sockmsg byte stream (any chunking) into packets: the one framer of xenode's
 * xenstore, used by xenstored's connections for requests and by the client for replies and
 * watch events.
 */
export class XsFrameReader {
  /** Bytes of an incomplete packet (or of packets held back by hold()), copied out of the chunk. */
  #rest: Buffer | undefined;
  #held = false;
  /** Bumped by clear(), so a cut in progress stops when its consumer resets the stream. */
  #epoch = 0;

  /** The header passed to onPacket: one object, refilled for every packet (xenstored's hot path makes no object per packet). */
  readonly #h: XsdSockmsg = { type: 0, reqId: 0, txId: 0, len: 0 };

  /**
   * `onPacket` gets each packet's header and its payload, a view into the chunk (packetOf gives
   * the whole packet); nothing here writes to it afterwards. The header object is valid during
   * the call only: the next packet's header is written into it. `onOversize` is called for a
   * header whose payload exceeds XENSTORE_PAYLOAD_MAX: the stream cannot be trusted after that,
   * so the rest is discarded. By default (a client reading xenstored's replies) it throws EIO out
   * of push().
   */
  constructor(
    private readonly onPacket: (h: XsdSockmsg, payload: Buffer) => void,
    private readonly onOversize: (len: number) => void = oversize,
  ) {}

  /** Feed bytes; calls onPacket for every complete packet, unless held. */
  push(chunk: Uint8Array): void {
    this.#cut(this.#take(chunk), Infinity);
  }

  /**
   * Store bytes without cutting them: the consumer takes packets with pull() when it has time
   * (xenstored serves its connections in turns).
   */
  append(chunk: Uint8Array): void {
    this.#rest = this.#take(chunk);
  }

  /**
   * Copy the stored bytes if they are still a view of `chunk`'s memory: the transport reuses
   * its read buffer once its callback returns (whole packets left for a later turn are views).
   */
  own(chunk: Uint8Array): void {
    const rest = this.#rest;
    if (rest !== undefined && rest.buffer === chunk.buffer) this.#rest = Buffer.from(rest);
  }

  /** Bytes stored and not yet cut. */
  get buffered(): number {
    return this.#rest?.length ?? 0;
  }

  /** Whether a whole packet (or a header too long to be one) is stored. */
  get ready(): boolean {
    const d = this.#rest;
    if (this.#held || d === undefined || d.length < XSD_SOCKMSG_SIZE) return false;
    const len = d.readUInt32LE(XSD_SOCKMSG_LEN);
    return len > XENSTORE_PAYLOAD_MAX || d.length >= XSD_SOCKMSG_SIZE + len;
  }

  /** Cut and deliver up to `max` stored packets; returns how many were delivered. */
  pull(max: number): number {
    const data = this.#rest;
    this.#rest = undefined;
    return data === undefined ? 0 : this.#cut(data, max);
  }

  /** Stop after the packet being delivered: the consumer completes it asynchronously. */
  hold(): void {
    this.#held = true;
  }

  /** The held packet completed: pull() goes on with the packets stored meanwhile. */
  release(): void {
    this.#held = false;
  }

  /** Drop buffered bytes and stop the cut in progress (the stream was reset or closed). */
  clear(): void {
    this.#rest = undefined;
    this.#epoch++;
  }

  /** The stored bytes followed by `chunk`. */
  #take(chunk: Uint8Array): Buffer {
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const rest = this.#rest;
    this.#rest = undefined;
    return rest === undefined ? data : Buffer.concat([rest, data]);
  }

  #cut(data: Buffer, max: number): number {
    const epoch = this.#epoch;
    let at = 0;
    let n = 0;
    while (!this.#held && n < max && data.length - at >= XSD_SOCKMSG_SIZE) {
      const len = data.readUInt32LE(at + XSD_SOCKMSG_LEN);
      if (len > XENSTORE_PAYLOAD_MAX) {
        this.clear();
        this.onOversize(len);
        return n;
      }
      const end = at + XSD_SOCKMSG_SIZE + len;
      if (end > data.length) break;
      // Read with Buffer's accessors, not readSockmsg's DataView: this is xenstored's hot path.
      const h = this.#h;
      h.type = data.readUInt32LE(at + XSD_SOCKMSG_TYPE);
      h.reqId = data.readUInt32LE(at + XSD_SOCKMSG_REQ_ID);
      h.txId = data.readUInt32LE(at + XSD_SOCKMSG_TX_ID);
      h.len = len;
      const payload = data.subarray(at + XSD_SOCKMSG_SIZE, end);
      at = end;
      n++;
      this.onPacket(h, payload);
      if (epoch !== this.#epoch) return n;
    }
    if (at < data.length) {
      const tail = data.subarray(at);
      // Whole packets left for a later pull stay a view; an incomplete tail is copied so the
      // transport's chunk can be freed.
      this.#rest = this.#rest !== undefined ? Buffer.concat([tail, this.#rest]) : n >= max || this.#held ? tail : Buffer.from(tail);
    }
    return n;
  }
}

function oversize(len: number): never {
  throw new XenError('EIO', `xenstored sent a ${len}-byte payload (limit ${XENSTORE_PAYLOAD_MAX})`);
}
