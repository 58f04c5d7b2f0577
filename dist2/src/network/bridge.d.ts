import type { NetFrameInfo } from '../abi/netif.js';
import type { Tap } from './capture.js';
import { Fdb, type FdbLimits, type FdbOwner, type FdbRow } from './fdb.js';
import type { PortDevice, SwitchPort } from './port.js';
/** Frames larger than this (a 64 KiB GSO super-frame plus its headers) are malformed. */
export declare const MAX_FRAME: number;
/** A port's counters, from the switch's side: `in` is what the device sent into the switch. */
export interface PortCounters {
    framesIn: number;
    bytesIn: number;
    framesOut: number;
    bytesOut: number;
    /** Frames from the device the switch refused (spoofed source, VLAN not carried, malformed). */
    dropsIn: number;
    /** Frames for the device it did not take (no room), or that could not be completed for it. */
    dropsOut: number;
}
export interface BridgeCounters {
    /** Frames sent to the one port their destination was learned on. */
    forwarded: number;
    /** Frames sent to every port of their VLAN (unknown unicast, broadcast, multicast). */
    flooded: number;
    dropSpoof: number;
    dropVlan: number;
    dropMalformed: number;
    /** 802.1D link-local groups (STP, LACP, 802.1X), which a bridge does not forward. */
    dropLinkLocal: number;
}
export type VlanMembership = 'all' | ReadonlySet<number>;
export interface PortMode {
    /** The VLAN of the port's untagged frames. */
    readonly native: number;
    /** The VLANs it carries tagged. */
    readonly trunks: VlanMembership;
    /** The one source MAC it may send from; null: any. */
    readonly mac: number | null;
}
/** A frame as it crosses the bridge: its bytes in whichever forms were needed, and its VLAN. */
export declare class Transit {
    #private;
    readonly vid: number;
    readonly frame: Uint8Array;
    readonly hasTag: boolean;
    readonly info: NetFrameInfo;
    constructor(vid: number, frame: Uint8Array, hasTag: boolean, info: NetFrameInfo);
    untagged(): Uint8Array;
    tagged(): Uint8Array;
    /** The frame as a port of that native VLAN sees it on its wire. */
    form(native: number): Uint8Array;
    completed(native: number): Uint8Array[] | null;
}
export declare function stripTag(frame: Uint8Array): Uint8Array;
export declare function insertTag(frame: Uint8Array, vid: number): Uint8Array;
export declare class BridgePort implements SwitchPort, FdbOwner {
    #private;
    readonly bridge: Bridge;
    readonly device: PortDevice;
    readonly mode: PortMode;
    readonly onUnplug: (p: BridgePort) => void;
    readonly counters: PortCounters;
    /** Captures of this port: frames in as the device sent them, frames out as it took them. */
    readonly taps: Set<Tap>;
    learned: number;
    constructor(bridge: Bridge, device: PortDevice, mode: PortMode, onUnplug: (p: BridgePort) => void);
    get name(): string;
    get plugged(): boolean;
    input(frame: Uint8Array, info: NetFrameInfo): void;
    /** Does this port carry VLAN `vid`, and how? */
    carries(vid: number): boolean;
    /** A frame of the bridge out to the device, in the form this port's mode gives it. */
    output(t: Transit): void;
    unplug(): void;
}
export declare class Bridge {
    #private;
    readonly name: string;
    readonly counters: BridgeCounters;
    readonly fdb: Fdb<BridgePort>;
    /** Captures of the bridge: every frame it accepts, tagged with its VLAN unless on the untagged segment. */
    readonly taps: Set<Tap>;
    constructor(name: string, limits: FdbLimits, now: () => number);
    get ports(): ReadonlySet<BridgePort>;
    /** The VLANs some port carries (besides those of trunk-all ports). */
    vlans(): number[];
    add(device: PortDevice, mode: PortMode, onUnplug: (p: BridgePort) => void): BridgePort;
    remove(port: BridgePort): void;
    /** A frame from a port's device: check it, learn its source, forward or flood it within its VLAN. */
    ingress(from: BridgePort, frame: Uint8Array, info: NetFrameInfo): void;
    fdbRows(): FdbRow<BridgePort>[];
}
