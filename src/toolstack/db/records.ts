// The records of XAPI's data model that xenode has, with the field names of xen-api's
// ocaml/idl/datamodel*.ml (snake_case, and XAPI's own capitals where it has them: VM,
// VCPUs_max, MAC, MTU). Refs are XAPI's `OpaqueRef:<uuid>`. Fields that XAPI derives from the
// other side of a relation (VM.VBDs from VBD.VM, SR.VDIs from VDI.SR, host.resident_VMs from
// VM.resident_on) are not stored: a reader computes them, so the two sides cannot disagree.
// Times are ISO 8601 strings in UTC; XAPI's int fields are numbers (sizes stay below 2^53).
import { randomUUID } from 'node:crypto';

/** A reference to a record of class C, as XAPI writes it. */
export type Ref<C extends ClassName = ClassName> = string & { readonly __class?: C };

/** XAPI's null reference. */
export const NULL_REF = 'OpaqueRef:NULL';

export const REF_PREFIX = 'OpaqueRef:';

export function newRef<C extends ClassName>(): Ref<C> {
  return `${REF_PREFIX}${randomUUID()}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

export function isRef(s: string): boolean {
  return s.startsWith(REF_PREFIX) && isUuid(s.slice(REF_PREFIX.length));
}

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
export const SR_TYPES = ['file', 'ram'] as const;
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

/**
 * XenAPI's vif_locking_mode: network_default (the backend's default: the vif sends only from
 * its MAC), locked (only from its MAC and its ipv4_allowed and ipv6_allowed addresses),
 * unlocked (anything), disabled (nothing, in or out).
 */
export type VifLockingModeRecord = 'network_default' | 'locked' | 'unlocked' | 'disabled';

export interface VIFRecord extends Base {
  device: string;
  network: Ref<'network'>;
  VM: Ref<'VM'>;
  MAC: string;
  MTU: number;
  locking_mode: VifLockingModeRecord;
  ipv4_allowed: string[];
  ipv6_allowed: string[];
  currently_attached: boolean;
  MAC_autogenerated: boolean;
  other_config: StringMap;
}

/**
 * XenAPI's network_default_locking_mode: what a VIF on the network with locking_mode
 * network_default does. `disabled`: nothing, in or out. `unlocked` (the default): what such a
 * VIF does in xenode without XAPI, it sends only from its MAC (XAPI's unlocked VIF would send
 * anything; xenode keeps the MAC check unless a VIF is itself unlocked).
 */
export type NetworkDefaultLockingMode = 'unlocked' | 'disabled';

export interface NetworkRecord extends Named {
  bridge: string;
  default_locking_mode: NetworkDefaultLockingMode;
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
export const ROLE_NAMES = ['pool-admin', 'pool-operator', 'vm-power-admin', 'vm-admin', 'vm-operator', 'read-only'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export function isRoleName(s: string): s is RoleName {
  return (ROLE_NAMES as readonly string[]).includes(s);
}

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

const EPOCH = new Date(0).toISOString();

/** Each class's defaults, as XAPI's datamodel gives them (null refs, empty maps, epoch times). */
const DEFAULTS: { readonly [C in ClassName]: () => Omit<Classes[C], 'uuid'> } = {
  pool: () => ({ name_label: '', name_description: '', master: NULL_REF, default_SR: NULL_REF, suspend_image_SR: NULL_REF, crash_dump_SR: NULL_REF, other_config: {} }),
  host: () => ({ name_label: '', name_description: '', hostname: '', address: '', enabled: true, API_version_major: 2, API_version_minor: 21, software_version: {}, metrics: NULL_REF, other_config: {} }),
  host_metrics: () => ({ memory_total: 0, memory_free: 0, live: false, last_updated: EPOCH }),
  VM: () => ({
    name_label: '', name_description: '', power_state: 'Halted', user_version: 1, is_a_template: false, is_control_domain: false,
    is_a_snapshot: false, snapshot_of: NULL_REF, snapshot_time: EPOCH, domid: -1, resident_on: NULL_REF,
    memory_static_max: 0, memory_dynamic_max: 0, memory_dynamic_min: 0, memory_static_min: 0, VCPUs_max: 1, VCPUs_at_startup: 1,
    actions_after_shutdown: 'destroy', actions_after_reboot: 'restart', actions_after_crash: 'restart',
    PV_kernel: '', PV_args: '', PV_ramdisk: '', platform: {}, xenstore_data: {}, metrics: NULL_REF, guest_metrics: NULL_REF, suspend_VDI: NULL_REF, other_config: {},
    xenode_transient: false, xenode_config: null, xenode_unplugged: null,
  }),
  VM_metrics: () => ({ memory_actual: 0, VCPUs_number: 0, state: [], start_time: EPOCH, last_updated: EPOCH }),
  VM_guest_metrics: () => ({ os_version: {}, PV_drivers_version: {}, networks: {}, other: {}, live: false, last_updated: EPOCH }),
  VBD: () => ({ VM: NULL_REF, VDI: NULL_REF, device: '', userdevice: '', bootable: false, mode: 'RW', type: 'Disk', unpluggable: true, empty: false, currently_attached: false, other_config: {} }),
  VDI: () => ({
    name_label: '', name_description: '', SR: NULL_REF, virtual_size: 0, physical_utilisation: 0, type: 'user', sharable: false, read_only: false,
    location: '', managed: true, missing: false, is_a_snapshot: false, snapshot_of: NULL_REF, snapshot_time: EPOCH, sm_config: {}, other_config: {},
  }),
  SR: () => ({ name_label: '', name_description: '', type: 'file', content_type: '', shared: false, physical_size: 0, physical_utilisation: 0, virtual_allocation: 0, sm_config: {}, other_config: {} }),
  PBD: () => ({ host: NULL_REF, SR: NULL_REF, device_config: {}, currently_attached: false, other_config: {} }),
  VIF: () => ({ device: '', network: NULL_REF, VM: NULL_REF, MAC: '', MTU: 1500, locking_mode: 'network_default', ipv4_allowed: [], ipv6_allowed: [], currently_attached: false, MAC_autogenerated: false, other_config: {} }),
  network: () => ({ name_label: '', name_description: '', bridge: '', default_locking_mode: 'unlocked', MTU: 1500, managed: true, other_config: {} }),
  PIF: () => ({
    device: '', network: NULL_REF, host: NULL_REF, MAC: '', MTU: 1500, VLAN: -1, physical: false, currently_attached: false, management: false,
    ip_configuration_mode: 'None', IP: '', netmask: '', gateway: '', other_config: {},
  }),
  console: () => ({ protocol: 'vt100', location: '', VM: NULL_REF, other_config: {} }),
  session: () => ({ this_host: NULL_REF, this_user: NULL_REF, auth_user_name: '', last_active: EPOCH, validation_time: EPOCH, originator: '', is_local_superuser: false, pool: false, other_config: {} }),
  task: () => ({
    name_label: '', name_description: '', created: EPOCH, finished: EPOCH, status: 'pending', resident_on: NULL_REF, progress: 0, type: '', result: '',
    error_info: [], subtask_of: NULL_REF, other_config: {},
  }),
  message: () => ({ name: '', priority: 5, cls: 'Host', obj_uuid: '', timestamp: EPOCH, body: '' }),
  user: () => ({ short_name: '', fullname: '', password_hash: '', role: 'read-only', other_config: {} }),
  role: () => ({ name_label: 'read-only', name_description: '', subroles: [] }),
};

export const CLASS_NAMES = Object.keys(DEFAULTS) as ClassName[];

export function isClassName(s: string): s is ClassName {
  return Object.hasOwn(DEFAULTS, s);
}

/** A full record of class C from the fields given, the rest from the class's defaults, with a fresh uuid unless one is given. */
export function completeRecord<C extends ClassName>(cls: C, fields: NewRecord<C>): Classes[C] {
  return { ...DEFAULTS[cls](), uuid: randomUUID(), ...fields } as Classes[C];
}

/** The name_label a record is found by, for the classes that have one. */
export function nameLabelOf(record: object): string | null {
  const v = (record as { name_label?: unknown }).name_label;
  return typeof v === 'string' ? v : null;
}
