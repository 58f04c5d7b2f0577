import type { NetFrameInfo } from '../abi/netif.js';
import { type Ipv4 } from './addr.js';
import type { Arp } from './arp.js';
import type { Clock } from './clock.js';
import { type Ethernet } from './ethernet.js';
import { Reassembly, type ReassemblyOptions } from './reassembly.js';
export declare const PROTO_ICMP = 1;
export declare const PROTO_TCP = 6;
export declare const PROTO_UDP = 17;
export declare const IPV4_HLEN = 20;
export interface Ipv4Config {
    address: Ipv4;
    /** The subnet mask (contiguous). */
    netmask: Ipv4;
    gateway: Ipv4 | undefined;
}
/** A received datagram, whole (reassembled if it came in fragments). */
export interface Ipv4Packet {
    readonly src: Ipv4;
    readonly dst: Ipv4;
    readonly proto: number;
    readonly ttl: number;
    /** The IP header and at least the first 8 payload bytes, as ICMP errors quote them. */
    readonly quote: Uint8Array;
    readonly payload: Uint8Array;
    readonly info: NetFrameInfo;
}
export interface Ipv4Counters {
    rxPackets: number;
    rxBadHeader: number;
    rxNotForUs: number;
    rxNoProtocol: number;
    txPackets: number;
    txFragments: number;
    txNoRoute: number;
}
export interface SendOptions {
    /** Don't fragment: TCP sizes its segments to the path MTU itself. */
    df?: boolean;
    info?: NetFrameInfo;
    ttl?: number;
}
export declare class Ipv4Layer {
    #private;
    readonly eth: Ethernet;
    readonly arp: Arp;
    config: Ipv4Config;
    readonly reassembly: Reassembly;
    readonly counters: Ipv4Counters;
    /** Called for a datagram to a protocol nobody handles (ICMP answers protocol unreachable). */
    onUnknownProtocol: (p: Ipv4Packet) => void;
    constructor(eth: Ethernet, arp: Arp, clock: Clock, reassembly?: Partial<ReassemblyOptions>);
    get mtu(): number;
    /** Where an L4 header starts in a frame from alloc(). */
    get l4Offset(): number;
    on(proto: number, fn: (p: Ipv4Packet) => void): void;
    /** A zeroed frame with room for `l4len` bytes at l4Offset. */
    alloc(l4len: number): Uint8Array;
    /** As alloc(), not zeroed: the caller writes all of its L4 bytes. */
    allocRaw(l4len: number): Uint8Array;
    isLocalBroadcast(a: Ipv4): boolean;
    /** The next hop for `dst`, or undefined when there is none. */
    nextHop(dst: Ipv4): Ipv4 | undefined;
    /** Throws NoRoute when `dst` is unreachable from here (no address, off-subnet without a gateway). */
    checkRoute(dst: Ipv4): void;
    /** The path MTU towards `dst`. */
    pathMtu(dst: Ipv4): number;
    /** ICMP said packets to `dst` must be at most `mtu` bytes. */
    lowerPathMtu(dst: Ipv4, mtu: number): void;
    /**
     * Send the L4 bytes at l4Offset of `frame` (from alloc) to `dst`. Returns false (and counts)
     * when there is no route; larger-than-MTU datagrams are fragmented unless `df`.
     */
    output(frame: Uint8Array, dst: Ipv4, proto: number, opts?: SendOptions, src?: number): boolean;
    input(frame: Uint8Array, o: number, info: NetFrameInfo): void;
}
