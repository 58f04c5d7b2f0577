import type { Net } from '../drivers/net/front/net.js';
import { Arp, type ArpOptions } from './arp.js';
import { type Clock } from './clock.js';
import { type StaticConfig, type StaticConfigInput } from './config.js';
import { type DhcpLease } from './dhcp.js';
import { DnsResolver } from './dns.js';
import { Ethernet } from './ethernet.js';
import { Icmp } from './icmp.js';
import { Ipv4Layer } from './ipv4.js';
import type { ReassemblyOptions } from './reassembly.js';
import type { TcpConfig } from './tcp/settings.js';
import { Tcp, type ConnectOptions, type TcpServer } from './tcp/tcp.js';
import type { TcpSocket } from './tcp/socket.js';
import { Udp, type UdpPeer, type UdpSocket } from './udp.js';
export interface StackOptions {
    clock?: Clock;
    /** Uniform in [0, 1); defaults to the Web Crypto generator. Tests pass a seeded one. */
    random?: () => number;
    /** 802.1Q tag for every frame (the vif sits on a trunk). */
    vlan?: number;
    tcp?: Partial<TcpConfig>;
    arp?: Partial<ArpOptions>;
    reassembly?: Partial<ReassemblyOptions>;
}
export interface AddressInfo {
    readonly address: string;
    readonly netmask: string;
    readonly gateway: string | undefined;
    readonly dns: readonly string[];
}
export declare class TcpipStack {
    #private;
    readonly net: Net;
    readonly clock: Clock;
    readonly random: () => number;
    readonly eth: Ethernet;
    readonly arp: Arp;
    readonly ip: Ipv4Layer;
    readonly icmpLayer: Icmp;
    readonly udpLayer: Udp;
    readonly tcpLayer: Tcp;
    readonly resolver: DnsResolver;
    readonly tcp: {
        listen: (port: number, onConn: (s: TcpSocket) => void, opts?: {
            backlog?: number;
        }) => TcpServer;
        connect: (addr: string, port: number, opts?: ConnectOptions) => Promise<TcpSocket>;
    };
    readonly udp: {
        bind: (port: number, handler: (msg: Uint8Array, from: UdpPeer) => void) => UdpSocket;
    };
    readonly dns: {
        resolve: (name: string) => Promise<string[]>;
    };
    readonly icmp: {
        ping: (addr: string, timeoutMs?: number) => Promise<number>;
    };
    constructor(net: Net, opts?: StackOptions);
    get address(): AddressInfo | undefined;
    /** Use a static address (xl's ip=); announces it with a gratuitous ARP. */
    configure(c: StaticConfigInput | StaticConfig): void;
    /** Gratuitous ARP on demand (after resume or migration). */
    announce(): void;
    /** Configure by DHCP; resolves with the first lease, rejects with Timeout after `timeoutMs`. */
    dhcp(timeoutMs?: number): Promise<DhcpLease>;
    /** Stop: reset every connection and stop listening to the device. */
    stop(): void;
}
/** Build a stack on `net` (configure it with configure() or dhcp()). */
export declare function createStack(net: Net, opts?: StackOptions): TcpipStack;
export type { TcpSocket, TcpServer, UdpSocket, UdpPeer, DhcpLease };
