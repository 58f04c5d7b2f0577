import { type Ipv4 } from './addr.js';
import type { Clock } from './clock.js';
import { type Ipv4Layer, type Ipv4Packet } from './ipv4.js';
export declare const ICMP_ECHO_REPLY = 0;
export declare const ICMP_UNREACHABLE = 3;
export declare const ICMP_ECHO_REQUEST = 8;
export declare const UNREACH_NET = 0;
export declare const UNREACH_HOST = 1;
export declare const UNREACH_PROTOCOL = 2;
export declare const UNREACH_PORT = 3;
export declare const UNREACH_FRAG_NEEDED = 4;
/** An ICMP error about a datagram we sent, as upper layers see it. */
export interface IcmpError {
    readonly type: number;
    readonly code: number;
    /** The next-hop MTU of a fragmentation-needed message. */
    readonly mtu: number;
    /** From the quoted header: our datagram's destination and protocol, and its first 8 L4 bytes. */
    readonly dst: Ipv4;
    readonly proto: number;
    readonly l4: Uint8Array;
}
export declare class Icmp {
    #private;
    private readonly ip;
    private readonly clock;
    rxBad: number;
    errorsSuppressed: number;
    constructor(ip: Ipv4Layer, clock: Clock);
    /** Upper layer `proto` wants to hear of unreachable errors about its datagrams. */
    onError(proto: number, fn: (e: IcmpError) => void): void;
    input(p: Ipv4Packet): void;
    /** Tell the sender of `p` that it cannot be delivered (rate limited; never about ICMP errors or broadcasts). */
    unreachable(p: Ipv4Packet, code: number): void;
    /** Echo `addr`; resolves with the round trip in ms, rejects with Timeout. */
    ping(addr: Ipv4, timeoutMs?: number, payload?: Uint8Array<ArrayBuffer>): Promise<number>;
}
