/** One-page rings, as netif.h has them (NET_TX_RING_SIZE, NET_RX_RING_SIZE: 256 each). */
export declare const NET_TX_RING_SIZE: number;
export declare const NET_RX_RING_SIZE: number;
/** xenvif_max_queues: Linux offers one per CPU; this machine's default. */
export declare const DEFAULT_MAX_QUEUES = 4;
/** max_skb_slots: a packet of more slots is dropped (XEN_NETIF_NR_SLOTS_MIN). */
export declare const MAX_SKB_SLOTS = 18;
/** fatal_skb_slots (FATAL_SKB_SLOTS_DEFAULT): a frontend that chains more is malicious. */
export declare const FATAL_SKB_SLOTS = 20;
/** The largest GSO super-frame (Linux's GSO_MAX_SIZE), and the smallest frame (ETH_HLEN). */
export declare const GSO_MAX_SIZE = 65536;
export declare const ETH_HLEN = 14;
/** XEN_NETBK_MAX_HASH_KEY_SIZE and XEN_NETBK_MAX_HASH_MAPPING_SIZE. */
export declare const MAX_HASH_KEY_SIZE = 40;
export declare const MAX_HASH_MAPPING_SIZE = 128;
/** Keys the toolstack writes in the backend directory (libxl's device_nic). */
export declare const VIF_BACKEND_XS: {
    readonly handle: 'handle';
    readonly mac: 'mac';
    readonly bridge: 'bridge';
    readonly script: 'script';
    readonly rate: 'rate';
    readonly vifname: 'vifname';
    readonly online: 'online';
    /**
     * XenAPI's VIF.locking_mode for this vif: `locked` (the default) lets it send only from its
     * `mac`; `unlocked` from any source MAC (a guest that bridges or bonds inside).
     */
    readonly lockingMode: 'locking-mode';
};
/** `queue-<n>`: the directory of one queue's ring refs and event channels when multi-queue. */
export declare function netifQueueKey(queue: number): string;
/** rate=: credit of `bytes` every `usecs` microseconds (xl's credit scheduler). */
export interface NetRate {
    readonly bytes: number;
    readonly usecs: number;
}
/**
 * The backend's `rate` node as libxl writes it and xen-netback's xen_net_read_rate reads it:
 * "BYTES,USECS". Absent means unlimited.
 */
export declare function parseRateNode(v: string): NetRate;
export declare function formatRateNode(rate: NetRate): string;
/** Rx slots a frame of `len` bytes takes when each buffer is a page at offset 0. */
export declare function rxSlotsFor(len: number): number;
/** The bridge a vif joins when the toolstack names none (xl's vif.default.bridge). */
export declare const XL_DEFAULT_BRIDGE = "xenbr0";
