import type { TestContext } from 'node:test';
import type { NetFrameInfo } from '../../src/abi/netif.js';
import { NetbackDaemon } from '../../src/drivers/net/back/devd.js';
import type { NetBack, NetbackOptions } from '../../src/drivers/net/back/netback.js';
import type { PortDevice, PortOptions, SwitchPort, VirtualSwitch } from '../../src/network/port.js';
import { DriverRig, type GuestSide } from './driver-rig.js';
export { within } from './hypervisor.js';
export { RawNetFront, frameOf, type RawNetFrontOptions, type TxSlot } from '../../bench/support/net-rawfront.js';
/** A frame as it went into the hub. */
export interface HubFrame {
    readonly from: string;
    readonly frame: Uint8Array;
    readonly info: NetFrameInfo;
}
/**
 * Stands in for dom0's virtual switch: every port hears every other port's frames (no
 * learning, no MAC checks: those are the switch's), and everything that went in is recorded.
 */
export declare class Hub implements VirtualSwitch {
    #private;
    readonly frames: HubFrame[];
    readonly ports: Map<string, {
        device: PortDevice;
        opts: PortOptions;
    }>;
    plug(device: PortDevice, opts: PortOptions): SwitchPort;
    /** Resolves once `n` frames in all have gone in. */
    until(n: number): Promise<HubFrame[]>;
    /** A frame from a device of the test's own (dom0's side of the bridge). */
    inject(frame: Uint8Array, info: NetFrameInfo): boolean[];
}
export type { GuestSide } from './driver-rig.js';
export declare class NetRig extends DriverRig {
    #private;
    readonly opts: NetbackOptions;
    readonly sw: VirtualSwitch;
    /** `sw`: the switch vifs are plugged into (the recording hub unless a test gives dom0's real one). */
    constructor(opts?: NetbackOptions, sw?: VirtualSwitch);
    /** The recording hub (the default switch). */
    get hub(): Hub;
    daemon(): Promise<NetbackDaemon>;
    /** Create the vif's nodes as libxl does and wait for dom0's netback to take it (hotplug-status). */
    vif(g: GuestSide, devid?: number, backend?: Record<string, string>): Promise<NetBack>;
    close(): Promise<void>;
}
export declare function netRig(t: TestContext, opts?: NetbackOptions, sw?: VirtualSwitch): NetRig;
