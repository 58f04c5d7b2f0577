/** XEN_NETBK_MCAST_MAX. */
export declare const MCAST_MAX = 64;
export declare class McastFilter {
    #private;
    /** The frontend asked for filtering (request-multicast-control). */
    enabled: boolean;
    get size(): number;
    /** xenvif_mcast_add: false (ENOSPC) when MCAST_MAX addresses are held already. */
    add(addr: Uint8Array): boolean;
    delete(addr: Uint8Array): void;
    /** Does a frame for the guest pass (xenvif_start_xmit's PACKET_MULTICAST check)? */
    passes(frame: Uint8Array): boolean;
    /** The connection went: xenvif_mcast_addr_list_free. */
    clear(): void;
}
