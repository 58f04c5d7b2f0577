// Typed errors of the TCP/IP stack. `code` is the POSIX name a Node programmer expects
// (err.code === 'ECONNRESET'), the class says the same thing to `instanceof`.
export class TcpipError extends Error {
    code;
    name = 'TcpipError';
    constructor(code, message) {
        super(`${code}: ${message}`);
        this.code = code;
    }
}
/** The peer answered the SYN with a RST (or an ICMP port unreachable). */
export class ConnectionRefused extends TcpipError {
    name = 'ConnectionRefused';
    constructor(message) { super('ECONNREFUSED', message); }
}
/** The peer reset an established connection, or the stack aborted it. */
export class ConnectionReset extends TcpipError {
    name = 'ConnectionReset';
    constructor(message) { super('ECONNRESET', message); }
}
/** Retransmissions, keepalive probes or a resolver gave up. */
export class Timeout extends TcpipError {
    name = 'Timeout';
    constructor(message) { super('ETIMEDOUT', message); }
}
/** No address, no route, or ARP found nobody at the next hop. */
export class NoRoute extends TcpipError {
    name = 'NoRoute';
    constructor(message) { super('EHOSTUNREACH', message); }
}
//# sourceMappingURL=errors.js.map