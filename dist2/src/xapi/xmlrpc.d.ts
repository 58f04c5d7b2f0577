import { XapiError } from './errors.js';
import { type XValue } from './types.js';
export interface XmlLimits {
    /** Elements nested deeper than this are refused (a struct of a struct is 4 levels). */
    readonly maxDepth: number;
    /** Elements in one document. */
    readonly maxElements: number;
}
export declare const XML_LIMITS: XmlLimits;
/** A request that is not well-formed XML-RPC: the transport answers it with an HTTP error. */
export declare class XmlRpcParseError extends Error {
    name: string;
}
export interface MethodCall {
    readonly method: string;
    readonly params: XValue[];
}
/** A methodCall, or XmlRpcParseError. */
export declare function decodeMethodCall(xml: string, limits?: XmlLimits): MethodCall;
/** A methodResponse with XAPI's envelope: the call's value, or its error. */
export declare function encodeResponse(result: {
    ok: true;
    value: XValue;
} | {
    ok: false;
    error: XapiError;
}): string;
/** One value as a document fragment: a task's result field holds its XML-RPC value. */
export declare function encodeValue(v: XValue): string;
