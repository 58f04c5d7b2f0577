// Counters netback keeps per vif, as Linux keeps them on the vifD.N net device (struct
// rtnl_link_stats64): from dom0's side, so rx is what the guest sent and tx what it was given.
// xentop swaps them (NETTX is the guest's transmit, the vif's rx); so does guestTraffic.
export function emptyNetbackStats() {
    return { rxPackets: 0, rxBytes: 0, rxErrors: 0, rxDropped: 0, txPackets: 0, txBytes: 0, txDropped: 0, txErrors: 0, fatal: 0 };
}
/** The guest's view, as xentop shows NETTX/NETRX: what it sent and what it received. */
export function guestTraffic(s) {
    return { txBytes: s.rxBytes, txPackets: s.rxPackets, rxBytes: s.txBytes, rxPackets: s.txPackets };
}
/** Add `from`'s counters into `into` (a domain's vifs summed, as xentop shows them). */
export function addNetbackStats(into, from) {
    for (const k of Object.keys(from))
        into[k] += from[k];
}
//# sourceMappingURL=stats.js.map