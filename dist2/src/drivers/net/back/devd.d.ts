import { BackendDaemon } from '../../devd.js';
import type { DriverContext } from '../../evtchn.js';
import type { VirtualSwitch } from '../../../network/port.js';
import { NetBack, type NetbackOptions } from './netback.js';
import { type NetbackStats } from './stats.js';
export interface NetbackDaemonOptions {
    /** The switch vifs are plugged into (dom0's, or the driver domain's). */
    readonly switch: VirtualSwitch;
    readonly netback?: NetbackOptions;
}
export declare class NetbackDaemon extends BackendDaemon<NetBack> {
    /** Serve every vif whose backend is domain `domid`. */
    static start(ctx: DriverContext, domid: number, opts: NetbackDaemonOptions): Promise<NetbackDaemon>;
    /** Counters per frontend domain, its vifs summed (for xentop's NETS, NETTX, NETRX: see guestTraffic). */
    stats(): Map<number, NetbackStats & {
        vifs: number;
    }>;
    /** Bytes per frontend domain from the guest's side (xentop's NETTX, NETRX), with its vif count: the toolstack's VifBackendService. */
    traffic(): Map<number, {
        vifs: number;
        txBytes: number;
        rxBytes: number;
    }>;
}
