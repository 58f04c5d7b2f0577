// The network backend service of a backend domain (dom0 or a driver domain): a netback for
// every vif the toolstack creates under the domain's backend/vif, plugged into the domain's
// virtual switch, reported through hotplug-status as vif-bridge reports it to libxl.
import { XenError } from '../../../errors.js';
import { BackendDaemon } from '../../devd.js';
import type { DriverContext } from '../../evtchn.js';
import type { VirtualSwitch } from '../../../network/port.js';
import { NetBack, type NetbackOptions } from './netback.js';
import { addNetbackStats, emptyNetbackStats, guestTraffic, type NetbackStats } from './stats.js';

export interface NetbackDaemonOptions {
  /** The switch vifs are plugged into (dom0's, or the driver domain's). */
  readonly switch: VirtualSwitch;
  readonly netback?: NetbackOptions;
}

export class NetbackDaemon extends BackendDaemon<NetBack> {
  /** Serve every vif whose backend is domain `domid`. */
  static async start(ctx: DriverContext, domid: number, opts: NetbackDaemonOptions): Promise<NetbackDaemon> {
    const d = new NetbackDaemon(ctx, domid, 'vif', (c, dir) => NetBack.start(c, dir, opts.switch, opts.netback));
    await d.watch();
    return d;
  }

  /** Plug vif `devid` of `domid` again as its backend nodes say now (NetBack.replug). */
  async replug(domid: number, devid: number): Promise<void> {
    const be = this.device(domid, devid);
    if (!be) throw new XenError('ENODEV', `this backend serves no vif ${devid} of domain ${domid}`);
    await be.replug();
  }

  /** Announce vif `devid` of `domid` from its port (NetBack.announce); false if it serves no such vif or cannot. */
  announce(domid: number, devid: number): boolean {
    return this.device(domid, devid)?.announce() ?? false;
  }

  /** Counters per frontend domain, its vifs summed (for xentop's NETS, NETTX, NETRX: see guestTraffic). */
  stats(): Map<number, NetbackStats & { vifs: number }> {
    const out = new Map<number, NetbackStats & { vifs: number }>();
    for (const be of this.devices.values()) {
      let sum = out.get(be.frontendId);
      if (!sum) out.set(be.frontendId, (sum = { ...emptyNetbackStats(), vifs: 0 }));
      addNetbackStats(sum, be.stats);
      sum.vifs++;
    }
    return out;
  }

  /** Bytes of each vif from the guest's side, by frontend domain: XAPI's per-VIF data sources. */
  vifTraffic(): Map<number, { devid: number; txBytes: number; rxBytes: number }[]> {
    const out = new Map<number, { devid: number; txBytes: number; rxBytes: number }[]>();
    for (const [key, be] of this.devices) {
      let list = out.get(be.frontendId);
      if (!list) out.set(be.frontendId, (list = []));
      const g = guestTraffic(be.stats);
      list.push({ devid: Number(key.slice(key.indexOf('/') + 1)), txBytes: g.txBytes, rxBytes: g.rxBytes });
    }
    return out;
  }

  /** Bytes per frontend domain from the guest's side (xentop's NETTX, NETRX), with its vif count: the toolstack's VifBackendService. */
  traffic(): Map<number, { vifs: number; txBytes: number; rxBytes: number }> {
    const out = new Map<number, { vifs: number; txBytes: number; rxBytes: number }>();
    for (const [domid, s] of this.stats()) {
      const g = guestTraffic(s);
      out.set(domid, { vifs: s.vifs, txBytes: g.txBytes, rxBytes: g.rxBytes });
    }
    return out;
  }
}
