import type { Ipv4 } from '../addr.js';
import { type RtoOptions } from './rto.js';
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
export declare const TCP_DEFAULTS: TcpConfig;
/** The 4-tuple half a segment needs besides our address. */
export interface Endpoint {
    readonly localPort: number;
    readonly remoteAddr: Ipv4;
    readonly remotePort: number;
}
