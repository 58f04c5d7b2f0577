import type { Ipv4 } from '../../tcpip/addr.js';
import type { TcpipStack } from '../../tcpip/index.js';
export interface UdpNatLimits {
    readonly maxFlows: number;
    readonly idleMs: number;
}
export declare const UDP_NAT_DEFAULTS: UdpNatLimits;
export interface UdpNatCounters {
    flows: number;
    toHost: number;
    toGuest: number;
}
export declare class UdpNat {
    #private;
    private readonly reply;
    private readonly hostAddress;
    readonly counters: UdpNatCounters;
    /**
     * `reply` is the stack that sends answers to guests (from the destination's address);
     * `hostAddress` maps a destination to where it is on the host.
     */
    constructor(reply: TcpipStack, hostAddress: (dst: Ipv4) => string, limits?: UdpNatLimits);
    get size(): number;
    /** Flows that had to go to make room for new ones. */
    get evicted(): number;
    /** A datagram from a guest (its payload valid during the call). */
    input(src: Ipv4, srcPort: number, dst: Ipv4, dstPort: number, payload: Uint8Array): void;
    close(): void;
}
