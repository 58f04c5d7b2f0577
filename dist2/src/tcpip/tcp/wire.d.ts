export declare const FIN = 1;
export declare const SYN = 2;
export declare const RST = 4;
export declare const PSH = 8;
export declare const ACK = 16;
export declare const URG = 32;
export declare const TCP_HLEN = 20;
/** A SACK block: the peer holds [start, end) (sequence numbers). */
export interface SackBlock {
    readonly start: number;
    readonly end: number;
}
/** SACK blocks that fit in 40 bytes of options: 4, or 3 beside a timestamp (RFC 2018 §3). */
export declare const MAX_SACK_BLOCKS = 4;
export declare const MAX_SACK_BLOCKS_WITH_TS = 3;
export interface TcpOptions {
    mss?: number;
    wscale?: number;
    sackOk?: boolean;
    sack?: readonly SackBlock[];
    ts?: {
        val: number;
        ecr: number;
    };
}
export interface Segment {
    readonly srcPort: number;
    readonly dstPort: number;
    readonly seq: number;
    readonly ack: number;
    readonly flags: number;
    readonly window: number;
    readonly opts: TcpOptions;
    readonly payload: Uint8Array;
}
/** Decode a segment (checksum already verified); undefined when its header is malformed. */
export declare function parseSegment(b: Uint8Array): Segment | undefined;
/** Bytes the options take on the wire, padded to 4. */
export declare function optionsLength(o: TcpOptions | undefined): number;
export interface HeaderFields {
    srcPort: number;
    dstPort: number;
    seq: number;
    ack: number;
    flags: number;
    window: number;
}
/** Write header and options at `o`; returns the header length. The checksum is left zero. */
export declare function encodeHeader(b: Uint8Array, o: number, h: HeaderFields, opts: TcpOptions | undefined): number;
