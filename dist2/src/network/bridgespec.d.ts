export declare const VLAN_MIN = 1;
export declare const VLAN_MAX = 4094;
/** The untagged segment of a bridge: frames without a tag (or with the priority tag, VID 0). */
export declare const NATIVE_VID = 0;
/** A Linux interface name: at most IFNAMSIZ-1 bytes. */
export declare const IFNAME_MAX = 15;
export interface BridgeSpec {
    readonly bridge: string;
    /** VLAN of the port's untagged frames: NATIVE_VID, or TAG for an access port. */
    readonly tag: number;
    /** VLANs the port carries tagged (empty for an access or plain port). */
    readonly trunks: readonly number[];
}
export declare function checkBridgeName(name: string): string;
export declare function checkVlan(text: string, spec: string): number;
export declare function parseBridgeSpec(spec: string): BridgeSpec;
