import { EventEmitter } from 'node:events';
import type { ShutdownReason } from '../abi/xen.js';
import { ConsoleDaemon } from '../drivers/console/daemon.js';
import { Hypervisor, type Domain } from '../hypervisor/hypervisor.js';
import { UpcallLoop } from '../hypervisor/upcall.js';
import { Cpupool, type CpupoolOptions, type CpupoolSched } from '../hypervisor/cpupool.js';
import { VcpuPool } from '../hypervisor/vcpu.js';
import { Switch } from '../network/switch.js';
import { Gateway } from '../network/gateway/gateway.js';
import type { ForwardSpec } from '../network/gateway/forwardspec.js';
import { XenstoreClient } from '../xenstore/client/client.js';
import { Xenstored } from '../xenstore/server/daemon.js';
import { Storage } from '../storage/sr.js';
import { Vdis } from '../storage/vdi.js';
import { type BuiltDomain, type RestoreSpec } from './builder.js';
import { ShellPool } from './shells.js';
import type { DiskDevice, ForwardInfo, NicDevice, ShutdownOutcome } from './contract.js';
import { type DiskSpec } from './diskspec.js';
import { type VifHost } from './vifs.js';
import { DomainForwards } from './forwards.js';
import { type DomainConfig, type DomainVif, type ShutdownAction } from './domconfig.js';
import { type HostPaths } from './paths.js';
import type { HostDb } from './db/hostdb.js';
import type { Ref } from './db/records.js';
import { VmTable } from './vms.js';
/** How long a suspend waits for the guest to suspend (libxl waits as long). */
export declare const SUSPEND_TIMEOUT_MS = 60000;
export interface HostOptions {
    /** Where xenstored listens for Xen's tools; no socket when absent. */
    readonly stateDir?: string;
    /** Pre-started vCPU threads kept ready per heap size. */
    readonly poolSize?: number;
    /** Pre-built domains kept ready for creates of this memory= (shells.ts); none by default. */
    readonly shells?: {
        readonly count: number;
        readonly memory: number;
    };
    /** Creates in progress at once before one more is refused with EAGAIN (MAX_CREATES_IN_FLIGHT). */
    readonly maxCreates?: number;
    readonly log?: (line: string) => void;
}
/**
 * Creates in progress at once; one more is refused with EAGAIN, so a storm of creates costs
 * its senders a retry instead of the host its responsiveness.
 */
export declare const MAX_CREATES_IN_FLIGHT = 64;
export interface HostEvents {
    /** A domain was built (and is running, unless created paused). */
    created: [domid: number, name: string];
    paused: [domid: number, name: string];
    unpaused: [domid: number, name: string];
    renamed: [domid: number, name: string, oldName: string];
    /** A domain shut down; `action` is its on_* setting, `taken` what the host does about it. */
    shutdown: [domid: number, name: string, reason: ShutdownReason, action: ShutdownAction, taken: ShutdownOutcome];
    /** A domain is gone from the host. */
    destroyed: [domid: number, name: string];
    /** A domain was restarted as a new domain (xl gives it a new id). */
    restarted: [oldDomid: number, newDomid: number, name: string];
    /** Its shutdown action said restart, but the new domain could not be created. */
    restartFailed: [domid: number, name: string, error: string];
}
export declare class Host extends EventEmitter<HostEvents> {
    #private;
    readonly hv: Hypervisor;
    readonly loop: UpcallLoop;
    readonly xenstored: Xenstored;
    readonly xs: XenstoreClient;
    readonly consoled: ConsoleDaemon;
    readonly pool: VcpuPool;
    readonly shells: ShellPool;
    readonly paths: HostPaths | null;
    /** The host database (in memory for a host without a state dir). */
    readonly db: HostDb;
    readonly storage: Storage;
    readonly vdis: Vdis;
    /** Every domain's VM record (vms.ts): written at each change, before the change is told. */
    readonly vms: VmTable;
    /** Host port forwards of domains, through their bridges' gateways. */
    readonly forwards: DomainForwards;
    private constructor();
    static start(opts?: HostOptions): Promise<Host>;
    /**
     * Create and start a domain (xl create); `paused` leaves it paused, as xl create -p. It is a
     * new transient VM, or the persistent VM `vm` (halted until now) booting. `restore`: from a
     * save image (migration/restore.ts), never in a shell (its memory must be filled before its
     * runtime boots).
     */
    create(config: DomainConfig, opts?: {
        paused?: boolean;
        vm?: Ref<'VM'>;
        restore?: RestoreSpec;
    }): Promise<BuiltDomain>;
    /** The domains users see, in domid order: every domain but the shells (shells.ts). */
    domains(): Domain[];
    /** The domain `domid` if users may see it (not a shell). */
    findDomain(domid: number): Domain | undefined;
    /** Boot a halted persistent VM (XAPI's VM.start) with the configuration its record holds. */
    start(vm: string, opts?: {
        paused?: boolean;
    }): Promise<BuiltDomain>;
    /** The VM record of a managed domain. */
    vmOf(domid: number): Ref<'VM'> | undefined;
    /** The configuration a domain was created from (undefined for dom0 and domains still being built). */
    config(domid: number): DomainConfig | undefined;
    /**
     * Ask the guest to shut down (xl shutdown / xl reboot): it sees control/shutdown. A guest
     * that has already shut down, or is paused, could not act on the request.
     */
    requestShutdown(domid: number, request: 'poweroff' | 'reboot'): Promise<void>;
    /**
     * Suspend a guest (the first step of xl save and xl migrate): control/shutdown = suspend,
     * then wait until it has shut down with reason suspend. A guest that does not within
     * `timeoutMs` keeps running and the request is withdrawn, as libxl does.
     */
    suspend(domid: number, timeoutMs?: number): Promise<Domain>;
    /** A suspended guest runs on in place (xl save -c, or a save or migration that failed). */
    resume(domid: number): void;
    /** Destroy a domain and build it again from its configuration, as its on_reboot=restart would: the same VM, a new domain. */
    hardReboot(domid: number): Promise<BuiltDomain>;
    /** xl pause: pauses nest, as Xen's controller pause count does. */
    pause(domid: number): Promise<void>;
    unpause(domid: number): Promise<void>;
    /** xl rename: the domain's name in the hypervisor, in xenstore, and in the config it restarts with. */
    rename(domid: number, name: string): Promise<void>;
    /** xl cpupool-create: a shared pool of `cpus` pCPU threads. */
    createCpupool(name: string, cpus: number, sched?: CpupoolSched, opts?: Pick<CpupoolOptions, 'watchdogMs' | 'heapMb'>): Promise<Cpupool>;
    /** xl cpupool-destroy: only an empty pool goes (as xl's, whose CPUs must be removed first). */
    destroyCpupool(name: string): Promise<void>;
    /** The shared pools (Pool-0 not among them). */
    get cpupools(): ReadonlyMap<string, Cpupool>;
    /** The name of the pool a domain runs in (dom0 and Pool-0 guests: Pool-0). */
    poolOf(domid: number): string;
    /**
     * xl cpupool-migrate. Moving to the pool it is in is nothing to do; anything else is refused
     * for a domain that runs: its vCPU's JavaScript heap (its realm's, or its thread's) cannot be
     * copied to another thread, as DESIGN.md §6 says for migration.
     */
    migrateToCpupool(domid: number, pool: string): void;
    /** dom0's virtual switch (src/network), made when something first plugs into it. */
    get switch(): Switch;
    /** The gateway of `bridge` (10.0.2.0/24 in slirp's shape), attached if it has none; xenbr0 gets one with the first vif. */
    gateway(bridge: string): Gateway;
    /** xenode network-forward: a host port to the domain's first vif; it stays in the configuration the domain restarts with. */
    addForward(domid: number, spec: ForwardSpec): Promise<ForwardInfo>;
    /** xenode network-forward --remove. */
    removeForward(domid: number, spec: ForwardSpec): Promise<ForwardInfo>;
    /** What the device code needs of this host. */
    get devices(): VifHost;
    /** xl network-attach: hot-plug a vif. It stays in the configuration the domain restarts with, as libxl keeps it. */
    attachVif(domid: number, vif: DomainVif): Promise<NicDevice>;
    /** xl network-detach DEVID|MAC [-f]. */
    detachVif(domid: number, which: string, force: boolean): Promise<void>;
    /** xl block-attach: hot-plug a disk. It stays in the configuration the domain restarts with, as libxl keeps it. */
    attachDisk(domid: number, spec: DiskSpec): Promise<DiskDevice>;
    /** xl block-detach [-f]. */
    detachDisk(domid: number, vdev: string, force: boolean): Promise<void>;
    /** True from the moment a destroy of the domain starts until it is done. */
    isDestroying(domid: number): boolean;
    /**
     * xl destroy. Destroys of one domain that overlap share one teardown (a shutdown action and
     * a user's destroy can meet here); `destroyed` is emitted once. A transient VM's record goes
     * with its domain, unless `keepVm` (it is about to restart).
     */
    destroy(domid: number, keepVm?: boolean): Promise<void>;
    /**
     * Ask every running guest to power off, wait up to `graceMs` for them to go, then close the
     * host (which destroys whatever is left). Paused guests cannot answer and are just destroyed.
     */
    shutdownAll(graceMs: number): Promise<void>;
    /** Destroy every domain and stop the host's services. */
    close(): Promise<void>;
}
