// The client's side of xsd_sockmsg framing: encode a request, cut xenstored's byte stream into
// packets. Shared by the client library and the benchmark's raw load generator.
import { Buffer } from 'node:buffer';
import {
  XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_LEN, XSD_SOCKMSG_SIZE, XS_TYPE_NAMES, readSockmsg, writeSockmsg,
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

/** Cuts xenstored's byte stream (any chunking) into packets. */
export class XsFrameReader {
  #partial: Buffer | undefined;

  constructor(private readonly onPacket: (h: XsdSockmsg, payload: Buffer) => void) {}

  /**
   * Feed bytes; calls onPacket for every complete packet. Throws EIO for a payload over
   * XENSTORE_PAYLOAD_MAX: the stream cannot be trusted after that.
   */
  push(chunk: Uint8Array): void {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#partial) {
      data = Buffer.concat([this.#partial, data]);
      this.#partial = undefined;
    }
    let at = 0;
    while (data.length - at >= XSD_SOCKMSG_SIZE) {
      const len = data.readUInt32LE(at + XSD_SOCKMSG_LEN);
      if (len > XENSTORE_PAYLOAD_MAX) {
        throw new XenError('EIO', `xenstored sent a ${len}-byte payload (limit ${XENSTORE_PAYLOAD_MAX})`);
      }
      if (data.length - at < XSD_SOCKMSG_SIZE + len) break;
      const h = readSockmsg(data, at);
      at += XSD_SOCKMSG_SIZE + len;
      // Payloads are views into the chunk; nothing here writes to it afterwards.
      this.onPacket(h, data.subarray(at - len, at));
    }
    if (at < data.length) this.#partial = data.subarray(at);
  }
}
