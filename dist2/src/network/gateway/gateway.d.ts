import { type Ipv4 } from '../../tcpip/addr.js';
import type { Clock } from '../../tcpip/index.js';
import type { Switch } from '../switch.js';
import { DhcpServer } from './dhcpd.js';
import { DnsRelay, type DnsRelayLimits, type DnsUpstream } from './dns-relay.js';
import { type ForwardLimits, type HostForward } from './forward.js';
import type { ForwardSpec } from './forwardspec.js';
import { TcpNat, type TcpNatLimits } from './nat-tcp.js';
import { UdpNat, type UdpNatLimits } from './nat-udp.js';
import { Persona } from './persona.js';
import { GatewayPort } from './port.js';
/** slirp's subnet and its gateway's MAC (52:55 then the address). */
export declare const GATEWAY_DEFAULT_SUBNET = "10.0.2.0/24";
export interface GatewayLimits {
    /** Outside addresses with live NAT flows at once (each is a small stack). */
    readonly maxPersonas: number;
    /** How long an outside address's stack outlives its last flow (its TIME-WAITs). */
    readonly personaIdleMs: number;
    readonly tcp: TcpNatLimits;
    readonly udp: UdpNatLimits;
    readonly dns: DnsRelayLimits;
    readonly forward: ForwardLimits;
}
export declare const GATEWAY_LIMITS: GatewayLimits;
export interface GatewayOptions {
    /** A.B.C.0/24; 10.0.2.0/24 unless given. */
    readonly subnet?: string;
    readonly mac?: string;
    readonly mtu?: number;
    /** Where the DNS relay sends queries; the host's first resolver unless given. */
    readonly dnsUpstream?: DnsUpstream;
    /**
     * Addresses guests connect to → where that is on the host, as gvisor-tap-vsock's NAT table;
     * the gateway's own address maps to 127.0.0.1 unless given. Others go to themselves.
     */
    readonly nat?: Readonly<Record<string, string>>;
    readonly leaseSeconds?: number;
    readonly limits?: Partial<GatewayLimits>;
    readonly clock?: Clock;
}
export declare class Gateway {
    #private;
    readonly bridge: string;
    readonly port: GatewayPort;
    readonly address: Ipv4;
    readonly dnsAddress: Ipv4;
    readonly limits: GatewayLimits;
    readonly main: Persona;
    readonly dnsPersona: Persona;
    readonly dhcp: DhcpServer;
    readonly dns: DnsRelay;
    readonly tcpNat: TcpNat;
    readonly udpNat: UdpNat;
    /** Frames the demultiplexer dropped (not for the gateway, malformed, bad checksum). */
    dropped: number;
    private constructor();
    /** Plug a gateway into `bridge` of `sw` (its untagged segment). */
    static attach(sw: Switch, bridge: string, opts?: GatewayOptions): Gateway;
    get closed(): boolean;
    /** The address leased to the client with this MAC. */
    leaseFor(mac: string): Ipv4 | undefined;
    /** Open a host port forward to whatever address `target` names when a connection comes. */
    forward(spec: ForwardSpec, target: () => Ipv4 | undefined): Promise<HostForward>;
    unforward(f: HostForward): void;
    /** Close forwards and flows, stop the stacks; the port comes out of its bridge. */
    close(): void;
}
/** The host's first resolver (from /etc/resolv.conf, as Node reads it). */
export declare function hostResolver(): DnsUpstream;
