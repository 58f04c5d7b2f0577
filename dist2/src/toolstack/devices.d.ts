import { type BlkbackStats } from '../drivers/blk/back/queue.js';
import { BlkbackDaemon, type BlkbackDaemonOptions } from '../drivers/blk/back/devd.js';
import type { BlkBack } from '../drivers/blk/back/blkback.js';
import type { Hypervisor } from '../hypervisor/hypervisor.js';
import type { UpcallLoop } from '../hypervisor/upcall.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
import type { Vdis } from '../storage/vdi.js';
import type { DiskDevice } from './contract.js';
import { type DiskSpec } from './diskspec.js';
/** What the device code needs of a host: dom0's hypervisor, xenstore client and upcall loop. */
export interface DeviceHost {
    readonly hv: Hypervisor;
    readonly xs: XenstoreClient;
    readonly loop: UpcallLoop;
    readonly log?: (line: string) => void;
    /** Where relative disk targets live (default: <state dir>/images). */
    readonly imagesDir?: string;
    /** The host's VDIs, for targets `vdi:<name or uuid>`. */
    readonly vdis?: Vdis;
}
/** A disk target that names a VDI of the host database. */
export declare const VDI_TARGET_PREFIX = "vdi:";
/**
 * dom0's blkback service (started on first use). `opts` apply only when it starts; tests and
 * benchmarks pass them before attaching anything.
 */
export declare function dom0Blkback(host: DeviceHost, opts?: BlkbackDaemonOptions): Promise<BlkbackDaemon>;
/**
 * blkback's statistics for each frontend domain, summed over the disks dom0 serves (as xentop
 * reads them from dom0's sysfs: disks served by a driver domain are not counted). Empty when
 * dom0 serves no disk.
 */
export declare function dom0VbdStats(host: DeviceHost): Promise<Map<number, BlkbackStats>>;
/** The domain named by a spec's backend= (dom0 when absent), which serves `what`. */
export declare function backendDomain(host: DeviceHost, name: string | undefined, what: string): number;
/** A device's two directories and the domains at each end. */
export interface DeviceEnds {
    readonly domid: number;
    readonly backendId: number;
    readonly fe: string;
    readonly be: string;
}
/**
 * Create a device's backend and frontend directories in one transaction, with libxl's
 * permissions (each end owns its directory, the other end reads it), then wait for the
 * backend's hotplug outcome; on failure the nodes go and the error says why (ENODEV).
 */
export declare function createDevice(host: DeviceHost, ends: DeviceEnds, backend: readonly (readonly [string, string | number])[], frontend: readonly (readonly [string, string | number])[], what: string): Promise<void>;
/** Who uses a VDI: one line per disk served from it. */
export declare function vdiUsers(host: DeviceHost, vdi: {
    readonly uuid: string;
    readonly path: string | null;
}): Promise<string[]>;
/**
 * The blkbacks of dom0 serving a VDI, which can switch their disk under the guest (a snapshot),
 * and the users served elsewhere (a driver domain), which cannot.
 */
export declare function vdiLiveDisks(host: DeviceHost, vdi: {
    readonly uuid: string;
    readonly path: string | null;
}): Promise<{
    live: BlkBack[];
    foreign: string[];
}>;
/** Attach a disk to a running (or being built) domain; resolves once its backend is ready. */
export declare function attachDisk(host: DeviceHost, domid: number, spec: DiskSpec): Promise<DiskDevice>;
/**
 * Detach (libxl's device remove): online=0 and backend Closing, wait for the xenbus close
 * handshake (the guest closes its frontend), then remove both nodes. `force` (or a frontend
 * that never connected, or a handshake that times out) removes them at once.
 */
export declare function detachDisk(host: DeviceHost, domid: number, vdev: string | number, opts?: {
    force?: boolean;
}): Promise<void>;
/** libxl's device remove of the device whose frontend is at `fe`; false if there is none. */
export declare function removeDevice(host: DeviceHost, fe: string, force: boolean, what: string): Promise<boolean>;
/**
 * What a device list shows of the frontend at `fe`: its backend path, a reader of the numbers
 * the frontend wrote (undefined when absent or not a number), and where queue 0's keys are.
 */
export declare function frontendView(xs: XenstoreClient, fe: string): Promise<{
    be: string;
    num: (p: string) => Promise<number | undefined>;
    q0: string;
}>;
/** The device numbers under the domain's device/<type> directory, in order. */
export declare function deviceIds(host: DeviceHost, domid: number, type: string): Promise<number[]>;
/** The domain's disks, by device number (xl block-list). */
export declare function listDisks(host: DeviceHost, domid: number): Promise<DiskDevice[]>;
/**
 * A domain is being destroyed: remove its disks at once (its backends let go), and the disks
 * it served as a driver domain (their guests see the device close).
 */
export declare function removeDomainDisks(hv: Hypervisor, xs: XenstoreClient, domid: number): Promise<void>;
/** The nodes of a dying domain's devices of `type`, both those it uses and those it serves. */
export declare function removeDomainDevices(xs: XenstoreClient, domid: number, type: string): Promise<void>;
