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
    // A plain copy even of a Buffer (a frame from a VXLAN datagram is one, and Buffer's slice() is a view).
    this.frames.push(new Uint8Array(frame));
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

export interface PacketOpts {
  readonly proto?: 6 | 17;
  readonly payload?: Uint8Array;
  readonly seq?: number;
  readonly id?: number;
  /** TCP flags byte. */
  readonly flags?: number;
  readonly vid?: number;
  /** IPv6 extension headers (hop-by-hop) of this many 8-byte units before TCP/UDP. */
  readonly hopByHop?: boolean;
  /** Ethernet padding after the IP packet. */
  readonly pad?: number;
  /** Destination port (9, discard, by default: no dissector guesses at the payload). */
  readonly dport?: number;
}

/** An IPv4 or IPv6 packet with a TCP (20-byte header + 12 bytes of options) or UDP header, L4 checksum left 0 (csumBlank). */
export function ipPacket(v: 4 | 6, o: PacketOpts = {}): Uint8Array {
  const proto = o.proto ?? 6;
  const payload = o.payload ?? new Uint8Array(100).map((_, i) => i * 7);
  const l4h = proto === 6 ? 32 : 8;
  const ext = v === 6 && o.hopByHop ? 8 : 0;
  const ipH = v === 4 ? 20 : 40 + ext;
  const ip = new Uint8Array(ipH + l4h + payload.length + (o.pad ?? 0));
  const dv = new DataView(ip.buffer);
  if (v === 4) {
    ip[0] = 0x45;
    dv.setUint16(2, ipH + l4h + payload.length);
    dv.setUint16(4, o.id ?? 0x1234);
    dv.setUint16(6, 0x4000); // DF
    ip[8] = 64;
    ip[9] = proto;
    ip.set([10, 0, 0, 1, 10, 0, 0, 2], 12);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += dv.getUint16(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    dv.setUint16(10, ~sum & 0xffff);
  } else {
    ip[0] = 0x60;
    dv.setUint16(4, ext + l4h + payload.length);
    ip[6] = ext ? 0 : proto;
    ip[7] = 64;
    ip.set([0xfd, 0, ...new Array(13).fill(0), 1, 0xfd, 0, ...new Array(13).fill(0), 2], 8);
    if (ext) ip[40] = proto; // hop-by-hop: next header, length 0 (8 bytes), PadN
    if (ext) ip.set([1, 4, 0, 0, 0, 0], 42);
  }
  const l4 = ipH;
  dv.setUint16(l4, 40000);
  dv.setUint16(l4 + 2, o.dport ?? 9);
  if (proto === 6) {
    dv.setUint32(l4 + 4, o.seq ?? 1000);
    dv.setUint32(l4 + 8, 77);
    ip[l4 + 12] = (l4h / 4) << 4;
    ip[l4 + 13] = o.flags ?? 0x18;
    dv.setUint16(l4 + 14, 65535);
    ip.set([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], l4 + 20); // NOP NOP timestamps
  } else {
    dv.setUint16(l4 + 4, 8 + payload.length);
  }
  ip.set(payload, l4 + l4h);
  return ethFrame('00:16:3e:00:00:02', '00:16:3e:00:00:01', { type: v === 4 ? 0x0800 : 0x86dd, payload: ip, ...(o.vid !== undefined && { vid: o.vid }) });
}

/**
 * The reference: RFC 1071's checksum computed the plain way (a pseudo-header built as its own
 * buffer, 16-bit words summed with end-around carry), to check the switch's against.
 */
export function referenceL4Checksum(frame: Uint8Array): { field: number; want: number } {
  const l3 = frame[12] === 0x81 ? 18 : 14;
  const v6 = frame[l3]! >> 4 === 6;
  let proto: number, l4: number, l4Len: number, src: Uint8Array, dst: Uint8Array;
  if (v6) {
    proto = frame[l3 + 6]!;
    l4 = l3 + 40;
    if (proto === 0) { proto = frame[l4]!; l4 += 8; }
    l4Len = ((frame[l3 + 4]! << 8) | frame[l3 + 5]!) - (l4 - l3 - 40);
    src = frame.slice(l3 + 8, l3 + 24); dst = frame.slice(l3 + 24, l3 + 40);
  } else {
    proto = frame[l3 + 9]!;
    l4 = l3 + (frame[l3]! & 15) * 4;
    l4Len = ((frame[l3 + 2]! << 8) | frame[l3 + 3]!) - (l4 - l3);
    src = frame.slice(l3 + 12, l3 + 16); dst = frame.slice(l3 + 16, l3 + 20);
  }
  const field = l4 + (proto === 6 ? 16 : 6);
  const pseudo = v6 ? new Uint8Array(40) : new Uint8Array(12);
  pseudo.set(src, 0); pseudo.set(dst, src.length);
  const pdv = new DataView(pseudo.buffer);
  if (v6) { pdv.setUint32(32, l4Len); pseudo[39] = proto; } else { pseudo[9] = proto; pdv.setUint16(10, l4Len); }
  const seg = frame.slice(l4, l4 + l4Len);
  seg[field - l4] = 0; seg[field - l4 + 1] = 0;
  const all = new Uint8Array(pseudo.length + seg.length + 1);
  all.set(pseudo); all.set(seg, pseudo.length);
  let sum = 0;
  for (let i = 0; i < pseudo.length + seg.length; i += 2) {
    sum += (all[i]! << 8) | all[i + 1]!;
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  let want = ~sum & 0xffff;
  if (want === 0 && proto === 17) want = 0xffff;
  return { field, want };
}

/** A capture sink in memory, with a backlog the test sets. */
export class MemorySink {
  readonly chunks: Uint8Array[] = [];
  backlog = 0;
  write(chunk: Uint8Array): void {
    this.chunks.push(chunk.slice());
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

export interface PcapRecordView {
  readonly secs: number;
  readonly usecs: number;
  readonly caplen: number;
  readonly len: number;
  readonly data: Uint8Array;
}

/** Read a classic little-endian pcap file back: its header fields and records. */
export function readPcap(file: Uint8Array): { magic: number; major: number; minor: number; snaplen: number; linktype: number; records: PcapRecordView[] } {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const records: PcapRecordView[] = [];
  for (let off = 24; off < file.length;) {
    const caplen = v.getUint32(off + 8, true);
    records.push({ secs: v.getUint32(off, true), usecs: v.getUint32(off + 4, true), caplen, len: v.getUint32(off + 12, true),
      data: file.subarray(off + 16, off + 16 + caplen) });
    off += 16 + caplen;
  }
  return { magic: v.getUint32(0, true), major: v.getUint16(4, true), minor: v.getUint16(6, true), snaplen: v.getUint32(16, true),
    linktype: v.getUint32(20, true), records };
}
