import type { Net } from '../drivers/net/front/net.js';
import { type NetFrameInfo } from '../abi/netif.js';
export declare const ETHERTYPE_IPV4 = 2048;
export declare const ETHERTYPE_ARP = 2054;
export declare const ETHERTYPE_VLAN = 33024;
export interface EthernetHeader {
    readonly dst: Uint8Array;
    readonly src: Uint8Array;
    /** The 802.1Q VLAN id, when the frame is tagged. */
    readonly vlan: number | undefined;
    readonly ethertype: number;
    /** Where the payload starts in the frame. */
    readonly payloadOffset: number;
}
/** Decode the header; undefined for a frame too short to hold one. */
export declare function parseEthernet(frame: Uint8Array): EthernetHeader | undefined;
export declare function isBroadcastOrMulticast(mac: Uint8Array): boolean;
export declare function sameMac(a: Uint8Array, b: Uint8Array): boolean;
export interface EthernetCounters {
    rxFrames: number;
    rxDropped: number;
    txFrames: number;
    txErrors: number;
}
/** One interface's Ethernet layer: header writing, VLAN filtering and dispatch by ethertype. */
export declare class Ethernet {
    #private;
    readonly net: Net;
    readonly vlan?: number | undefined;
    readonly mac: Uint8Array;
    /** Bytes of Ethernet header in front of every payload this interface sends. */
    readonly hlen: number;
    readonly counters: EthernetCounters;
    constructor(net: Net, vlan?: number | undefined);
    on(ethertype: number, fn: (frame: Uint8Array, off: number, src: Uint8Array, info: NetFrameInfo) => void): void;
    /** A zeroed frame with `payloadLen` bytes after the Ethernet header. */
    alloc(payloadLen: number): Uint8Array;
    /** As alloc(), not zeroed: for a caller that writes every byte (TCP). */
    allocRaw(payloadLen: number): Uint8Array;
    transmit(frame: Uint8Array, dst: Uint8Array, ethertype: number, info?: NetFrameInfo): void;
    input(frame: Uint8Array, info: NetFrameInfo): void;
}
