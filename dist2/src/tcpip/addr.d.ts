export type Ipv4 = number;
export declare const IPV4_ANY = 0;
export declare const IPV4_BROADCAST = 4294967295;
export declare function parseIpv4(s: string): Ipv4;
export declare function formatIpv4(a: Ipv4): string;
export declare function isMulticast(a: Ipv4): boolean;
/** An address a host may not take or talk to as a unicast peer. */
export declare function isUnusableUnicast(a: Ipv4): boolean;
/** A netmask from a prefix length. */
export declare function prefixMask(len: number): Ipv4;
/** The prefix length of a contiguous mask, or -1. */
export declare function maskPrefix(mask: Ipv4): number;
export declare function readIpv4(b: Uint8Array, off: number): Ipv4;
export declare function writeIpv4(b: Uint8Array, off: number, a: Ipv4): void;
export declare function parseMac(s: string): Uint8Array;
export declare function formatMac(b: Uint8Array, off?: number): string;
export declare const MAC_BROADCAST: Uint8Array<ArrayBuffer>;
