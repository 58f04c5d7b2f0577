// The TCP layer's state as plain, structured-cloneable data (each connection's is
// ConnectionSnapshot, beside the TCB in connection.ts): what a guest's suspend record carries so
// that its connections go on after a restore or a migration. A snapshot read back from a save
// file is outside input: checkTcpSnapshot refuses any that is not well-formed.
import { TcpipError } from '../errors.js';
import type { ConnectionSnapshot } from './connection.js';
import type { SecretWords } from './isn.js';

export interface TcpSnapshot {
  readonly connections: readonly ConnectionSnapshot[];
  /** Ports that were listening, with their backlog. */
  readonly listeners: readonly { readonly port: number; readonly backlog: number }[];
  /**
   * RFC 6528's secrets and the sequence clock (ms) at the snapshot (isn.ts), so that ISNs and
   * timestamps go on growing after a restore; absent in a record made before they were carried
   * (the restored stack draws new ones, as it did then).
   */
  readonly sequence?: { readonly secrets: SecretWords; readonly clockMs: number };
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

/** Checks shared with the stack's own snapshot (../snapshot.ts). */
export const isU32 = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
export const isNonNeg = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
/**
 * A sequence clock reads less (1,100 years): its ticks (250 a ms) then stay exact integers below
 * 2^53 with decades of the new host's running added on top.
 */
const MAX_CLOCK_MS = 2 ** 45;
/** Every index of `a` passes (Array.every skips holes, and a v8-deserialized array may have them). */
function all<T>(a: readonly T[], ok: (v: T) => boolean): boolean {
  for (let i = 0; i < a.length; i++) if (!ok(a[i]!)) return false;
  return true;
}

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
      !all(c.ooo, (o: { seq?: unknown; data?: unknown; fin?: unknown }) => isU32(o?.seq) && o.data instanceof Uint8Array && o.data.length <= 0xffff && typeof o.fin === 'boolean')) bad('ooo');
  if (!Array.isArray(c.sacked) || c.sacked.length > 64 || !all(c.sacked, (r: { start?: unknown; end?: unknown }) => isU32(r?.start) && isU32(r?.end))) bad('sacked');
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
  if (s.sequence !== undefined) {
    const q = s.sequence as { secrets?: unknown; clockMs?: unknown } | null;
    if (typeof q !== 'object' || q === null || !Array.isArray(q.secrets) || q.secrets.length !== 4 || !all(q.secrets, isU32) ||
        !isNonNeg(q.clockMs) || (q.clockMs as number) > MAX_CLOCK_MS) bad('the sequence secrets');
  }
  return s as TcpSnapshot;
}
