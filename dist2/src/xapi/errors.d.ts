export declare class XapiError extends Error {
    readonly code: string;
    readonly params: readonly string[];
    name: string;
    constructor(code: string, params?: readonly string[]);
    /** ErrorDescription: the code, then its parameters. */
    get description(): string[];
}
export declare const sessionInvalid: (ref: string) => XapiError;
export declare const handleInvalid: (cls: string, ref: string) => XapiError;
export declare const methodUnknown: (method: string) => XapiError;
export declare const parameterCountMismatch: (method: string, expected: number, received: number) => XapiError;
/** XAPI's FIELD_TYPE_ERROR names the parameter whose value is of the wrong type. */
export declare const fieldTypeError: (field: string) => XapiError;
export declare const operationNotAllowed: (why: string) => XapiError;
export declare const vmBadPowerState: (vm: string, expected: string, actual: string) => XapiError;
export declare const internalError: (why: string) => XapiError;
/**
 * A failure of the command layer, in XAPI's terms: a domain that went away is a stale handle,
 * a request the domain's state refuses is not allowed, anything else is internal.
 */
export declare function toXapiError(e: unknown, handle?: {
    cls: string;
    ref: string;
}): XapiError;
