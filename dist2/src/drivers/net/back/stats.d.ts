export interface NetbackStats {
    /** Frames (and their bytes) the guest sent that went into the switch. */
    rxPackets: number;
    rxBytes: number;
    /** Guest frames refused (bad slots, grants that did not copy, spoofed...): answered NETIF_RSP_ERROR. */
    rxErrors: number;
    /** Guest frames dropped for want of resources. */
    rxDropped: number;
    /** Frames (and their bytes) copied into the guest's rx buffers. */
    txPackets: number;
    txBytes: number;
    /** Frames for the guest that were dropped: no rx buffer posted, the vif down. */
    txDropped: number;
    /** Rx buffers that did not take the copy (a gref not granted): answered NETIF_RSP_ERROR. */
    txErrors: number;
    /** Times the frontend was disabled as malicious (xenvif_fatal_tx_err). */
    fatal: number;
}
export declare function emptyNetbackStats(): NetbackStats;
/** The guest's view, as xentop shows NETTX/NETRX: what it sent and what it received. */
export declare function guestTraffic(s: NetbackStats): {
    txBytes: number;
    txPackets: number;
    rxBytes: number;
    rxPackets: number;
};
/** Add `from`'s counters into `into` (a domain's vifs summed, as xentop shows them). */
export declare function addNetbackStats(into: NetbackStats, from: NetbackStats): void;
