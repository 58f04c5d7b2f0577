// Typed errors of the TCP/IP stack. `code` is the POSIX name a Node programmer expects
// (err.code === 'ECONNRESET'), the class says the same thing to `instanceof`.

export type TcpipErrorCode =
  | 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EHOSTUNREACH' | 'EADDRINUSE' | 'EADDRNOTAVAIL'
  | 'EINVAL' | 'ENOTCONN' | 'EMFILE' | 'ENOTFOUND';

export class TcpipError extends Error {
  override name = 'TcpipError';
  constructor(readonly code: TcpipErrorCode, message: string) {
    super(`${code}: ${message}`);
  }
}

/** The peer answered the SYN with a RST (or an ICMP port unreachable). */
export class ConnectionRefused extends TcpipError {
  override name = 'ConnectionRefused';
  constructor(message: string) { super('ECONNREFUSED', message); }
}

/** The peer reset an established connection, or the stack aborted it. */
export class ConnectionReset extends TcpipError {
  override name = 'ConnectionReset';
  constructor(message: string) { super('ECONNRESET', message); }
}

/** Retransmissions, keepalive probes or a resolver gave up. */
export class Timeout extends TcpipError {
  override name = 'Timeout';
  constructor(message: string) { super('ETIMEDOUT', message); }
}

/** No address, no route, or ARP found nobody at the next hop. */
export class NoRoute extends TcpipError {
  override name = 'NoRoute';
  constructor(message: string) { super('EHOSTUNREACH', message); }
}
