import { type Ipv4 } from './addr.js';
import { type Clock } from './clock.js';
import type { Ipv4Layer } from './ipv4.js';
import type { Udp } from './udp.js';
export declare const COOKIE = 1669485411;
/** op .. file: the fixed part before the magic cookie. */
export declare const FIXED_LEN = 236;
export interface DhcpLease {
    readonly address: Ipv4;
    readonly netmask: Ipv4;
    readonly gateway: Ipv4 | undefined;
    readonly dns: readonly Ipv4[];
    readonly server: Ipv4;
    readonly leaseS: number;
    readonly t1S: number;
    readonly t2S: number;
}
type DhcpState = 'idle' | 'selecting' | 'requesting' | 'bound' | 'renewing' | 'rebinding';
export declare class DhcpClient {
    #private;
    private readonly udp;
    private readonly ip;
    private readonly clock;
    private readonly random;
    /** Called on every ACK (first lease and renewals) and with undefined when a lease is lost. */
    private readonly onLease;
    state: DhcpState;
    lease: DhcpLease | undefined;
    /** Replies ignored as not ours or not sane. */
    rejected: number;
    constructor(udp: Udp, ip: Ipv4Layer, clock: Clock, random: () => number, 
    /** Called on every ACK (first lease and renewals) and with undefined when a lease is lost. */
    onLease: (l: DhcpLease | undefined) => void);
    start(): void;
    stop(): void;
    input(b: Uint8Array): void;
}
/** The fixed fields of a DHCP message (RFC 2131 §2) that xenode's client and server set. */
export interface DhcpFields {
    readonly op: 1 | 2;
    readonly xid: number;
    readonly flags: number;
    readonly ciaddr: Ipv4;
    readonly yiaddr: Ipv4;
    readonly siaddr: Ipv4;
    readonly chaddr: Uint8Array;
}
/** A DHCP message over Ethernet: fixed part, magic cookie, options, end; padded to BOOTP's 300 bytes. */
export declare function encodeDhcpMessage(f: DhcpFields, opts: readonly [number, Uint8Array][]): Uint8Array;
/**
 * The options (RFC 2132) of a DHCP message after its fixed part and magic cookie, up to the end
 * option: the first of each code; undefined when one runs past the message. The server in dom0's
 * gateway reads requests with it too.
 */
export declare function parseDhcpOptions(b: Uint8Array): Map<number, Uint8Array> | undefined;
export {};
