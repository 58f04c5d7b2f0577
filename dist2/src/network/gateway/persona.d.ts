import { type NetFrameInfo } from '../../abi/netif.js';
import { type Ipv4 } from '../../tcpip/addr.js';
import { type Clock, type TcpipStack, type TcpSocket } from '../../tcpip/index.js';
import type { GatewayNet, GatewayPort } from './port.js';
/** dom0's clock for the gateway's stacks: its timers never keep the host process alive. */
export declare const unrefClock: Clock;
export declare class Persona {
    #private;
    readonly address: Ipv4;
    private readonly onConnection;
    readonly stack: TcpipStack;
    readonly net: GatewayNet;
    /** NAT flows that use this persona (it goes when none are left). */
    flows: number;
    constructor(port: GatewayPort, address: Ipv4, netmask: Ipv4, clock: Clock, onConnection: (p: Persona, s: TcpSocket) => void);
    /** Accept connections to `port` (the NAT admits only the SYNs it has a host socket for). */
    listen(port: number): void;
    /** Learn where `ip` is from a frame it sent us, as if it had answered our ARP request. */
    learn(ip: Ipv4, mac: Uint8Array): void;
    feed(frame: Uint8Array, info: NetFrameInfo): void;
    stop(): void;
}
