// Rigs for the virtual switch's tests: a device that records what the switch delivers to it,
// and Ethernet frames built by hand.
import { NET_FRAME_PLAIN, type NetFrameInfo } from '../../src/abi/netif.js';
import type { PortDevice, PortFeatures } from '../../src/network/port.js';

export const NO_OFFLOADS: PortFeatures = { csumOffload: false, gsoTcpv4: false, gsoTcpv6: false };
export const ALL_OFFLOADS: PortFeatures = { csumOffload: true, gsoTcpv4: true, gsoTcpv6: true };

/** A port's device that keeps a copy of every frame delivered to it. */
export class Sink implements PortDevice {
  readonly frames: Uint8Array[] = [];
  readonly infos: NetFrameInfo[] = [];
  /** Refuse frames (as a device with no room) while false. */
  accept = true;
  constructor(readonly name: string, readonly features: PortFeatures = ALL_OFFLOADS) {}
  deliver(frame: Uint8Array, info: NetFrameInfo): boolean {
    if (!this.accept) return false;
    this.frames.push(frame.slice());
    this.infos.push(info);
    return true;
  }
  take(): Uint8Array[] {
    return this.frames.splice(0);
  }
}

export function mac(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((b) => Number.parseInt(b, 16)));
}

/** An Ethernet II frame: dst, src, optional 802.1Q VID, ethertype, payload. */
export function ethFrame(dst: string, src: string, opts: { vid?: number; pcp?: number; type?: number; payload?: Uint8Array } = {}): Uint8Array {
  const payload = opts.payload ?? new Uint8Array(46);
  const tag = opts.vid === undefined ? 0 : 4;
  const f = new Uint8Array(14 + tag + payload.length);
  f.set(mac(dst), 0);
  f.set(mac(src), 6);
  const type = opts.type ?? 0x88b5; // IEEE local experimental
  if (tag) {
    f[12] = 0x81; f[13] = 0x00;
    const tci = ((opts.pcp ?? 0) << 13) | opts.vid!;
    f[14] = tci >> 8; f[15] = tci & 0xff;
  }
  f[12 + tag] = type >> 8; f[13 + tag] = type & 0xff;
  f.set(payload, 14 + tag);
  return f;
}

export const plain = NET_FRAME_PLAIN;

/** The VID of a delivered frame, or undefined if untagged. */
export function vidOf(frame: Uint8Array): number | undefined {
  return frame[12] === 0x81 && frame[13] === 0 ? ((frame[14]! << 8) | frame[15]!) & 0xfff : undefined;
}
