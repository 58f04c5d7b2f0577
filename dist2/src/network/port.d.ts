import type { NetFrameInfo } from '../abi/netif.js';
/** What a device takes as is; the switch completes checksums and splits GSO frames for one that lacks them. */
export interface PortFeatures {
    /** Frames with csumBlank may be delivered (the receiver is on this host and trusts it). */
    readonly csumOffload: boolean;
    /** GSO super-frames may be delivered whole. */
    readonly gsoTcpv4: boolean;
    readonly gsoTcpv6: boolean;
}
/** The device side of a port. */
export interface PortDevice {
    /** The port's name: vifDOMID.DEVID for a vif (or its vifname=), vxlanN, ... */
    readonly name: string;
    readonly features: PortFeatures;
    /** A frame out of the switch into the device. Returns false if the device dropped it (no room). */
    deliver(frame: Uint8Array, info: NetFrameInfo): boolean;
}
/** How a device is plugged in, from the vif spec (xl-network-configuration(5)). */
export interface PortOptions {
    /** NAME, NAME.TAG (access VLAN TAG) or NAME.TAG:TRUNK1:TRUNK2 as vif-openvswitch spells it; the bridge is created on first use. */
    readonly bridge: string;
    /** The vif's MAC: frames from another source MAC are dropped unless macSpoof is set. */
    readonly mac?: string;
    readonly macSpoof?: boolean;
}
/** The switch side of a port. */
export interface SwitchPort {
    readonly name: string;
    /** A frame from the device into the switch (a guest's transmit). */
    input(frame: Uint8Array, info: NetFrameInfo): void;
    /** Take the port out of its bridge; frames in flight to it are dropped. */
    unplug(): void;
}
/** What netback and the toolstack need of dom0's (or a driver domain's) switch. */
export interface VirtualSwitch {
    plug(device: PortDevice, opts: PortOptions): SwitchPort;
}
