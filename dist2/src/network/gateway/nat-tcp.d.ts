import type { NetFrameInfo } from '../../abi/netif.js';
import { type Ipv4 } from '../../tcpip/addr.js';
import type { TcpSocket } from '../../tcpip/index.js';
import type { Persona } from './persona.js';
export interface TcpNatLimits {
    /** NAT'd connections at once (any state). */
    readonly maxFlows: number;
    /** Host connects in flight at once: a SYN flood waits on these, never on more sockets. */
    readonly maxConnecting: number;
    /** From the SYN to a spliced pair (the host connect and the guest's handshake). */
    readonly handshakeMs: number;
}
export declare const TCP_NAT_DEFAULTS: TcpNatLimits;
export interface TcpNatCounters {
    syns: number;
    connected: number;
    refused: number;
    dropped: number;
}
/** A guest's SYN as the gateway's demultiplexer found it. */
export interface Syn {
    readonly frame: Uint8Array;
    readonly info: NetFrameInfo;
    readonly src: Ipv4;
    readonly srcMac: Uint8Array;
    readonly dst: Ipv4;
    readonly srcPort: number;
    readonly dstPort: number;
    readonly seq: number;
}
export interface TcpNatHost {
    /** The persona for `dst`, made if need be; undefined when there may be no more. */
    persona(dst: Ipv4): Persona | undefined;
    /** A persona no flow uses any more. */
    idle(p: Persona): void;
    /** Where a connection to `dst` goes on the host. */
    hostAddress(dst: Ipv4): string;
}
export declare class TcpNat {
    #private;
    private readonly host;
    private readonly limits;
    readonly counters: TcpNatCounters;
    constructor(host: TcpNatHost, limits?: TcpNatLimits);
    get flows(): number;
    get connecting(): number;
    /** A SYN (without ACK) from a guest to `dst`. */
    syn(s: Syn): void;
    /** The persona's stack completed a handshake with a guest. */
    accepted(persona: Persona, sock: TcpSocket): void;
    close(): void;
}
