// A hypercall's typed error as a short code and back, for a boundary only primitives cross (a
// shared pCPU's one copy of a hypercall answers a realm with one: guest/pcpu-hypercalls.ts).
// The code is the errno name of a XenError, or the state of a LockError (its errno alone would
// not tell an 'owner-dead' lock from a 'not-recoverable' one).
import { XEN_ERRNO, XenError, type XenErrnoName } from '../errors.js';
import { LockError } from './lock.js';

const LOCK_STATES: ReadonlySet<string> = new Set<LockError['state']>(['owner-dead', 'not-recoverable', 'timed-out']);

/** The code of a hypercall's typed error, or undefined for any other error (a bug: not answered as a hypercall's). */
export function errorCode(e: unknown): string | undefined {
  if (e instanceof LockError) return e.state;
  if (e instanceof XenError) return e.errno;
  return undefined;
}

/** The error of the same type, errno (and lock state) as the one `code` came from. */
export function errorOf(code: string, detail: string): XenError {
  if (LOCK_STATES.has(code)) return new LockError(code as LockError['state'], detail);
  if (Object.hasOwn(XEN_ERRNO, code)) return new XenError(code as XenErrnoName, detail);
  throw new TypeError(`not a hypercall error's code: ${code}`);
}
