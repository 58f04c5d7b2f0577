import { type Ipv4 } from './addr.js';
import { type Icmp } from './icmp.js';
import { type Ipv4Layer, type Ipv4Packet } from './ipv4.js';
export interface UdpPeer {
    readonly addr: string;
    readonly port: number;
}
export type UdpRawHandler = (payload: Uint8Array, src: Ipv4, srcPort: number, p: Ipv4Packet) => void;
export interface UdpSocket {
    readonly port: number;
    send(data: Uint8Array, addr: string, port: number): void;
    close(): void;
}
export declare class Udp {
    #private;
    private readonly ip;
    private readonly icmp;
    private readonly random;
    rxBad: number;
    rxNoPort: number;
    constructor(ip: Ipv4Layer, icmp: Icmp, random: () => number);
    /** Bind `port` (0: any free ephemeral port) and hear its datagrams with their sender. */
    bind(port: number, handler: (msg: Uint8Array, from: UdpPeer) => void): UdpSocket;
    bindRaw(port: number, handler: UdpRawHandler): number;
    unbind(port: number): void;
    /** Send a datagram; `src` overrides our address (DHCP sends from 0.0.0.0). Returns false without a route. */
    sendTo(srcPort: number, dst: Ipv4, dstPort: number, data: Uint8Array, src?: number): boolean;
    input(p: Ipv4Packet): void;
}
