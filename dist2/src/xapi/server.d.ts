import type { XapiService } from './service.js';
export interface XapiHttpLimits {
    /** A request body larger than this is refused (413) before it is parsed. */
    readonly maxBodyBytes: number;
    /** A client has this long to send its request's headers... */
    readonly headersTimeoutMs: number;
    /** ...and this long for the whole request. */
    readonly requestTimeoutMs: number;
    /** An idle keep-alive connection is closed after this. */
    readonly keepAliveTimeoutMs: number;
    /** Connections at once per listener; more are closed at once. */
    readonly maxConnections: number;
    /** Calls running at once; more are answered 503. */
    readonly maxInFlight: number;
}
export declare const XAPI_HTTP_LIMITS: XapiHttpLimits;
export interface XapiListen {
    /** HTTPS on TCP: port 0 picks a free one. */
    readonly tcp?: {
        readonly host: string;
        readonly port: number;
        readonly key: string;
        readonly cert: string;
    };
    /** Plain HTTP on a Unix socket (0600). */
    readonly unixPath?: string;
}
export declare class XapiServer {
    #private;
    private readonly svc;
    readonly limits: XapiHttpLimits;
    private constructor();
    static listen(svc: XapiService, where: XapiListen, limits?: Partial<XapiHttpLimits>): Promise<XapiServer>;
    /** The TCP port served (the one picked, for port 0). */
    get port(): number;
    close(): Promise<void>;
}
