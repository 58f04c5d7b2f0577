import type { HostDb, Tx } from './db/hostdb.js';
import { type PowerState, type Ref, type VMRecord } from './db/records.js';
import type { VmInfo } from './contract.js';
import type { DiskSpec } from './diskspec.js';
import type { DomainConfig, DomainVif } from './domconfig.js';
/** The bridge a vif without bridge= joins (xl's default). */
export declare const DEFAULT_BRIDGE = "xenbr0";
/** A domain as its VM record needs it. */
export interface VmDomain {
    readonly domid: number;
    readonly uuid: string;
    /** ms since the epoch. */
    readonly createdAt: number;
}
/** A running VM's devices that are not plugged into its domain (VMRecord.xenode_unplugged). */
export interface Unplugged {
    readonly disks: readonly DiskSpec[];
    readonly vifs: readonly DomainVif[];
}
export declare function unpluggedOf(r: VMRecord): Unplugged;
/** The configuration stored in a VM's record (null for dom0's). */
export declare function vmConfig(r: VMRecord): DomainConfig | null;
/** XAPI's fields of a VM, from the configuration it boots with. */
export declare function configFields(c: DomainConfig): Partial<VMRecord>;
/** The network record of a bridge, made the first time a vif names it. */
export declare function networkOf(tx: Tx, bridge: string): Ref<'network'>;
/** XAPI's userdevice: the disk's position (xvda 0, xvdb 1, ...), or its devid for a vdev without a letter. */
export declare function userdevice(vdev: string, devid: number): string;
/** The vdev of a userdevice: 0 xvda, 1 xvdb, ... */
export declare function vdevOf(userdevice: number): string;
/** A VM's record as vm-list shows it. */
export declare function vmInfo(r: VMRecord): VmInfo;
/** A VM by ref, uuid or name label (which must then be unique). */
export declare function findVm(tx: Tx, name: string): Ref<'VM'>;
/** The VM table as the host writes it. */
export declare class VmTable {
    #private;
    readonly db: HostDb;
    readonly host: Ref<'host'>;
    constructor(db: HostDb, host: Ref<'host'>);
    /**
     * At host start, from what the database says: no domain outlives its host process, so
     * transient VMs (left by a host that was killed) go, persistent ones are halted, and dom0 is
     * the control domain, running.
     */
    rebuild(dom0: VmDomain & {
        readonly name: string;
    }): Promise<void>;
    /** dom0's VM: its uuid is the one the database keeps, so it stays across restarts. */
    dom0Uuid(): Promise<string | undefined>;
    /** A domain was built from `config`: the persistent VM `vm` now runs, or a new transient VM does. */
    started(vm: Ref<'VM'> | undefined, d: VmDomain, config: DomainConfig, paused: boolean, opts?: {
        resume?: boolean;
    }): Promise<Ref<'VM'>>;
    power(vm: Ref<'VM'>, power_state: PowerState): Promise<void>;
    /** The configuration changed (a rename, a device hot-plugged or unplugged). */
    configured(vm: Ref<'VM'>, config: DomainConfig): Promise<void>;
    /**
     * A running VM's devices that are its records' but not its domain's (VBD/VIF.create while it
     * runs, VBD/VIF.unplug): `edit` changes the list. A device of the configuration is plugged
     * even if listed: an unplug lists it before its detach, a plug removes it after its attach.
     */
    setUnplugged(vm: Ref<'VM'>, edit: (u: Unplugged) => Unplugged): Promise<VMRecord>;
    /**
     * Its domain is gone: a transient VM goes with it, a persistent one (or one about to restart)
     * is halted, one with a suspend image is Suspended.
     */
    stopped(vm: Ref<'VM'>, keep: boolean): Promise<void>;
    /**
     * A running VM is about to be saved into `vdi` (VM.suspend): when its domain goes, it is
     * Suspended, and it persists (a transient one too: its image must not be lost). NULL_REF: the
     * save failed and the domain runs on.
     */
    suspending(vm: Ref<'VM'>, vdi: Ref<'VDI'>): Promise<void>;
    /** A suspended VM's image is discarded: it is Halted. */
    discardSuspend(vm: Ref<'VM'>): Promise<void>;
    /** A persistent, halted VM that boots with `config` (vm-import, VM.create); its config gets the VM's uuid. */
    create(config: DomainConfig, extra?: Partial<VMRecord>): Promise<{
        ref: Ref<'VM'>;
        uuid: string;
    }>;
    /** A halted persistent VM's record and devices go (XAPI's VM.destroy). */
    remove(vm: Ref<'VM'>): Promise<void>;
    /** A halted VM's configuration, changed by `edit` (its uuid stays). */
    reconfigure(vm: Ref<'VM'>, edit: (c: DomainConfig) => DomainConfig, extra?: Partial<VMRecord>): Promise<VMRecord>;
    /** Fields that are the record's alone (not the configuration's): any time, running or not. */
    annotate(vm: Ref<'VM'>, fields: Pick<Partial<VMRecord>, 'name_description' | 'other_config'>): Promise<VMRecord>;
}
