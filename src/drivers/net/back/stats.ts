// Counters netback keeps per vif, as Linux keeps them on the vifD.N net device (struct
// rtnl_link_stats64): from dom0's side, so rx is what the guest sent and tx what it was given.
// xentop swaps them (NETTX is the guest's transmit, the vif's rx); so does guestTraffic.
import { DOUBLE_ZERO, zeroDoubles } from '../../../double-fields.js';

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

export function emptyNetbackStats(): NetbackStats {
  const s = { rxPackets: 0, rxBytes: DOUBLE_ZERO, rxErrors: 0, rxDropped: 0, txPackets: 0, txBytes: DOUBLE_ZERO, txDropped: 0, txErrors: 0, fatal: 0 };
  return zeroDoubles(s, 'rxBytes', 'txBytes');
}

/** The guest's view, as xentop shows NETTX/NETRX: what it sent and what it received. */
export function guestTraffic(s: NetbackStats): { txBytes: number; txPackets: number; rxBytes: number; rxPackets: number } {
  return { txBytes: s.rxBytes, txPackets: s.rxPackets, rxBytes: s.txBytes, rxPackets: s.txPackets };
}

/** Add `from`'s counters into `into` (a domain's vifs summed, as xentop shows them). */
export function addNetbackStats(into: NetbackStats, from: NetbackStats): void {
  for (const k of Object.keys(from) as (keyof NetbackStats)[]) into[k] += from[k];
}
