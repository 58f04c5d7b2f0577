import { type NetFrameInfo } from '../../src/abi/netif.js';
import type { PortDevice, PortFeatures } from '../../src/network/port.js';
export declare const NO_OFFLOADS: PortFeatures;
export declare const ALL_OFFLOADS: PortFeatures;
/** A port's device that keeps a copy of every frame delivered to it. */
export declare class Sink implements PortDevice {
    readonly name: string;
    readonly features: PortFeatures;
    readonly frames: Uint8Array[];
    readonly infos: NetFrameInfo[];
    /** Refuse frames (as a device with no room) while false. */
    accept: boolean;
    constructor(name: string, features?: PortFeatures);
    deliver(frame: Uint8Array, info: NetFrameInfo): boolean;
    take(): Uint8Array[];
}
export declare function mac(text: string): Uint8Array;
/** An Ethernet II frame: dst, src, optional 802.1Q VID, ethertype, payload. */
export declare function ethFrame(dst: string, src: string, opts?: {
    vid?: number;
    pcp?: number;
    type?: number;
    payload?: Uint8Array;
}): Uint8Array;
export declare const plain: NetFrameInfo;
/** The VID of a delivered frame, or undefined if untagged. */
export declare function vidOf(frame: Uint8Array): number | undefined;
export interface PacketOpts {
    readonly proto?: 6 | 17;
    readonly payload?: Uint8Array;
    readonly seq?: number;
    readonly id?: number;
    /** TCP flags byte. */
    readonly flags?: number;
    readonly vid?: number;
    /** IPv6 extension headers (hop-by-hop) of this many 8-byte units before TCP/UDP. */
    readonly hopByHop?: boolean;
    /** Ethernet padding after the IP packet. */
    readonly pad?: number;
    /** Destination port (9, discard, by default: no dissector guesses at the payload). */
    readonly dport?: number;
}
/** An IPv4 or IPv6 packet with a TCP (20-byte header + 12 bytes of options) or UDP header, L4 checksum left 0 (csumBlank). */
export declare function ipPacket(v: 4 | 6, o?: PacketOpts): Uint8Array;
/**
 * The reference: RFC 1071's checksum computed the plain way (a pseudo-header built as its own
 * buffer, 16-bit words summed with end-around carry), to check the switch's against.
 */
export declare function referenceL4Checksum(frame: Uint8Array): {
    field: number;
    want: number;
};
/** A capture sink in memory, with a backlog the test sets. */
export declare class MemorySink {
    readonly chunks: Uint8Array[];
    backlog: number;
    write(chunk: Uint8Array): void;
    bytes(): Uint8Array;
}
export interface PcapRecordView {
    readonly secs: number;
    readonly usecs: number;
    readonly caplen: number;
    readonly len: number;
    readonly data: Uint8Array;
}
/** Read a classic little-endian pcap file back: its header fields and records. */
export declare function readPcap(file: Uint8Array): {
    magic: number;
    major: number;
    minor: number;
    snaplen: number;
    linktype: number;
    records: PcapRecordView[];
};
