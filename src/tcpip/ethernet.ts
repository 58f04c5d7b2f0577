// Ethernet II framing with an optional 802.1Q tag. Outgoing frames are allocated with room for
// every header in front, so upper layers write in place and nothing is copied on the way down;
// where the device can (Net.writeInPlace), a frame is built straight in its memory instead.
import type { Net } from '../drivers/net/front/net.js';
import { NET_FRAME_PLAIN, type NetFrameInfo } from '../abi/netif.js';
import { parseMac } from './addr.js';
import { BufferPool } from './bufferpool.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;

export interface EthernetHeader {
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  /** The 802.1Q VLAN id, when the frame is tagged. */
  readonly vlan: number | undefined;
  readonly ethertype: number;
  /** Where the payload starts in the frame. */
  readonly payloadOffset: number;
}

/** A header's fields but its MACs (those are the frame's first 12 bytes). */
interface EthernetFields {
  vlan: number | undefined;
  ethertype: number;
  payloadOffset: number;
}

/** Read the header into `h`; false for a frame too short to hold one. */
function readEthernet(frame: Uint8Array, h: EthernetFields): boolean {
  if (frame.length < 14) return false;
  h.ethertype = (frame[12]! << 8) | frame[13]!;
  h.vlan = undefined;
  h.payloadOffset = 14;
  if (h.ethertype === ETHERTYPE_VLAN) {
    if (frame.length < 18) return false;
    h.vlan = ((frame[14]! << 8) | frame[15]!) & 0xfff;
    h.ethertype = (frame[16]! << 8) | frame[17]!;
    h.payloadOffset = 18;
  }
  return true;
}

/** Decode the header; undefined for a frame too short to hold one. */
export function parseEthernet(frame: Uint8Array): EthernetHeader | undefined {
  const h: EthernetFields = { vlan: undefined, ethertype: 0, payloadOffset: 0 };
  if (!readEthernet(frame, h)) return undefined;
  return { dst: frame.subarray(0, 6), src: frame.subarray(6, 12), vlan: h.vlan, ethertype: h.ethertype, payloadOffset: h.payloadOffset };
}

export function isBroadcastOrMulticast(mac: Uint8Array): boolean {
  return (mac[0]! & 1) === 1;
}

export function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Writes a frame's payload of a length its caller gave: `write(frame, at)` fills it from `at`.
 * The layers pass one object each down the send path (TCP's segment, IPv4's datagram), its
 * fields set before each send, instead of a closure per frame.
 */
export interface FrameWriter {
  write(frame: Uint8Array, at: number): void;
}

export interface EthernetCounters {
  rxFrames: number;
  rxDropped: number;
  txFrames: number;
  txErrors: number;
}

/** One interface's Ethernet layer: header writing, VLAN filtering and dispatch by ethertype. */
export class Ethernet {
  readonly mac: Uint8Array;
  /** Bytes of Ethernet header in front of every payload this interface sends. */
  readonly hlen: number;
  readonly counters: EthernetCounters = { rxFrames: 0, rxDropped: 0, txFrames: 0, txErrors: 0 };
  readonly #pool = new BufferPool();
  readonly #rx: EthernetFields = { vlan: undefined, ethertype: 0, payloadOffset: 0 };
  #handlers = new Map<number, (frame: Uint8Array, off: number, info: NetFrameInfo) => void>();

  constructor(readonly net: Net, readonly vlan?: number) {
    this.mac = parseMac(net.mac);
    this.hlen = vlan === undefined ? 14 : 18;
  }

  on(ethertype: number, fn: (frame: Uint8Array, off: number, info: NetFrameInfo) => void): void {
    this.#handlers.set(ethertype, fn);
  }

  /** A zeroed frame with `payloadLen` bytes after the Ethernet header. */
  alloc(payloadLen: number): Uint8Array {
    return this.#pool.take(this.hlen + payloadLen).fill(0);
  }

  /** As alloc(), not zeroed: for a caller that writes every byte (TCP). */
  allocRaw(payloadLen: number): Uint8Array {
    return this.#pool.take(this.hlen + payloadLen);
  }

  /**
   * Send a frame of `payloadLen` bytes after the header that `payload` writes: in the device's
   * own memory when it can take it there now, else in a pooled frame.
   */
  transmitWith(payloadLen: number, dst: Uint8Array, ethertype: number, info: NetFrameInfo, payload: FrameWriter): void {
    // The device calls #fillInPlace before writeInPlace returns: what it writes is set just before.
    this.#inPlace.dst = dst;
    this.#inPlace.ethertype = ethertype;
    this.#inPlace.payload = payload;
    if (this.net.writeInPlace?.(this.hlen + payloadLen, info, this.#fillInPlace)) {
      this.counters.txFrames++;
      return;
    }
    const frame = this.allocRaw(payloadLen);
    payload.write(frame, this.hlen);
    this.transmit(frame, dst, ethertype, info);
  }

  readonly #inPlace: { dst: Uint8Array; ethertype: number; payload: FrameWriter | undefined } = { dst: new Uint8Array(6), ethertype: 0, payload: undefined };
  readonly #fillInPlace = (frame: Uint8Array): void => {
    const p = this.#inPlace;
    this.#header(frame, p.dst, p.ethertype);
    p.payload!.write(frame, this.hlen);
  };

  transmit(frame: Uint8Array, dst: Uint8Array, ethertype: number, info: NetFrameInfo = NET_FRAME_PLAIN): void {
    this.#header(frame, dst, ethertype);
    this.counters.txFrames++;
    // Once the device has consumed the frame (its write resolved), the frame is free again.
    this.net.write(frame, info).then(() => this.#pool.give(frame), () => { this.counters.txErrors++; });
  }

  #header(frame: Uint8Array, dst: Uint8Array, ethertype: number): void {
    frame.set(dst, 0);
    frame.set(this.mac, 6);
    let off = 12;
    if (this.vlan !== undefined) {
      frame[12] = ETHERTYPE_VLAN >> 8; frame[13] = ETHERTYPE_VLAN & 255;
      frame[14] = this.vlan >> 8; frame[15] = this.vlan & 255;
      off = 16;
    }
    frame[off] = ethertype >> 8; frame[off + 1] = ethertype & 255;
  }

  /** A received frame, its header read into one object this layer reuses (no header object or MAC views per frame). */
  input(frame: Uint8Array, info: NetFrameInfo): void {
    const h = this.#rx;
    // The destination MAC is the frame's first 6 bytes.
    const fn = !readEthernet(frame, h) || h.vlan !== this.vlan || (!isBroadcastOrMulticast(frame) && !sameMac(frame, this.mac)) ? undefined : this.#handlers.get(h.ethertype);
    if (!fn) {
      this.counters.rxDropped++;
      return;
    }
    this.counters.rxFrames++;
    fn(frame, h.payloadOffset, info);
  }
}
