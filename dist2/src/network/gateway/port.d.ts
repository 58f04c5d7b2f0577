import { type NetFrameInfo } from '../../abi/netif.js';
import type { Net, NetOffloads, NetStats } from '../../drivers/net/front/net.js';
import type { PortDevice, PortFeatures, SwitchPort } from '../port.js';
export interface GatewayPortCounters {
    rxFrames: number;
    txFrames: number;
    txDropped: number;
}
export declare class GatewayPort implements PortDevice {
    #private;
    readonly name: string;
    readonly mac: string;
    readonly mtu: number;
    private readonly onFrame;
    readonly features: PortFeatures;
    readonly counters: GatewayPortCounters;
    /** Set once plugged in; frames sent before are dropped. */
    switchPort: SwitchPort | undefined;
    constructor(name: string, mac: string, mtu: number, onFrame: (frame: Uint8Array, info: NetFrameInfo) => void);
    deliver(frame: Uint8Array, info: NetFrameInfo): boolean;
    send(frame: Uint8Array, info: NetFrameInfo): void;
    /** A Net over this port for one of the gateway's stacks: its frames come from `feed`. */
    net(): GatewayNet;
}
/** One stack's view of the gateway port (Mirage's NETWORK signature). */
export declare class GatewayNet implements Net {
    #private;
    private readonly port;
    readonly devid = 0;
    readonly offloads: NetOffloads;
    constructor(port: GatewayPort);
    get mac(): string;
    get mtu(): number;
    write(frames: Uint8Array | readonly Uint8Array[], info?: NetFrameInfo): Promise<void>;
    listen(handler: (frame: Uint8Array, info: NetFrameInfo) => void): () => void;
    /** A frame from the bridge for this stack. */
    feed(frame: Uint8Array, info: NetFrameInfo): void;
    stats(): NetStats;
    disconnect(): Promise<void>;
}
