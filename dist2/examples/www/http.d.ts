export interface HttpLimits {
    /** The request line and header fields, with their CRLFs. */
    readonly maxHeaderBytes: number;
    readonly maxHeaders: number;
    readonly maxTarget: number;
    readonly maxBody: number;
}
export declare const HTTP_LIMITS: HttpLimits;
export interface HttpRequest {
    readonly method: string;
    readonly target: string;
    readonly version: '1.0' | '1.1';
    /** Lowercase names; repeated fields joined with ", " (RFC 9110 §5.3). */
    readonly headers: ReadonlyMap<string, string>;
    readonly body: Uint8Array;
    /** Whether the connection stays open after the response. */
    readonly keepAlive: boolean;
}
/** A request the server refuses: respond with `status`, then close. */
export declare class HttpError extends Error {
    readonly status: number;
    name: string;
    constructor(status: number, message: string);
}
export declare class RequestParser {
    #private;
    private readonly limits;
    constructor(limits?: HttpLimits);
    /** Bytes received so far and not yet part of a whole request. */
    get buffered(): number;
    /** Add bytes from the connection; returns the requests they completed. Throws HttpError. */
    push(chunk: Uint8Array): HttpRequest[];
}
/** A whole response: status line, fields (Content-Length always), body unless `head`. */
export declare function response(status: number, type: string, body: Uint8Array, opts?: {
    keepAlive: boolean;
    head?: boolean;
    extra?: string;
}): Uint8Array;
