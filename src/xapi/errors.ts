// XAPI's errors: a code and string parameters, as XAPI's ErrorDescription carries them
// (["SESSION_INVALID", "OpaqueRef:..."]). The codes are XAPI's own (ocaml/idl/datamodel_errors.ml),
// so clients that branch on them (the xen-api client retries on SESSION_INVALID, restarts its
// event loop on EVENTS_LOST) work unchanged.
import { XenError } from '../errors.js';
import { SrDirUnsafe, SrExists, SrUnplugged } from '../storage/sr.js';
import { InvalidArgument } from '../toolstack/contract.js';
import { HandleInvalid, UuidInvalid } from '../toolstack/db/hostdb.js';

export class XapiError extends Error {
  override name = 'XapiError';
  constructor(readonly code: string, readonly params: readonly string[] = []) {
    super(`${code}(${params.join(', ')})`);
  }

  /** ErrorDescription: the code, then its parameters. */
  get description(): string[] {
    return [this.code, ...this.params];
  }
}

export const sessionInvalid = (ref: string) => new XapiError('SESSION_INVALID', [ref]);
export const handleInvalid = (cls: string, ref: string) => new XapiError('HANDLE_INVALID', [cls, ref]);
export const methodUnknown = (method: string) => new XapiError('MESSAGE_METHOD_UNKNOWN', [method]);
export const parameterCountMismatch = (method: string, expected: number, received: number) =>
  new XapiError('MESSAGE_PARAMETER_COUNT_MISMATCH', [method, String(expected), String(received)]);
/** XAPI's FIELD_TYPE_ERROR names the parameter whose value is of the wrong type. */
export const fieldTypeError = (field: string) => new XapiError('FIELD_TYPE_ERROR', [field]);
export const operationNotAllowed = (why: string) => new XapiError('OPERATION_NOT_ALLOWED', [why]);
export const vmBadPowerState = (vm: string, expected: string, actual: string) =>
  new XapiError('VM_BAD_POWER_STATE', [vm, expected, actual]);
export const internalError = (why: string) => new XapiError('INTERNAL_ERROR', [why]);

/** XAPI's SR_FULL [requested, maximum], from the storage layer's message (which survives a task's round trip as text). */
function srFull(detail: string): XapiError | undefined {
  const m = /is full: the copy needs about (\d+) bytes, (\d+) are free/.exec(detail);
  return m ? new XapiError('SR_FULL', [m[1]!, m[2]!]) : undefined;
}

/**
 * A failure of the command layer, in XAPI's terms: a domain that went away is a stale handle,
 * a request the domain's state refuses is not allowed, anything else is internal.
 */
export function toXapiError(e: unknown, handle?: { cls: string; ref: string }): XapiError {
  if (e instanceof XapiError) return e;
  if (e instanceof HandleInvalid) return handleInvalid(e.cls, e.ref);
  if (e instanceof UuidInvalid) return new XapiError('UUID_INVALID', [e.cls, e.uuid]);
  if (e instanceof InvalidArgument) return new XapiError('INVALID_VALUE', [e.field ?? '', e.message]);
  // FileSR refuses a directory that holds files (SRExists), which XAPI reports as its backend's failure.
  if (e instanceof SrExists) return new XapiError('SR_BACKEND_FAILURE_42', ['', `The SR already exists [opterr=${e.detail}]`, '']);
  // An SR left unplugged is XAPI's SR_NOT_ATTACHED; its directory refused at plug, sm's SRUnavailable (a failed PBD.plug).
  if (e instanceof SrUnplugged) return new XapiError('SR_NOT_ATTACHED', [e.ref]);
  if (e instanceof SrDirUnsafe) return new XapiError('SR_BACKEND_FAILURE_47', ['', `The SR is not available [opterr=${e.detail}]`, '']);
  if (e instanceof XenError) {
    if (e.errno === 'ESRCH' && handle) return handleInvalid(handle.cls, handle.ref);
    const full = e.errno === 'ENOSPC' ? srFull(e.detail) : undefined;
    if (full) return full;
    if (e.errno === 'EINVAL' || e.errno === 'EPERM' || e.errno === 'EBUSY' || e.errno === 'EEXIST' || e.errno === 'EOPNOTSUPP') return operationNotAllowed(e.detail);
    return internalError(e.message);
  }
  return internalError(e instanceof Error ? e.message : String(e));
}
