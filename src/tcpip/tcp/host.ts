// What a connection needs from the TCP layer that owns it, and the layer's settings.
import type { Ipv4 } from '../addr.js';
import type { Clock } from '../clock.js';
import type { Connection } from './connection.js';
import { RTO_DEFAULTS, type RtoOptions } from './rto.js';
import type { TcpOptions } from './wire.js';

export interface TcpConfig {
  /** Bytes queued for sending per connection (write() backpressure beyond this). */
  sndBufMax: number;
  /** Bytes received and not yet read per connection: the largest window we advertise. */
  rcvBufMax: number;
  /** Maximum segment lifetime: TIME-WAIT lasts twice this. */
  mslMs: number;
  /** How long FIN-WAIT-2 waits for the peer's FIN. */
  finWait2Ms: number;
  delayedAckMs: number;
  /** Retransmissions of a SYN / SYN-ACK, and of data, before giving up. */
  synRetries: number;
  dataRetries: number;
  rto: RtoOptions;
  /** Largest GSO super-frame payload when the vif negotiated GSO. */
  gsoMax: number;
  /** Connections (any state but LISTEN) the stack keeps at most; SYNs beyond it are dropped. */
  maxConnections: number;
  /** TIME-WAIT connections kept at most; the oldest ends early when a new one needs room. */
  maxTimeWait: number;
  /** Default listen backlog: half-open connections per listener (the oldest is dropped when full). */
  backlog: number;
}

export const TCP_DEFAULTS: TcpConfig = {
  sndBufMax: 256 * 1024,
  rcvBufMax: 256 * 1024,
  mslMs: 30_000,
  finWait2Ms: 60_000,
  delayedAckMs: 40,
  synRetries: 5,
  dataRetries: 12,
  rto: RTO_DEFAULTS,
  gsoMax: 65536 - 1024,
  maxConnections: 16384,
  maxTimeWait: 4096,
  backlog: 128,
};

/** The 4-tuple half a segment needs besides our address. */
export interface Endpoint {
  readonly localPort: number;
  readonly remoteAddr: Ipv4;
  readonly remotePort: number;
}

export interface TcpHost {
  readonly clock: Clock;
  readonly config: TcpConfig;
  readonly random: () => number;
  /** The vif does GSO: segments may be super-frames of several MSS. */
  readonly gso: boolean;
  pathMtu(addr: Ipv4): number;
  /**
   * Send one segment; `len` payload bytes are copied from the connection's send buffer at
   * `bufOffset`.
   */
  emit(c: Connection, seq: number, ack: number, flags: number, window: number, opts: TcpOptions | undefined,
    len: number, bufOffset: number): void;
  /** The handshake completed. */
  established(c: Connection): void;
  /** The connection entered TIME-WAIT. */
  timeWait(c: Connection): void;
  /** The connection is CLOSED: forget it. */
  release(c: Connection): void;
}
