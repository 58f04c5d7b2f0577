import { type Socket } from 'node:dgram';
import { type NetFrameInfo } from '../abi/netif.js';
import { type BridgePort } from './bridge.js';
import type { PortDevice, PortFeatures } from './port.js';
/** IANA's port for VXLAN. */
export declare const VXLAN_PORT = 4789;
export declare const VXLAN_HLEN = 8;
/** The I flag: the VNI is valid. */
export declare const VXLAN_FLAG_I = 8;
export declare const VNI_MAX = 16777215;
/** The untagged segment's VNI when none is given; VLAN v is this + v. */
export declare const VXLAN_DEFAULT_VNI = 1048576;
/** The datagram for a frame of segment `vni`: VXLAN header, then the frame. */
export declare function vxlanEncap(frame: Uint8Array, vni: number): Uint8Array;
export type VxlanDrop = 'short' | 'badHeader' | 'tagged';
/** A datagram's VNI and inner frame (a view of it), or why it is dropped. */
export declare function vxlanDecap(d: Uint8Array): {
    vni: number;
    frame: Uint8Array;
} | VxlanDrop;
export interface VtepCounters {
    rxDatagrams: number;
    txDatagrams: number;
    /** Dropped on input, by reason. */
    rxShort: number;
    rxBadHeader: number;
    rxTagged: number;
    rxUnknownVni: number;
    /** From an address and port no link names. */
    rxUnknownPeer: number;
    /** Not sent: too many in flight, too large, or the socket failed. */
    txDropped: number;
}
export interface Endpoint {
    readonly address: string;
    readonly port: number;
}
/** ADDRESS[:PORT]; a local endpoint may say port 0 (any free port). */
export declare function parseEndpoint(text: string, opts?: {
    local?: boolean;
}): Endpoint;
/** A bridge's link to one peer: a port that carries every VLAN. */
export declare class VxlanLink implements PortDevice {
    readonly name: string;
    readonly vtep: Vtep;
    readonly remote: Endpoint;
    readonly vni: number;
    readonly features: PortFeatures;
    port: BridgePort;
    constructor(name: string, vtep: Vtep, remote: Endpoint, vni: number);
    get bridge(): string;
    deliver(frame: Uint8Array, _info: NetFrameInfo): boolean;
    /** A frame of segment `vni` from the peer. */
    receive(vni: number, frame: Uint8Array): boolean;
    unlink(): void;
}
/** One UDP socket and the links that use it. */
export declare class Vtep {
    #private;
    readonly socket: Socket;
    readonly local: Endpoint;
    readonly counters: VtepCounters;
    private constructor();
    static bind(local: Endpoint): Promise<Vtep>;
    links(): VxlanLink[];
    /** Record a link; its VNIs must not overlap another link's to the same peer. */
    add(link: VxlanLink): void;
    remove(link: VxlanLink): void;
    get empty(): boolean;
    send(datagram: Uint8Array, to: Endpoint): boolean;
    close(): void;
}
