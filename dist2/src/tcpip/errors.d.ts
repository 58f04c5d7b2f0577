export type TcpipErrorCode = 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EHOSTUNREACH' | 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EINVAL' | 'ENOTCONN' | 'EMFILE' | 'ENOTFOUND';
export declare class TcpipError extends Error {
    readonly code: TcpipErrorCode;
    name: string;
    constructor(code: TcpipErrorCode, message: string);
}
/** The peer answered the SYN with a RST (or an ICMP port unreachable). */
export declare class ConnectionRefused extends TcpipError {
    name: string;
    constructor(message: string);
}
/** The peer reset an established connection, or the stack aborted it. */
export declare class ConnectionReset extends TcpipError {
    name: string;
    constructor(message: string);
}
/** Retransmissions, keepalive probes or a resolver gave up. */
export declare class Timeout extends TcpipError {
    name: string;
    constructor(message: string);
}
/** No address, no route, or ARP found nobody at the next hop. */
export declare class NoRoute extends TcpipError {
    name: string;
    constructor(message: string);
}
