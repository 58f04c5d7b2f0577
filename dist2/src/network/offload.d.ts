import { type NetFrameInfo } from '../abi/netif.js';
export declare const IPPROTO_TCP = 6;
export declare const IPPROTO_UDP = 17;
/** Linux's TCP_MIN_MSS: a GSO size below it is bogus. */
export declare const TCP_MIN_MSS = 88;
/** Frames whose checksums are complete and verified by the switch that completed them. */
export declare const COMPLETED: NetFrameInfo;
/** Where a frame's IP and L4 headers are, and what the L4 checksum covers. */
interface L4 {
    readonly l3: number;
    readonly v6: boolean;
    /** Bytes of the IPv4 header, or of the IPv6 header with its extension headers. */
    readonly ipHdrLen: number;
    readonly l4: number;
    readonly proto: number;
    /** L4 header and payload (trailing Ethernet padding excluded). */
    readonly l4Len: number;
}
/** Parse Ethernet (one optional 802.1Q tag), IPv4 or IPv6, to a TCP or UDP header; null if the frame is not such a packet or is inconsistent. */
export declare function locateL4(frame: Uint8Array): L4 | null;
/** A copy of the frame with its TCP/UDP checksum filled in; null if it is not a TCP or UDP packet. */
export declare function completeChecksum(frame: Uint8Array): Uint8Array | null;
/**
 * Cut a GSO super-frame into TCP segments of at most `mss` payload bytes, each complete
 * (checksums filled). Null if the frame is not a TCP packet of the GSO type's IP version or
 * the MSS is bogus.
 */
export declare function segmentGso(frame: Uint8Array, gso: NonNullable<NetFrameInfo['gso']>): Uint8Array[] | null;
/** Does a port with these features need the frame completed first? */
export declare function needsCompletion(info: NetFrameInfo, f: {
    csumOffload: boolean;
    gsoTcpv4: boolean;
    gsoTcpv6: boolean;
}): boolean;
/** The frames a port without the offloads receives for this one; null if it cannot be completed (dropped). */
export declare function completeOffloads(frame: Uint8Array, info: NetFrameInfo): Uint8Array[] | null;
export {};
