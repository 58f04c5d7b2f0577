import { type Ipv4 } from '../../tcpip/addr.js';
import type { TcpipStack } from '../../tcpip/index.js';
export declare const DHCP_SERVER_PORT = 67;
export interface DhcpPool {
    readonly server: Ipv4;
    readonly netmask: Ipv4;
    readonly dns: Ipv4;
    /** The first address leased, and how many there are. */
    readonly first: Ipv4;
    readonly size: number;
    readonly leaseS: number;
}
export interface DhcpLeaseInfo {
    readonly mac: string;
    readonly address: string;
    /** When it runs out, in ms of the gateway's clock. */
    readonly expires: number;
}
export declare class DhcpServer {
    #private;
    private readonly stack;
    private readonly pool;
    private readonly now;
    private readonly onAck;
    rejected: number;
    /** `onAck`: a client was given (or confirmed) an address, at that MAC. */
    constructor(stack: TcpipStack, pool: DhcpPool, now: () => number, onAck?: (address: Ipv4, mac: Uint8Array) => void);
    /** The address leased to `mac`, if any. */
    leaseFor(mac: string): Ipv4 | undefined;
    leases(): DhcpLeaseInfo[];
    input(b: Uint8Array): void;
}
interface DhcpRequest {
    type: number;
    xid: number;
    flags: number;
    ciaddr: Ipv4;
    chaddr: Uint8Array;
    opts: Map<number, Uint8Array>;
}
/** A BOOTREQUEST from an Ethernet client with a DHCP message type, or undefined. */
export declare function parseRequest(b: Uint8Array): DhcpRequest | undefined;
export {};
