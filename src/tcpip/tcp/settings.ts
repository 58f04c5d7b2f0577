// The TCP layer's settings, and the 4-tuple half a segment needs.
import type { Ipv4 } from '../addr.js';
import { RTO_DEFAULTS, type RtoOptions } from './rto.js';

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
  /** Offer and use selective acknowledgements (RFC 2018). */
  sack: boolean;
}

export const TCP_DEFAULTS: TcpConfig = {
  sndBufMax: 1024 * 1024,
  rcvBufMax: 1024 * 1024,
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
  sack: true,
};

/** The 4-tuple half a segment needs besides our address. */
export interface Endpoint {
  readonly localPort: number;
  readonly remoteAddr: Ipv4;
  readonly remotePort: number;
}
