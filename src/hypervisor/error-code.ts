// A hypercall's typed error as a short code and back, for a boundary only primitives cross (a
// shared pCPU's one copy of a hypercall answers a realm with one: guest/pcpu-hypercalls.ts).
// The code is the errno name of a XenError. (A send waits for no lock, so none of its errors is a
// LockError: no code carries a lock's state.)
import { XEN_ERRNO, XenError, type XenErrnoName } from '../errors.js';

/** The code of a hypercall's typed error, or undefined for any other error (a bug: not answered as a hypercall's). */
export function errorCode(e: unknown): string | undefined {
  if (e instanceof XenError) return e.errno;
  return undefined;
}

/** The error of the same type and errno as the one `code` came from. */
export function errorOf(code: string, detail: string): XenError {
  if (Object.hasOwn(XEN_ERRNO, code)) return new XenError(code as XenErrnoName, detail);
  throw new TypeError(`not a hypercall error's code: ${code}`);
}
