import { type XenErrnoName } from '../errors.js';
/** Requests are small; anything longer is garbage or hostile. */
export declare const MAX_REQUEST_BYTES: number;
/** Replies can be large (list -l of a thousand domains), but not unbounded. */
export declare const MAX_REPLY_BYTES: number;
export interface WireRequest {
    readonly id: number;
    readonly op: string;
    readonly args?: unknown;
}
export interface WireError {
    readonly name: string;
    readonly message: string;
    /** For XenError: its errno name and the detail without the name. */
    readonly errno?: XenErrnoName;
    readonly detail?: string;
}
export type WireReply = {
    readonly id: number;
    readonly ok: true;
    readonly result: unknown;
} | {
    readonly id: number;
    readonly ok: false;
    readonly error: WireError;
};
export declare function encodeError(e: unknown): WireError;
/** The error as the server threw it: a XenError stays one, so callers can test its errno. */
export declare function decodeError(w: WireError): Error;
/** Parse a request line; a malformed one is EINVAL (with the id, if one could be read). */
export declare function parseRequest(line: string): WireRequest;
export declare function encodeLine(message: object): string;
/**
 * Splits a byte stream into lines, refusing a line longer than `limit`. Bytes are copied into
 * one growing buffer and each is searched once, so a line sent a byte at a time costs what it
 * costs in one piece (a client cannot make the host's work grow with the square of its line).
 */
export declare class LineBuffer {
    #private;
    readonly limit: number;
    constructor(limit: number);
    /** Bytes held: the partial line and any lines not taken yet. */
    get length(): number;
    push(chunk: Buffer): void;
    /** The next complete line without its newline, or undefined; E2BIG if a line runs past the limit. */
    next(): string | undefined;
    /** Everything after the last line taken (where a stream starts); empties the buffer. */
    takeRest(): Buffer;
}
