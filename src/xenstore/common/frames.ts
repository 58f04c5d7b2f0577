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

  /**
   * `onPacket` gets each packet's header, its payload and the whole packet, as views into the
   * chunk; nothing here writes to it afterwards. `onOversize` is called for a header whose
   * payload exceeds XENSTORE_PAYLOAD_MAX: the stream cannot be trusted after that, so the rest
   * is discarded. By default (a client reading xenstored's replies) it throws EIO out of push().
   */
  constructor(
    private readonly onPacket: (h: XsdSockmsg, payload: Buffer, packet: Buffer) => void,
    private readonly onOversize: (len: number) => void = oversize,
  ) {}

  /** Feed bytes; calls onPacket for every complete packet, unless held. */
  push(chunk: Uint8Array): void {
    let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#rest !== undefined) {
      data = Buffer.concat([this.#rest, data]);
      this.#rest = undefined;
    }
    this.#cut(data);
  }

  /** Stop after the packet being delivered: the consumer completes it asynchronously. */
  hold(): void {
    this.#held = true;
  }

  /** Go on with the packets that arrived while held. */
  release(): void {
    this.#held = false;
    const rest = this.#rest;
    this.#rest = undefined;
    if (rest !== undefined) this.#cut(rest);
  }

  /** Drop buffered bytes and stop the cut in progress (the stream was reset or closed). */
  clear(): void {
    this.#rest = undefined;
    this.#epoch++;
  }

  #cut(data: Buffer): void {
    const epoch = this.#epoch;
    let at = 0;
    while (!this.#held && data.length - at >= XSD_SOCKMSG_SIZE) {
      const len = data.readUInt32LE(at + XSD_SOCKMSG_LEN);
      if (len > XENSTORE_PAYLOAD_MAX) {
        this.clear();
        this.onOversize(len);
        return;
      }
      const end = at + XSD_SOCKMSG_SIZE + len;
      if (end > data.length) break;
      // Read with Buffer's accessors, not readSockmsg's DataView: this is xenstored's hot path.
      const h: XsdSockmsg = {
        type: data.readUInt32LE(at + XSD_SOCKMSG_TYPE),
        reqId: data.readUInt32LE(at + XSD_SOCKMSG_REQ_ID),
        txId: data.readUInt32LE(at + XSD_SOCKMSG_TX_ID),
        len,
      };
      const packet = data.subarray(at, end);
      at = end;
      this.onPacket(h, packet.subarray(XSD_SOCKMSG_SIZE), packet);
      if (epoch !== this.#epoch) return;
    }
    // Keep only the unprocessed tail, copied so the transport's chunk can be freed.
    if (at < data.length) this.#rest = Buffer.from(data.subarray(at));
  }
}

function oversize(len: number): never {
  throw new XenError('EIO', `xenstored sent a ${len}-byte payload (limit ${XENSTORE_PAYLOAD_MAX})`);
}
