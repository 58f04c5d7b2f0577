// XAPI's errors: a code and string parameters, as XAPI's ErrorDescription carries them
// (["SESSION_INVALID", "OpaqueRef:..."]). The codes are XAPI's own (ocaml/idl/datamodel_errors.ml),
// so clients that branch on them (the xen-api client retries on SESSION_INVALID, restarts its
// event loop on EVENTS_LOST) work unchanged.
import { XenError } from '../errors.js';
import { InvalidArgument } from '../toolstack/contract.js';
import { HandleInvalid, UuidInvalid } from '../toolstack/db/hostdb.js';
export class XapiError extends Error {
    code;
    params;
    name = 'XapiError';
    constructor(code, params = []) {
        super(`${code}(${params.join(', ')})`);
        this.code = code;
        this.params = params;
    }
    /** ErrorDescription: the code, then its parameters. */
    get description() {
        return [this.code, ...this.params];
    }
}
export const sessionInvalid = (ref) => new XapiError('SESSION_INVALID', [ref]);
export const handleInvalid = (cls, ref) => new XapiError('HANDLE_INVALID', [cls, ref]);
export const methodUnknown = (method) => new XapiError('MESSAGE_METHOD_UNKNOWN', [method]);
export const parameterCountMismatch = (method, expected, received) => new XapiError('MESSAGE_PARAMETER_COUNT_MISMATCH', [method, String(expected), String(received)]);
/** XAPI's FIELD_TYPE_ERROR names the parameter whose value is of the wrong type. */
export const fieldTypeError = (field) => new XapiError('FIELD_TYPE_ERROR', [field]);
export const operationNotAllowed = (why) => new XapiError('OPERATION_NOT_ALLOWED', [why]);
export const vmBadPowerState = (vm, expected, actual) => new XapiError('VM_BAD_POWER_STATE', [vm, expected, actual]);
export const internalError = (why) => new XapiError('INTERNAL_ERROR', [why]);
/**
 * A failure of the command layer, in XAPI's terms: a domain that went away is a stale handle,
 * a request the domain's state refuses is not allowed, anything else is internal.
 */
export function toXapiError(e, handle) {
    if (e instanceof XapiError)
        return e;
    if (e instanceof HandleInvalid)
        return handleInvalid(e.cls, e.ref);
    if (e instanceof UuidInvalid)
        return new XapiError('UUID_INVALID', [e.cls, e.uuid]);
    if (e instanceof InvalidArgument)
        return new XapiError('INVALID_VALUE', [e.field ?? '', e.message]);
    if (e instanceof XenError) {
        if (e.errno === 'ESRCH' && handle)
            return handleInvalid(handle.cls, handle.ref);
        if (e.errno === 'EINVAL' || e.errno === 'EPERM' || e.errno === 'EBUSY' || e.errno === 'EEXIST' || e.errno === 'EOPNOTSUPP')
            return operationNotAllowed(e.detail);
        return internalError(e.message);
    }
    return internalError(e instanceof Error ? e.message : String(e));
}
//# sourceMappingURL=errors.js.map