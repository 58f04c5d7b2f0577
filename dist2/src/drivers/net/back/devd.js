// The network backend service of a backend domain (dom0 or a driver domain): a netback for
// every vif the toolstack creates under the domain's backend/vif, plugged into the domain's
// virtual switch, reported through hotplug-status as vif-bridge reports it to libxl.
import { BackendDaemon } from '../../devd.js';
import { NetBack } from './netback.js';
import { addNetbackStats, emptyNetbackStats, guestTraffic } from './stats.js';
export class NetbackDaemon extends BackendDaemon {
    /** Serve every vif whose backend is domain `domid`. */
    static async start(ctx, domid, opts) {
        const d = new NetbackDaemon(ctx, domid, 'vif', (c, dir) => NetBack.start(c, dir, opts.switch, opts.netback));
        await d.watch();
        return d;
    }
    /** Counters per frontend domain, its vifs summed (for xentop's NETS, NETTX, NETRX: see guestTraffic). */
    stats() {
        const out = new Map();
        for (const be of this.devices.values()) {
            let sum = out.get(be.frontendId);
            if (!sum)
                out.set(be.frontendId, (sum = { ...emptyNetbackStats(), vifs: 0 }));
            addNetbackStats(sum, be.stats);
            sum.vifs++;
        }
        return out;
    }
    /** Bytes per frontend domain from the guest's side (xentop's NETTX, NETRX), with its vif count: the toolstack's VifBackendService. */
    traffic() {
        const out = new Map();
        for (const [domid, s] of this.stats()) {
            const g = guestTraffic(s);
            out.set(domid, { vifs: s.vifs, txBytes: g.txBytes, rxBytes: g.rxBytes });
        }
        return out;
    }
}
//# sourceMappingURL=devd.js.map