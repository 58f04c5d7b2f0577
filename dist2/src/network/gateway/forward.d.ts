import { type Ipv4 } from '../../tcpip/addr.js';
import type { TcpipStack } from '../../tcpip/index.js';
import type { ForwardSpec } from './forwardspec.js';
export interface ForwardLimits {
    readonly maxConnections: number;
    readonly maxUdpFlows: number;
    readonly udpIdleMs: number;
}
export declare const FORWARD_DEFAULTS: ForwardLimits;
export interface ForwardCounters {
    accepted: number;
    refused: number;
    datagrams: number;
}
/** A forward, listening once open() resolves. */
export declare abstract class HostForward {
    readonly spec: ForwardSpec;
    protected readonly stack: TcpipStack;
    protected readonly target: () => Ipv4 | undefined;
    protected readonly limits: ForwardLimits;
    protected readonly localUdp: Set<number>;
    readonly counters: ForwardCounters;
    /** `localUdp`: the UDP ports of the gateway's own address in use by the gateway (not NAT'd). */
    constructor(spec: ForwardSpec, stack: TcpipStack, target: () => Ipv4 | undefined, limits: ForwardLimits, localUdp: Set<number>);
    abstract open(): Promise<void>;
    abstract close(): void;
    /** The host port it listens on (the spec's, or the one the host chose for port 0). */
    abstract get boundPort(): number;
}
export declare class TcpForward extends HostForward {
    #private;
    open(): Promise<void>;
    get boundPort(): number;
    close(): void;
}
export declare class UdpForward extends HostForward {
    #private;
    open(): Promise<void>;
    get boundPort(): number;
    close(): void;
}
export declare function hostForward(spec: ForwardSpec, stack: TcpipStack, target: () => Ipv4 | undefined, limits: ForwardLimits, localUdp: Set<number>): HostForward;
