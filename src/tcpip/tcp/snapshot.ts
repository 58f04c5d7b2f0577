// The TCP layer's state as plain, structured-cloneable data: what a guest's suspend record
// carries so that its connections go on after a restore or a migration (sequence numbers,
// windows, unacknowledged and unread bytes, timers as ms left). A snapshot read back from a
// save file is outside input: checkTcpSnapshot refuses any that is not well-formed.
import { TcpipError } from '../errors.js';
import type { TcpState } from './connection.js';

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
  readonly stats: { retransmits: number; timeouts: number; fastRetransmits: number; sackRetransmits: number };
  readonly keepalive: { idleMs: number; intervalMs: number; count: number; sent: number } | undefined;
}

export interface TcpSnapshot {
  readonly connections: readonly ConnectionSnapshot[];
  /** Ports that were listening, with their backlog. */
  readonly listeners: readonly { readonly port: number; readonly backlog: number }[];
}

const STATES: ReadonlySet<string> = new Set(['SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT']);
const U32 = ['iss', 'sndUna', 'sndNxt', 'sndMax', 'sndWl1', 'sndWl2', 'irs', 'rcvNxt', 'rcvAdv', 'lastAckSent', 'tsRecent', 'tsVal', 'recentOoo', 'rtxHigh', 'recover', 'remoteAddr'] as const;
const NONNEG = ['sndWnd', 'maxSndWnd', 'srtt', 'rttvar', 'rto', 'cwnd', 'ssthresh', 'dupAcks', 'retries', 'rttAgeMs', 'idleMs'] as const;
const BOOLS = ['passive', 'wsOk', 'finReceived', 'tsOk', 'sackOk', 'inRecovery', 'persisting', 'delackArmed', 'noDelay'] as const;
/** Bytes a connection's buffers may carry at most (the send and receive buffers with the stream's own). */
const MAX_BUFFERED = 64 << 20;

function bad(what: string): never {
  throw new TcpipError('EINVAL', `the suspended TCP state is malformed: ${what}`);
}

const isU32 = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
const isNonNeg = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

function checkConnection(c: Record<string, unknown>): void {
  if (typeof c !== 'object' || c === null) bad('a connection is not an object');
  if (!STATES.has(c.state as string)) bad(`state ${String(c.state)}`);
  if (!isPort(c.localPort) || !isPort(c.remotePort)) bad('a port');
  for (const k of U32) if (!isU32(c[k])) bad(k);
  for (const k of NONNEG) if (!isNonNeg(c[k])) bad(k);
  for (const k of BOOLS) if (typeof c[k] !== 'boolean') bad(k);
  if (!(c.finSeq === -1 || isU32(c.finSeq)) || !(c.rttSeq === -1 || isU32(c.rttSeq))) bad('finSeq or rttSeq');
  if (!(c.rtxInMs === -1 || isNonNeg(c.rtxInMs)) || !(c.otherInMs === -1 || isNonNeg(c.otherInMs))) bad('a timer');
  if (!Number.isInteger(c.sndWscale) || !Number.isInteger(c.rcvWscale) || (c.sndWscale as number) < 0 || (c.sndWscale as number) > 14 ||
      (c.rcvWscale as number) < 0 || (c.rcvWscale as number) > 14) bad('a window scale');
  if (!Number.isInteger(c.sendMss) || (c.sendMss as number) < 64 || (c.sendMss as number) > 65535) bad('sendMss');
  if (!(c.sndBuf instanceof Uint8Array) || !(c.rcvQueue instanceof Uint8Array) || c.sndBuf.length + c.rcvQueue.length > MAX_BUFFERED) bad('the buffers');
  if (!Array.isArray(c.ooo) || c.ooo.length > 64 ||
      !c.ooo.every((o: { seq?: unknown; data?: unknown; fin?: unknown }) => isU32(o?.seq) && o.data instanceof Uint8Array && o.data.length <= 0xffff && typeof o.fin === 'boolean')) bad('ooo');
  if (!Array.isArray(c.sacked) || c.sacked.length > 64 || !c.sacked.every((r: { start?: unknown; end?: unknown }) => isU32(r?.start) && isU32(r?.end))) bad('sacked');
  const st = c.stats as Record<string, unknown> | undefined;
  if (typeof st !== 'object' || st === null || !['retransmits', 'timeouts', 'fastRetransmits', 'sackRetransmits'].every((k) => isNonNeg(st[k]))) bad('stats');
  const ka = c.keepalive as Record<string, unknown> | undefined;
  if (ka !== undefined && (typeof ka !== 'object' || ka === null || !['idleMs', 'intervalMs', 'count', 'sent'].every((k) => isNonNeg(ka[k])))) bad('keepalive');
}

/** `v` as a TcpSnapshot, or EINVAL saying what is wrong. */
export function checkTcpSnapshot(v: unknown): TcpSnapshot {
  const s = v as Partial<TcpSnapshot> | null;
  if (typeof s !== 'object' || s === null || !Array.isArray(s.connections) || !Array.isArray(s.listeners)) bad('not a TCP snapshot');
  for (const c of s.connections) checkConnection(c as unknown as Record<string, unknown>);
  for (const l of s.listeners) if (!isPort(l?.port) || !Number.isInteger(l.backlog) || l.backlog < 1) bad('a listener');
  return s as TcpSnapshot;
}
