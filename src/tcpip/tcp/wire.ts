// The TCP header and its options (RFC 9293 §3.1, MSS; RFC 7323 window scale and timestamps;
// RFC 2018 SACK-permitted and SACK blocks). Options with impossible lengths make the whole
// segment invalid.
import { SEQ_INIT, seqRange } from './seq.js';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

export const TCP_HLEN = 20;

/** A SACK block: the peer holds [start, end) (sequence numbers). */
export interface SackBlock {
  readonly start: number;
  readonly end: number;
}

/** SACK blocks that fit in 40 bytes of options: 4, or 3 beside a timestamp (RFC 2018 §3). */
export const MAX_SACK_BLOCKS = 4;
export const MAX_SACK_BLOCKS_WITH_TS = 3;

export interface TcpOptions {
  mss?: number;
  wscale?: number;
  sackOk?: boolean;
  sack?: readonly SackBlock[];
  ts?: { val: number; ecr: number };
}

export interface Segment {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window: number;
  readonly opts: TcpOptions;
  readonly payload: Uint8Array;
  /** The payload stays valid after input and nothing writes it (NetFrameInfo.owned): kept without a copy. */
  readonly owned?: boolean;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24; b[o + 1] = v >>> 16; b[o + 2] = v >>> 8; b[o + 3] = v;
}

/** Decode a segment (checksum already verified); undefined when its header is malformed. `owned`: see Segment. */
export function parseSegment(b: Uint8Array, owned = false): Segment | undefined {
  if (b.length < TCP_HLEN) return undefined;
  const doff = (b[12]! >> 4) * 4;
  if (doff < TCP_HLEN || doff > b.length) return undefined;
  const opts: TcpOptions = {};
  for (let i = TCP_HLEN; i < doff;) {
    const kind = b[i]!;
    if (kind === 0) break;
    if (kind === 1) { i++; continue; }
    if (i + 1 >= doff) return undefined;
    const len = b[i + 1]!;
    if (len < 2 || i + len > doff) return undefined;
    switch (kind) {
      case 2: if (len !== 4) return undefined; opts.mss = (b[i + 2]! << 8) | b[i + 3]!; break;
      case 3: if (len !== 3) return undefined; opts.wscale = b[i + 2]!; break;
      case 4: if (len !== 2) return undefined; opts.sackOk = true; break;
      case 5: {
        if (len < 10 || (len - 2) % 8 !== 0) return undefined;
        const blocks: SackBlock[] = [];
        for (let j = i + 2; j < i + len; j += 8) blocks.push(seqRange(u32(b, j), u32(b, j + 4)));
        opts.sack = blocks;
        break;
      }
      case 8: if (len !== 10) return undefined; opts.ts = tsOption(u32(b, i + 2), u32(b, i + 6)); break;
      default: break; // unknown options are skipped by their length
    }
    i += len;
  }
  const seg = {
    srcPort: (b[0]! << 8) | b[1]!, dstPort: (b[2]! << 8) | b[3]!,
    seq: SEQ_INIT, ack: SEQ_INIT, flags: b[13]! & 0x3f, window: (b[14]! << 8) | b[15]!,
    opts, payload: b.subarray(doff), owned,
  };
  seg.seq = u32(b, 4);
  seg.ack = u32(b, 8);
  return seg;
}

/** A timestamps option (its fields start as doubles: see SEQ_INIT). */
export function tsOption(val: number, ecr: number): { val: number; ecr: number } {
  const ts = { val: SEQ_INIT, ecr: SEQ_INIT };
  ts.val = val;
  ts.ecr = ecr;
  return ts;
}

/** Bytes the options take on the wire, padded to 4. */
export function optionsLength(o: TcpOptions | undefined): number {
  if (!o) return 0;
  return (o.mss !== undefined ? 4 : 0) + (o.wscale !== undefined ? 4 : 0) + (o.sackOk ? 4 : 0) + (o.ts ? 12 : 0) +
    (o.sack && o.sack.length > 0 ? 4 + 8 * o.sack.length : 0);
}

export interface HeaderFields {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
}

/** Write header and options at `o`; returns the header length. The checksum is left zero. */
export function encodeHeader(b: Uint8Array, o: number, h: HeaderFields, opts: TcpOptions | undefined): number {
  const hlen = TCP_HLEN + optionsLength(opts);
  b[o] = h.srcPort >> 8; b[o + 1] = h.srcPort;
  b[o + 2] = h.dstPort >> 8; b[o + 3] = h.dstPort;
  put32(b, o + 4, h.seq);
  put32(b, o + 8, h.ack);
  b[o + 12] = (hlen / 4) << 4;
  b[o + 13] = h.flags;
  b[o + 14] = h.window >> 8; b[o + 15] = h.window;
  b[o + 16] = 0; b[o + 17] = 0; b[o + 18] = 0; b[o + 19] = 0;
  let i = o + TCP_HLEN;
  if (opts?.mss !== undefined) { b[i] = 2; b[i + 1] = 4; b[i + 2] = opts.mss >> 8; b[i + 3] = opts.mss; i += 4; }
  if (opts?.wscale !== undefined) { b[i] = 1; b[i + 1] = 3; b[i + 2] = 3; b[i + 3] = opts.wscale; i += 4; }
  if (opts?.sackOk) { b[i] = 1; b[i + 1] = 1; b[i + 2] = 4; b[i + 3] = 2; i += 4; }
  if (opts?.ts) { b[i] = 1; b[i + 1] = 1; b[i + 2] = 8; b[i + 3] = 10; put32(b, i + 4, opts.ts.val); put32(b, i + 8, opts.ts.ecr); i += 12; }
  if (opts?.sack && opts.sack.length > 0) {
    b[i] = 1; b[i + 1] = 1; b[i + 2] = 5; b[i + 3] = 2 + 8 * opts.sack.length;
    i += 4;
    for (const s of opts.sack) {
      put32(b, i, s.start);
      put32(b, i + 4, s.end);
      i += 8;
    }
  }
  return hlen;
}
