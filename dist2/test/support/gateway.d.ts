import { Gateway, type GatewayOptions } from '../../src/network/gateway/gateway.js';
import { GatewayPort } from '../../src/network/gateway/port.js';
import { Switch } from '../../src/network/switch.js';
import { type TcpipStack } from '../../src/tcpip/index.js';
export interface Rig {
    sw: Switch;
    gw: Gateway;
    /** Guests' stacks, stopped by close(). */
    stacks: TcpipStack[];
    close(): void;
}
export declare function gatewayRig(opts?: GatewayOptions): Rig;
export interface Guest {
    stack: TcpipStack;
    port: GatewayPort;
    /** Send a raw frame into the bridge as this guest. */
    send(frame: Uint8Array): void;
}
/** A guest on xenbr0 with MAC 00:16:3e:00:00:NN (its stack unconfigured: dhcp() or configure()). */
export declare function guest(rig: Rig, n: number): Guest;
/** A DNS server on 127.0.0.1 that answers every A query with `answer`. */
export declare function dnsServer(answer: string): Promise<{
    port: number;
    queries: number;
    close(): void;
}>;
/** An Ethernet+IPv4+TCP/UDP frame from a guest to the gateway's MAC, checksums filled. */
export declare function l4Frame(o: {
    srcMac: string;
    dstMac?: string;
    src: string;
    dst: string;
    proto: 6 | 17;
    srcPort: number;
    dstPort: number;
    flags?: number;
    seq?: number;
    payload?: Uint8Array;
}): Uint8Array;
/** Poll `done` every 10 ms until it holds or `ms` pass; returns whether it held. */
export declare function waitFor(done: () => boolean, ms?: number): Promise<boolean>;
