// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): comparisons by signed difference.
import { DOUBLE_ZERO } from '../../double-fields.js';

/**
 * What a field (or an object literal's property) that will hold sequence numbers or timestamps
 * starts as: a double 0 (double-fields.ts), since half of all sequence numbers, so a
 * connection's first such ISS, are past 2^31.
 */
export const SEQ_INIT = DOUBLE_ZERO;

/** A range [start, end) of sequence numbers (a SACK block), its fields doubles from the first (see SEQ_INIT). */
export function seqRange(start: number, end: number): { start: number; end: number } {
  const r = { start: SEQ_INIT, end: SEQ_INIT };
  r.start = start;
  r.end = end;
  return r;
}

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a - b as a signed 32-bit distance. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
