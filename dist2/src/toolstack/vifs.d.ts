import type { Hypervisor } from '../hypervisor/hypervisor.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
import type { NicDevice } from './contract.js';
import { type DeviceHost } from './devices.js';
import type { DomainVif } from './domconfig.js';
/** xl.conf's vif.default.bridge and vif.default.script (libxl writes the script's full path). */
export declare const DEFAULT_BRIDGE = "xenbr0";
export declare const DEFAULT_VIF_SCRIPT = "/etc/xen/scripts/vif-bridge";
/** Traffic of one domain's vifs as dom0's netback counts it, from the guest's side (xentop's NETTX/NETRX). */
export interface VifTraffic {
    readonly vifs: number;
    readonly txBytes: number;
    readonly rxBytes: number;
}
/** What serves vifs in a backend domain: netback's service (src/drivers/net/back). */
export interface VifBackendService {
    /** Counters per frontend domain, summed over its vifs. */
    traffic(): Map<number, VifTraffic>;
    /** A domain is going: its vifs' backends let go now. */
    removeFrontend(domid: number): Promise<void>;
}
/** A device host that can serve vifs from dom0. */
export interface VifHost extends DeviceHost {
    /** Start dom0's netback service (once per hypervisor); absent when this host has none. */
    readonly startNetback?: () => Promise<VifBackendService>;
}
/** dom0's netback service, started on first use. */
export declare function dom0Netback(host: VifHost): Promise<VifBackendService>;
/** xentop's network counters for each frontend domain whose vifs dom0 serves (empty when it serves none). */
export declare function dom0VifTraffic(hv: Hypervisor): Promise<Map<number, VifTraffic>>;
/**
 * A domain is being destroyed: remove its vifs at once (their backends let go), and those it
 * served as a driver domain (their guests see the device close).
 */
export declare function removeDomainVifs(hv: Hypervisor, xs: XenstoreClient, domid: number): Promise<void>;
/**
 * Give every vif without a MAC a generated one, as libxl's nic defaults do before it saves the
 * domain's configuration: the guest keeps its MACs across reboots.
 */
export declare function settleVifMacs(vifs: readonly DomainVif[]): DomainVif[];
/** Attach a vif to a running (or being built) domain; resolves once its backend is ready. */
export declare function attachVif(host: VifHost, domid: number, vif: DomainVif): Promise<NicDevice>;
/** Detach a vif (xl network-detach DEVID|MAC); returns its devid. */
export declare function detachVif(host: DeviceHost, domid: number, which: string, opts?: {
    force?: boolean;
}): Promise<number>;
/** The domain's vifs, by device id (xl network-list). */
export declare function listVifs(host: DeviceHost, domid: number): Promise<NicDevice[]>;
