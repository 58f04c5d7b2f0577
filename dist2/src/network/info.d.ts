import type { BridgeCounters, PortCounters } from './bridge.js';
import type { Switch } from './switch.js';
import type { VxlanLink } from './vxlan.js';
export interface BridgePortInfo {
    /** vifDOMID.DEVID, vxlanN, ... */
    readonly name: string;
    /** The VLAN of its untagged frames: 0 for the bridge's untagged segment, else its access VLAN. */
    readonly tag: number;
    /** The VLANs it carries tagged; 'all' for a VXLAN link. */
    readonly trunks: number[] | 'all';
    /** The only source MAC it may send from; null: any. */
    readonly mac: string | null;
    /** MACs learned behind it now. */
    readonly learned: number;
    readonly counters: PortCounters;
}
export interface LearnedMac {
    readonly mac: string;
    readonly vlan: number;
    readonly port: string;
    readonly ageSeconds: number;
}
export interface BridgeInfo {
    readonly name: string;
    readonly ports: BridgePortInfo[];
    /** VLANs some port is on (0: the untagged segment). */
    readonly vlans: number[];
    readonly macs: LearnedMac[];
    readonly counters: BridgeCounters & {
        readonly macs: number;
        readonly macsNotLearned: number;
    };
}
export interface LinkInfo {
    readonly name: string;
    readonly bridge: string;
    /** The peer's VTEP, ADDRESS:PORT. */
    readonly remote: string;
    readonly local: string;
    /** The untagged segment's VNI; VLAN v uses vni + v. */
    readonly vni: number;
}
export declare function bridgeInfos(sw: Switch): BridgeInfo[];
export declare function linkInfo(l: VxlanLink): LinkInfo;
