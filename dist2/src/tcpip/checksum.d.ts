import type { Ipv4 } from './addr.js';
/** Add bytes [off, off+len) to a running sum (not folded; fold() before use). */
export declare function sumBytes(b: Uint8Array, off: number, len: number, sum?: number): number;
export declare function fold(sum: number): number;
/** The checksum field value for a folded-and-complemented sum. */
export declare function finish(sum: number): number;
/** The sum of the IPv4 pseudo-header of a TCP or UDP segment. */
export declare function pseudoHeaderSum(src: Ipv4, dst: Ipv4, proto: number, len: number): number;
/** True when bytes [off, off+len) with their checksum field sum to zero (plus `initial`). */
export declare function verify(b: Uint8Array, off: number, len: number, initial?: number): boolean;
/**
 * Fill the TCP/UDP checksum at `csumOff` of the segment [off, off+len). With `blank` (the vif
 * negotiated checksum offload) only the pseudo-header sum goes in, as Linux leaves a
 * CHECKSUM_PARTIAL packet for whoever completes it; the payload is not read.
 */
export declare function fillL4Checksum(b: Uint8Array, off: number, len: number, csumOff: number, src: Ipv4, dst: Ipv4, proto: number, blank: boolean): void;
