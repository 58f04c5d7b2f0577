// xenode's own part of a suspend (Xen leaves it to the guest): the record a guest's library OS
// writes into its RAM before SCHEDOP_shutdown(suspend), and how a restored domain's start_info
// points at it. A PV guest hands Xen its start_info frame in the suspend hypercall and finds
// start_info again on resume; a xenode guest names its record's frames in the call, and the
// toolstack that restores it puts them in start_info's mod_start/mod_len (mod_start a pfn, as
// SIF_MOD_START_PFN says) with SIF_XENODE_RESUMED set.
//
// The record is V8's structured-clone serialization (what postMessage and structuredClone
// use) of { version, state, io, tcpip }: `state` is what the program's onSuspend handler returned
// (absent: it has none), `io` the program's I/O pages as [first pfn, count] pairs, which stay
// populated (every other RAM frame belongs to the runtime and is freed on resume), `tcpip` the
// state of the guest's TCP/IP stacks, so that its connections go on.
import { deserialize, serialize } from 'node:v8';
import { XenError } from '../errors.js';
import { SI_FLAGS, SI_MOD_LEN, SI_MOD_START } from './xen.js';

/** start_info flags (xen.h): mod_start is a pfn, not a virtual address. */
export const SIF_MOD_START_PFN = 1 << 3;
/** xenode's: the domain resumes from the suspend record at mod_start/mod_len. */
export const SIF_XENODE_RESUMED = 1 << 30;

/** Where a restored domain's record is, from its start_info page (`si`); undefined if it does not resume from one. */
export function resumeFrom(si: DataView): { pfn: number; bytes: number } | undefined {
  if ((si.getUint32(SI_FLAGS, true) & SIF_XENODE_RESUMED) === 0) return undefined;
  return { pfn: Number(si.getBigUint64(SI_MOD_START, true)), bytes: Number(si.getBigUint64(SI_MOD_LEN, true)) };
}

export const SUSPEND_RECORD_VERSION = 1;
/** A state larger than this is refused at suspend (and in a save image). */
export const MAX_SUSPEND_RECORD_BYTES = 64 << 20;

export interface SuspendRecord {
  readonly version: typeof SUSPEND_RECORD_VERSION;
  /** Whether the program handed over a state (a handler may hand over undefined). */
  readonly hasState: boolean;
  readonly state: unknown;
  /** The program's I/O pages: [first pfn, count] pairs. */
  readonly io: readonly (readonly [number, number])[];
  /**
   * The guest's TCP/IP stacks (src/tcpip/snapshot.ts), by the devid the program opened each with;
   * the guest's runtime checks each state when it uses it. Absent in records without stacks.
   * `defaults`: the program gave no option but the devid (the runtime restores it at once).
   */
  readonly tcpip?: readonly { readonly devid: number | undefined; readonly state: unknown; readonly defaults?: boolean }[];
}

/** Throws a DataCloneError (from V8) if the state is not structured-cloneable. */
export function encodeSuspendRecord(r: SuspendRecord): Uint8Array {
  const bytes = serialize(r);
  if (bytes.length > MAX_SUSPEND_RECORD_BYTES) {
    throw new XenError('E2BIG', `the suspend state is ${bytes.length} bytes; the limit is ${MAX_SUSPEND_RECORD_BYTES}`);
  }
  return bytes;
}

/** A domain has at most this many devices of a kind (migration/config.ts reads no more from a save image). */
export const MAX_DEVICES_OF_A_KIND = 256;

/**
 * A record has at most one TCP/IP stack per vif, and one more: os.net() without a devid keys
 * the first vif's as undefined, apart from devid 0's.
 */
export const MAX_SUSPEND_STACKS = MAX_DEVICES_OF_A_KIND + 1;

function badShape(what: string): XenError {
  return new XenError('EINVAL', `the suspend record's ${what}`);
}

/**
 * `v` as a dense array of at most `max` elements, else EINVAL. V8's deserializer makes a sparse
 * array of length 2^32-1 from a few bytes: the length is checked before any walk, and the
 * holes by index (for-of, every() and spread walk every index, holes included).
 */
function denseArray(v: unknown, max: number, what: string): readonly unknown[] {
  if (!Array.isArray(v) || v.length > max) throw badShape(`${what}: not a list of at most ${max}`);
  for (let i = 0; i < v.length; i++) if (!(i in v)) throw badShape(`${what}: a hole at index ${i}`);
  return v;
}

/**
 * The record in `bytes`, checked: valid structured-clone data of the right shape, I/O pages
 * within RAM frames `first` up to `hwm`. Every list in it is bounded and dense before it is
 * walked (the bytes are the guest's, read on dom0's thread by every restore and migration); the
 * program's `state` and each stack's are the guest's own, walked only by its runtime. EINVAL
 * names what is wrong.
 */
export function decodeSuspendRecord(bytes: Uint8Array, first: number, hwm: number): SuspendRecord {
  if (bytes.length > MAX_SUSPEND_RECORD_BYTES) throw new XenError('E2BIG', `the suspend record is ${bytes.length} bytes; the limit is ${MAX_SUSPEND_RECORD_BYTES}`);
  let v: unknown;
  try {
    v = deserialize(bytes);
  } catch (e) {
    throw new XenError('EINVAL', `the suspend state is not valid structured-clone data: ${(e as Error).message}`);
  }
  const r = v as Partial<SuspendRecord> | null;
  if (typeof r !== 'object' || r === null || r.version !== SUSPEND_RECORD_VERSION || typeof r.hasState !== 'boolean') {
    throw new XenError('EINVAL', `the suspend record is not a version ${SUSPEND_RECORD_VERSION} xenode record`);
  }
  // Ranges of at least one frame each, and no two a real record's: at most one per RAM frame.
  // In order and disjoint (the guest sorts them), so that a lookup is a binary search
  // (ioRangesHold): a walk of every range for each frame dom0 asks about is quadratic.
  const io = denseArray(r.io, Math.max(0, hwm - first), 'I/O pages');
  let next = first;
  for (let i = 0; i < io.length; i++) {
    const range = denseArray(io[i], 2, `I/O range ${i}`);
    const [start, count] = range;
    if (range.length !== 2 || !Number.isInteger(start) || !Number.isInteger(count) || (count as number) < 1 || (start as number) < first || (start as number) + (count as number) > hwm) {
      throw new XenError('EINVAL', `the suspend record names I/O pages outside RAM frames ${first}..${hwm}`);
    }
    if ((start as number) < next) throw badShape(`I/O range ${i} begins at ${start as number}, before the end of the one before it (${next}): ranges must be in order and disjoint`);
    next = (start as number) + (count as number);
  }
  if (r.tcpip !== undefined) {
    const stacks = denseArray(r.tcpip, MAX_SUSPEND_STACKS, 'TCP/IP stacks');
    for (let i = 0; i < stacks.length; i++) {
      const t = stacks[i] as { devid?: unknown } | null;
      if (typeof t !== 'object' || t === null || (t.devid !== undefined && !(Number.isInteger(t.devid) && (t.devid as number) >= 0))) {
        throw badShape('TCP/IP stacks are not a list of { devid, state }');
      }
    }
  }
  return r as SuspendRecord;
}

/** Whether one of a checked record's I/O ranges (in order and disjoint) holds frame `pfn`. */
export function ioRangesHold(io: SuspendRecord['io'], pfn: number): boolean {
  let lo = 0;
  let hi = io.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const [start, count] = io[mid]!;
    if (pfn < start) hi = mid;
    else if (pfn >= start + count) lo = mid + 1;
    else return true;
  }
  return false;
}
