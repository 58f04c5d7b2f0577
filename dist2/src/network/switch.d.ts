import { Bridge, BridgePort, type VlanMembership } from './bridge.js';
import { Capture, type CaptureOptions, type CaptureSummary } from './capture.js';
import { type FdbLimits } from './fdb.js';
import type { PortDevice, PortOptions, SwitchPort, VirtualSwitch } from './port.js';
import { Vtep, VxlanLink, type Endpoint } from './vxlan.js';
export declare const DEFAULT_BRIDGE = "xenbr0";
export interface SwitchOptions {
    readonly fdb?: Partial<FdbLimits>;
    /** Bridges on the host at most (each is made by naming it). */
    readonly maxBridges?: number;
    /** Ports on the host at most. */
    readonly maxPorts?: number;
    /** Captures running at once at most. */
    readonly maxCaptures?: number;
    /** VXLAN sockets (local endpoints) at most. */
    readonly maxVteps?: number;
    /** A clock in ms for MAC aging; performance.now by default. */
    readonly now?: () => number;
}
export declare const SWITCH_DEFAULTS: {
    readonly maxBridges: 4096;
    readonly maxPorts: 65536;
    readonly maxCaptures: 16;
    readonly maxVteps: 16;
};
/** How a port not from a vif spec joins a bridge: a link or the gateway carries what it is given. */
export interface InternalPortOptions {
    readonly native?: number;
    readonly trunks?: VlanMembership;
}
export declare class Switch implements VirtualSwitch {
    #private;
    constructor(opts?: SwitchOptions);
    /** Plug a device in as its vif spec says (bridge=, mac=); the bridge is made if it is new. */
    plug(device: PortDevice, opts: PortOptions): SwitchPort;
    /** Plug in a port of the switch's own (a VXLAN link, a gateway): it may send from any MAC. */
    plugInternal(bridge: string, device: PortDevice, opts?: InternalPortOptions, onUnplug?: () => void): BridgePort;
    /** The VTEP (UDP socket) on a local endpoint, bound now if there is none; port 0 binds an ephemeral port. */
    vtep(local?: Endpoint): Promise<Vtep>;
    /**
     * Link a bridge to the same-named bridge of another host through VXLAN: its untagged segment
     * is VNI `vni`, VLAN v is `vni + v`. The link is a port (vxlanN) until unlinked.
     */
    link(bridge: string, remote: Endpoint, opts?: {
        local?: Endpoint;
        vni?: number;
    }): Promise<VxlanLink>;
    /** Every VXLAN link. */
    links(): Promise<VxlanLink[]>;
    /** The bridge of that name, made now if there is none. */
    bridge(name: string): Bridge;
    findBridge(name: string): Bridge | undefined;
    findPort(name: string): BridgePort | undefined;
    bridges(): Bridge[];
    /** Tap a capture into a port (by name) or a bridge; it comes out again when it ends. */
    capture(target: string, capture: Capture): void;
    /** Capture a bridge or port into a pcap file (an absolute path) until the capture ends; stopCapture(file) ends it. */
    captureToFile(target: string, file: string, opts?: CaptureOptions): Promise<CaptureSummary>;
    /** End the capture writing `file`; false if there is none. */
    stopCapture(file: string): boolean;
    /** Unplug every port; captures end, VXLAN sockets close. */
    close(): void;
}
