export declare const ETH_HLEN = 14;
export declare const ETH_ALEN = 6;
export declare const ETH_P_IPV4 = 2048;
export declare const ETH_P_ARP = 2054;
export declare const ETH_P_8021Q = 33024;
export declare const ETH_P_IPV6 = 34525;
/** Bytes an 802.1Q tag adds after the source MAC. */
export declare const VLAN_HLEN = 4;
/** "00:16:3e:01:02:03" → its 48-bit number. */
export declare function parseMac(text: string): number;
export declare function formatMac(mac: number): string;
/** The MAC at `off` in a frame (0: destination, 6: source). */
export declare function macAt(frame: Uint8Array, off: number): number;
/** Group (multicast or broadcast) addresses have the I/G bit, the low bit of the first byte. */
export declare function isGroupMac(frame: Uint8Array, off: number): boolean;
/** 01:80:c2:00:00:0X: IEEE 802.1D link-local groups (STP, LACP, 802.1X) that a bridge must not forward. */
export declare function isLinkLocalGroup(frame: Uint8Array): boolean;
