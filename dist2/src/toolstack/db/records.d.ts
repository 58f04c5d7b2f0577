/** A reference to a record of class C, as XAPI writes it. */
export type Ref<C extends ClassName = ClassName> = string & {
    readonly __class?: C;
};
/** XAPI's null reference. */
export declare const NULL_REF = "OpaqueRef:NULL";
export declare const REF_PREFIX = "OpaqueRef:";
export declare function newRef<C extends ClassName>(): Ref<C>;
export declare function isUuid(s: string): boolean;
export declare function isRef(s: string): boolean;
type StringMap = Record<string, string>;
interface Base {
    uuid: string;
}
interface Named extends Base {
    name_label: string;
    name_description: string;
}
export interface PoolRecord extends Named {
    master: Ref<'host'>;
    default_SR: Ref<'SR'>;
    suspend_image_SR: Ref<'SR'>;
    crash_dump_SR: Ref<'SR'>;
    other_config: StringMap;
}
export interface HostRecord extends Named {
    hostname: string;
    address: string;
    enabled: boolean;
    API_version_major: number;
    API_version_minor: number;
    software_version: StringMap;
    metrics: Ref<'host_metrics'>;
    other_config: StringMap;
}
export interface HostMetricsRecord extends Base {
    memory_total: number;
    memory_free: number;
    live: boolean;
    last_updated: string;
}
export type PowerState = 'Halted' | 'Paused' | 'Running' | 'Suspended';
export type OnNormalExit = 'destroy' | 'restart';
export type OnCrashBehaviour = 'destroy' | 'coredump_and_destroy' | 'restart' | 'coredump_and_restart' | 'preserve' | 'rename_restart';
export interface VMRecord extends Named {
    power_state: PowerState;
    user_version: number;
    is_a_template: boolean;
    is_control_domain: boolean;
    is_a_snapshot: boolean;
    snapshot_of: Ref<'VM'>;
    snapshot_time: string;
    /** -1 when the VM has no domain. */
    domid: number;
    resident_on: Ref<'host'>;
    memory_static_max: number;
    memory_dynamic_max: number;
    memory_dynamic_min: number;
    memory_static_min: number;
    VCPUs_max: number;
    VCPUs_at_startup: number;
    actions_after_shutdown: OnNormalExit;
    actions_after_reboot: OnNormalExit;
    actions_after_crash: OnCrashBehaviour;
    PV_kernel: string;
    PV_args: string;
    PV_ramdisk: string;
    platform: StringMap;
    xenstore_data: StringMap;
    metrics: Ref<'VM_metrics'>;
    guest_metrics: Ref<'VM_guest_metrics'>;
    /** The VDI holding a suspended VM's image (VM.suspend); NULL_REF otherwise. */
    suspend_VDI: Ref<'VDI'>;
    other_config: StringMap;
    /**
     * xenode's own, not served over XenAPI: a domain made from an xl config is transient (its
     * record goes when it is destroyed, as in xl); an imported or XenAPI-made VM persists halted.
     */
    xenode_transient: boolean;
    /** xenode's own: the domain configuration the VM boots with (the toolstack's DomainConfig as JSON); null for dom0. */
    xenode_config: object | null;
    /**
     * xenode's own: the devices of a running VM that are its records' but not plugged into its
     * domain (XAPI's VBD/VIF.create on a running VM, VBD/VIF.unplug), as the toolstack's disk and
     * vif specs; null when there are none. They join the configuration when the VM halts.
     */
    xenode_unplugged?: object | null;
}
export interface VMMetricsRecord extends Base {
    memory_actual: number;
    VCPUs_number: number;
    state: string[];
    start_time: string;
    last_updated: string;
}
export interface VMGuestMetricsRecord extends Base {
    os_version: StringMap;
    PV_drivers_version: StringMap;
    networks: StringMap;
    other: StringMap;
    live: boolean;
    last_updated: string;
}
export interface VBDRecord extends Base {
    VM: Ref<'VM'>;
    VDI: Ref<'VDI'>;
    device: string;
    userdevice: string;
    bootable: boolean;
    mode: 'RO' | 'RW';
    type: 'CD' | 'Disk' | 'Floppy';
    unpluggable: boolean;
    empty: boolean;
    currently_attached: boolean;
    other_config: StringMap;
}
export type VdiType = 'system' | 'user' | 'ephemeral' | 'suspend' | 'crashdump' | 'ha_statefile' | 'metadata' | 'redo_log' | 'rrd' | 'pvs_cache' | 'cbt_metadata';
export interface VDIRecord extends Named {
    SR: Ref<'SR'>;
    virtual_size: number;
    physical_utilisation: number;
    type: VdiType;
    sharable: boolean;
    read_only: boolean;
    /** Where the SR keeps it: for a file SR, the image's file name within the SR. */
    location: string;
    managed: boolean;
    missing: boolean;
    is_a_snapshot: boolean;
    snapshot_of: Ref<'VDI'>;
    snapshot_time: string;
    /** The image format (`format`) and chain (`vhd-parent`, the parent's uuid), as sm keeps them. */
    sm_config: StringMap;
    other_config: StringMap;
}
/** The SR types xenode has: a directory of images, and RAM. */
export declare const SR_TYPES: readonly ['file', 'ram'];
export type SrType = (typeof SR_TYPES)[number];
export interface SRRecord extends Named {
    type: SrType;
    content_type: string;
    shared: boolean;
    physical_size: number;
    physical_utilisation: number;
    virtual_allocation: number;
    sm_config: StringMap;
    other_config: StringMap;
}
export interface PBDRecord extends Base {
    host: Ref<'host'>;
    SR: Ref<'SR'>;
    device_config: StringMap;
    currently_attached: boolean;
    other_config: StringMap;
}
export interface VIFRecord extends Base {
    device: string;
    network: Ref<'network'>;
    VM: Ref<'VM'>;
    MAC: string;
    MTU: number;
    currently_attached: boolean;
    MAC_autogenerated: boolean;
    other_config: StringMap;
}
export interface NetworkRecord extends Named {
    bridge: string;
    MTU: number;
    managed: boolean;
    other_config: StringMap;
}
export interface PIFRecord extends Base {
    device: string;
    network: Ref<'network'>;
    host: Ref<'host'>;
    MAC: string;
    MTU: number;
    VLAN: number;
    physical: boolean;
    currently_attached: boolean;
    management: boolean;
    ip_configuration_mode: 'None' | 'DHCP' | 'Static';
    IP: string;
    netmask: string;
    gateway: string;
    other_config: StringMap;
}
export interface ConsoleRecord extends Base {
    protocol: 'vt100' | 'rfb' | 'rdp';
    location: string;
    VM: Ref<'VM'>;
    other_config: StringMap;
}
export interface SessionRecord extends Base {
    this_host: Ref<'host'>;
    this_user: Ref<'user'>;
    /** The login name (XAPI's auth_user_name). */
    auth_user_name: string;
    last_active: string;
    validation_time: string;
    originator: string;
    is_local_superuser: boolean;
    pool: boolean;
    other_config: StringMap;
}
export type TaskStatus = 'pending' | 'success' | 'failure' | 'cancelling' | 'cancelled';
export interface TaskRecord extends Named {
    created: string;
    finished: string;
    status: TaskStatus;
    resident_on: Ref<'host'>;
    progress: number;
    type: string;
    result: string;
    error_info: string[];
    subtask_of: Ref<'task'>;
    other_config: StringMap;
}
export interface MessageRecord extends Base {
    name: string;
    priority: number;
    cls: 'VM' | 'Host' | 'SR' | 'Pool' | 'VMPP' | 'VMSS' | 'PVS_proxy' | 'VDI' | 'Certificate';
    obj_uuid: string;
    timestamp: string;
    body: string;
}
/** XAPI's role names (RBAC), most powerful first. */
export declare const ROLE_NAMES: readonly ['pool-admin', 'pool-operator', 'vm-power-admin', 'vm-admin', 'vm-operator', 'read-only'];
export type RoleName = (typeof ROLE_NAMES)[number];
export declare function isRoleName(s: string): s is RoleName;
/**
 * XAPI's user class has short_name and fullname; xenode keeps its local users there too, with
 * their scrypt hash (`scrypt$N$r$p$salt$hash`, base64) and their role.
 */
export interface UserRecord extends Base {
    short_name: string;
    fullname: string;
    password_hash: string;
    role: RoleName;
    other_config: StringMap;
}
export interface RoleRecord extends Base {
    name_label: RoleName;
    name_description: string;
    subroles: Ref<'role'>[];
}
/** Class name (as XAPI spells it) → its record. */
export interface Classes {
    pool: PoolRecord;
    host: HostRecord;
    host_metrics: HostMetricsRecord;
    VM: VMRecord;
    VM_metrics: VMMetricsRecord;
    VM_guest_metrics: VMGuestMetricsRecord;
    VBD: VBDRecord;
    VDI: VDIRecord;
    SR: SRRecord;
    PBD: PBDRecord;
    VIF: VIFRecord;
    network: NetworkRecord;
    PIF: PIFRecord;
    console: ConsoleRecord;
    session: SessionRecord;
    task: TaskRecord;
    message: MessageRecord;
    user: UserRecord;
    role: RoleRecord;
}
export type ClassName = keyof Classes;
/** A new record: everything but what the class has a default for may be left out. */
export type NewRecord<C extends ClassName> = Partial<Classes[C]>;
export declare const CLASS_NAMES: ClassName[];
export declare function isClassName(s: string): s is ClassName;
/** A full record of class C from the fields given, the rest from the class's defaults, with a fresh uuid unless one is given. */
export declare function completeRecord<C extends ClassName>(cls: C, fields: NewRecord<C>): Classes[C];
/** The name_label a record is found by, for the classes that have one. */
export declare function nameLabelOf(record: object): string | null;
export {};
