// The XenAPI calls served: one row per call, with its parameters (after the session), the
// least role that may make it, and whether it has an Async.* form. Reads come from the host
// database (model.ts); every call that changes something goes through the command layer's
// operations (Toolstack.call), the same handlers as the CLI's: `VM.clean_shutdown` is `xenode
// shutdown`, `VM.start` is `xenode vm-start`, `VM.create` is `xenode vm-import`.
import { isIP } from 'node:net';
import { XenError, isXenError, type XenErrnoName } from '../errors.js';
import type { Args, HostEvent, Result, TaskCall, TaskOp, Toolstack, VmChanges, XapiRole } from '../toolstack/contract.js';
import type { HostDb, Tx } from '../toolstack/db/hostdb.js';
import { NULL_REF, type VMRecord } from '../toolstack/db/records.js';
import { vdevOf } from '../toolstack/vms.js';
import type { KernelDirs } from './kernels.js';
import { handleInvalid, operationNotAllowed, toXapiError, vmBadPowerState, XapiError } from './errors.js';
import { classFilter, formatToken, parseToken, type EventLog, type WaitBy, type XapiEvent } from './events.js';
import {
  DB_CLASSES, SERVED_CLASSES, isDbClass, isServedField, servedFields, type DbClass, type PoolIdentity, type PowerState, type ServedClass, type XRecord,
} from './model.js';
import type { Session, SessionTable } from './sessions.js';
import { shareRecord } from './shared.js';
import type { TaskTable } from './tasks.js';
import type { XType, XValue } from './types.js';

/** Where this host receives migrations (host.migrate_receive hands it out), if it does. */
export interface MigrationEndpoint {
  /** ADDRESS:PORT, as the migrate row's target. */
  readonly address: string;
  readonly token: string;
}

/** What calls use of the service (service.ts). */
export interface CallHost {
  /** This host's migration listener (`--listen`), if any. */
  migration(): MigrationEndpoint | undefined;
  readonly ts: Toolstack;
  readonly db: HostDb;
  readonly identity: PoolIdentity;
  readonly sessions: SessionTable;
  readonly events: EventLog;
  readonly tasks: TaskTable;
  /** The directories whose kernels VM.create may name (and VM.start may start). */
  readonly kernels: KernelDirs;
  untilDomain(domid: number, types: readonly HostEvent['type'][], timeoutMs: number, act: () => Promise<unknown>): Promise<void>;
  /** A database record as served (HANDLE_INVALID if there is none), from a cache the database's changes clear. */
  served(cls: DbClass, ref: string): Promise<XRecord>;
  /** Every record of a class as served, cached likewise. */
  servedAll(cls: DbClass): Promise<ReadonlyMap<string, XRecord>>;
  /** Classic events (event.register/next/unregister) of a session. */
  classicEvents(session: string): ClassicEvents;
}

/** A session's classic event registration: the classes it wants, and the last event it has seen. */
export interface ClassicEvents {
  classes: Set<string>;
  cursor: number;
}

export interface CallContext {
  readonly svc: CallHost;
  readonly session: Session;
  /** An Async.* call's task progress (0..1); nothing for a plain call. */
  progress: (fraction: number) => void;
  /** An Async.* call's task can be cancelled by `cancel` from now on; nothing for a plain call. */
  cancellable: (cancel: () => Promise<void>) => void;
  /**
   * Run a wait for events, given whose it is and what ends it early (the client gone): it does
   * not count against the calls running at once (the host's and the user's).
   */
  parked: <T>(wait: (by: WaitBy) => Promise<T>) => Promise<T>;
}

export interface Call {
  readonly params: readonly { readonly name: string; readonly type: XType }[];
  readonly role: XapiRole;
  /** Served as Async.NAME too, returning a task. */
  readonly async?: boolean;
  /** It changes something: the audit log has it. */
  readonly writes?: boolean;
  run(ctx: CallContext, args: XValue[]): Promise<XValue | undefined> | XValue | undefined;
}

const VM = { ref: 'VM' } as const;
const p = (name: string, type: XType) => ({ name, type });
const MiB = 2 ** 20;

/** A VM's stored record; HANDLE_INVALID for a ref that is not a VM's. */
function vmRecord(ctx: CallContext, ref: string): Promise<VMRecord> {
  return ctx.svc.db.read((tx) => tx.VM.get(ref));
}

/** The VM behind a ref in one of `states`, or VM_BAD_POWER_STATE (XAPI names the first state expected). */
async function vmIn(ctx: CallContext, ref: string, states: readonly PowerState[], needsDomain = true): Promise<VMRecord> {
  const r = await vmRecord(ctx, ref);
  if (r.is_control_domain) throw operationNotAllowed('the control domain cannot be started, shut down, rebooted or paused through XenAPI');
  const power = r.power_state;
  if (!states.includes(power) || (needsDomain && r.domid < 0) || (!needsDomain && r.domid >= 0)) {
    throw vmBadPowerState(ref, states[0]!.toLowerCase(), power.toLowerCase());
  }
  return r;
}

/** A command layer operation on a VM, its failures in XAPI's terms. */
async function onVm<T>(ref: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw toXapiError(e, { cls: 'VM', ref });
  }
}

function vmPower(states: readonly PowerState[], act: (ctx: CallContext, r: VMRecord, ref: string) => Promise<unknown>): Call {
  return {
    params: [p('vm', VM)], role: 'vm-operator', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const r = await vmIn(ctx, ref as string, states);
      await onVm(ref as string, () => act(ctx, r, ref as string));
      return undefined;
    },
  };
}

/**
 * A long operation of the command layer run as its task (taskSubmit), its progress mirrored
 * into the XenAPI call's task until it ends; its result, or its failure in XAPI's terms
 * (`unsupported`'s error for an operation the command layer does not support, EOPNOTSUPP);
 * `span` is the part of the call's progress it makes.
 */
async function viaTask<K extends TaskOp>(ctx: CallContext, vm: string, op: K, args: Args<K>, unsupported?: (why: string) => XapiError,
  span: readonly [number, number] = [0, 1]): Promise<Result<K>> {
  const { ts } = ctx.svc;
  const t = await onVm(vm, () => ts.call('taskSubmit', { call: { op, args } as TaskCall }));
  // task.cancel cancels the command layer's task, which stops where its operation can.
  ctx.cancellable(async () => void await ts.call('taskCancel', { task: t.uuid }));
  for (let wait = 5; ; wait = Math.min(100, wait * 2)) {
    const info = await ts.call('taskGet', { task: t.uuid });
    if (info.finished !== null) {
      if (info.status === 'success') return info.result as Result<K>;
      const [errno, message] = info.error_info;
      if (errno === 'EOPNOTSUPP' && unsupported) throw unsupported((message ?? '').replace(/^[A-Z0-9]+: /, ''));
      throw toXapiError(new XenError((errno ?? 'EIO') as XenErrnoName, (message ?? '').replace(/^[A-Z0-9]+: /, '')), { cls: 'VM', ref: vm });
    }
    ctx.progress(span[0] + info.progress * (span[1] - span[0]));
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** What a snapshot may not do (xapi_vm_lifecycle's check_snapshot: revert, clone, copy, export and destroy only): VM_IS_SNAPSHOT [vm, op]. */
function notSnapshot(r: VMRecord, ref: string, op: string): void {
  if (r.is_a_snapshot) throw new XapiError('VM_IS_SNAPSHOT', [ref, op]);
}

/** A disk the storage cannot snapshot, clone or copy (a raw VDI, a RAM SR's, a plain file): SR_OPERATION_NOT_SUPPORTED, as XAPI's checkpoint names the VM. */
const srUnsupported = (ref: string) => (why: string) => new XapiError('SR_OPERATION_NOT_SUPPORTED', [ref, why]);

/** A command layer operation on VM `ref`'s disks, its failures in XAPI's terms. */
async function onDisks<T>(ref: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (isXenError(e, 'EOPNOTSUPP')) throw srUnsupported(ref)(e.detail);
    throw toXapiError(e, { cls: 'VM', ref });
  }
}

/** A VM that VM.clone and VM.copy take: halted (a snapshot is), not the control domain. */
async function haltedForCopy(ctx: CallContext, ref: string): Promise<VMRecord> {
  const r = await vmRecord(ctx, ref);
  if (r.is_control_domain) throw operationNotAllowed('the control domain is not cloned or copied');
  if (r.power_state !== 'Halted' || r.domid >= 0) throw vmBadPowerState(ref, 'halted', r.power_state.toLowerCase());
  return r;
}

/** A new VM's ref from the command layer's VmInfo. */
const vmRefOf = (ctx: CallContext, vm: { uuid: string }) => ctx.svc.db.read((tx) => tx.VM.getByUuid(vm.uuid));
const vdiRefOf = (ctx: CallContext, vdi: { uuid: string }) => ctx.svc.db.read((tx) => tx.VDI.getByUuid(vdi.uuid));
const vdiUuid = (ctx: CallContext, ref: string) => ctx.svc.db.read((tx) => tx.VDI.get(ref).uuid);

/** VDI.snapshot and VDI.clone: vdi-snapshot (O(1), vhd and qcow2); the new VDI is named after its source. */
function vdiSnapshotCall(clone: boolean): Call {
  return {
    params: [p('vdi', { ref: 'VDI' }), p('driver_params', { map: ['string', 'string'] })], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const v = await ctx.svc.db.read((tx) => tx.VDI.get(ref as string));
      const name = `${v.name_label} (${clone ? 'clone' : 'snapshot'})`.slice(0, 255);
      return vdiRefOf(ctx, await onDisks(ref as string, () => ctx.svc.ts.call('vdiSnapshot', { vdi: v.uuid, name, clone })));
    },
  };
}

/**
 * set_name_label, set_name_description, add_to_other_config and remove_from_other_config of a
 * VDI, SR, network, the host or the pool: the command layer's recordSet (xe's *-param-set).
 */
function recordSetters(cls: Args<'recordSet'>['cls'], role: XapiRole): Record<string, Call> {
  /** set_other_config: every key of the map, the old ones removed (xenode's own refused as add_to_other_config refuses them). */
  const setAll: Call = {
    params: [p('self', { ref: cls }), p('value', { map: ['string', 'string'] })], role, writes: true,
    run: async (ctx, [ref, value]) => {
      const { uuid, other_config: had } = await ctx.svc.db.read((tx) => (tx[cls] as unknown as { get(r: string): { uuid: string; other_config: Record<string, string> } }).get(ref as string));
      const next = value as Record<string, string>;
      const call = (change: Omit<Args<'recordSet'>, 'cls' | 'id'>) => onVm(ref as string, () => ctx.svc.ts.call('recordSet', { cls, id: uuid, ...change }));
      // Keys the record keeps itself (xenode-*, a VBD's target and format): a change of one is refused before anything changes.
      const fixed = (k: string) => /^xenode-/.test(k) || (cls === 'VBD' && (k === 'target' || k === 'format'));
      for (const k of Object.keys(next)) if (fixed(k) && had[k] !== next[k]) await call({ otherConfigKey: k, otherConfigValue: next[k]! });
      for (const k of Object.keys(had)) if (!(k in next) && !fixed(k)) await call({ otherConfigKey: k });
      for (const [k, v] of Object.entries(next)) if (had[k] !== v) await call({ otherConfigKey: k, otherConfigValue: v });
      return undefined;
    },
  };
  const set = (names: readonly string[], change: (vs: string[]) => Omit<Args<'recordSet'>, 'cls' | 'id'>): Call => ({
    params: [p('self', { ref: cls }), ...names.map((n) => p(n, 'string'))], role, writes: true,
    run: async (ctx, [ref, ...vs]) => {
      const uuid = await ctx.svc.db.read((tx) => tx[cls].get(ref as string).uuid);
      await onVm(ref as string, () => ctx.svc.ts.call('recordSet', { cls, id: uuid, ...change(vs as string[]) }));
      return undefined;
    },
  });
  return {
    ...(cls !== 'VBD' && cls !== 'VIF' && {
      [`${cls}.set_name_label`]: set(['value'], ([v]) => ({ name: v! })),
      [`${cls}.set_name_description`]: set(['value'], ([v]) => ({ description: v! })),
    }),
    [`${cls}.add_to_other_config`]: set(['key', 'value'], ([k, v]) => ({ otherConfigKey: k!, otherConfigValue: v! })),
    [`${cls}.remove_from_other_config`]: set(['key'], ([k]) => ({ otherConfigKey: k! })),
    [`${cls}.set_other_config`]: setAll,
  };
}

/**
 * A VDI's uuid if a VBD may attach it, else XAPI's VDI_INCOMPATIBLE_TYPE [vdi, type]: a suspend
 * image (or one being written) is the host's record of a domain, not a disk, and a guest that
 * could write it would choose what its VM resumes with.
 */
function attachableVdi(tx: Tx, vdi: string): string {
  const v = tx.VDI.get(vdi);
  if (v.type === 'suspend' || tx.VM.where('suspend_VDI', vdi).length) throw new XapiError('VDI_INCOMPATIBLE_TYPE', [vdi, 'suspend']);
  return v.uuid;
}

/** VM.resume and resume_on: a suspended VM runs again from its suspend VDI. */
async function resumeVm(ctx: CallContext, ref: string, paused: boolean): Promise<undefined> {
  const r = await vmIn(ctx, ref, ['Suspended'], false);
  // Its kernel is loaded again from its path, as at VM.start: checked again (the image's own is the record's, restore.ts).
  await ctx.svc.kernels.confine(r.PV_kernel);
  await viaTask(ctx, ref, 'vmResume', { vm: r.uuid, ...(paused && { paused }) });
  return undefined;
}

/** VM.start and VM.start_on: a halted persistent VM boots with its stored configuration. */
async function startVm(ctx: CallContext, ref: string, paused: boolean): Promise<undefined> {
  const r = await vmIn(ctx, ref, ['Halted'], false);
  notSnapshot(r, ref, 'start');
  if (r.xenode_transient) throw operationNotAllowed(`VM ${r.uuid} came from an xl config and ended with its domain`);
  // Again at start, as XAPI checks when it builds: a link in the directory may have changed since
  // VM.create, and a VM the local CLI made may name any file (the CLI starts that one).
  await ctx.svc.kernels.confine(r.PV_kernel);
  await onVm(ref, () => ctx.svc.ts.call('vmStart', { vm: r.uuid, paused }));
  return undefined;
}

/** A change of a VM through the command layer's vmSet. */
function vmSetter(param: XType, role: XapiRole, changes: (v: XValue, r: VMRecord) => VmChanges, names: readonly string[] = ['value']): Call {
  return {
    params: [p('self', VM), ...names.map((n) => p(n, param))], role, writes: true,
    run: async (ctx, [ref, ...vs]) => {
      const r = await vmRecord(ctx, ref as string);
      if (r.is_control_domain) throw operationNotAllowed('the control domain is not changed through XenAPI');
      await onVm(ref as string, () => ctx.svc.ts.call('vmSet', { vm: r.uuid, ...changes(vs.length === 1 ? vs[0]! : vs, r) }));
      return undefined;
    },
  };
}

/** A memory setter: bytes in XAPI, whole MiB in xenode's configurations. */
function mib(v: XValue): number {
  const n = v as number;
  if (n <= 0 || n % MiB !== 0) throw new XapiError('INVALID_VALUE', ['memory', `${n} is not a positive whole number of MiB in bytes`]);
  return n / MiB;
}

const ON_CRASH: Readonly<Record<string, string>> = {
  destroy: 'destroy', restart: 'restart', preserve: 'preserve', rename_restart: 'rename-restart',
  coredump_and_destroy: 'coredump-destroy', coredump_and_restart: 'coredump-restart',
};

/** A string for an xl.cfg file: refused if it cannot be one. */
function cfgString(field: string, v: unknown): string {
  if (typeof v !== 'string' || /[\n\r\0]/.test(v)) throw new XapiError('INVALID_VALUE', [field, String(v)]);
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The xl.cfg text of a VM.create record: name_label, PV_kernel and memory_static_max are needed. */
export function configOfRecord(rec: Readonly<Record<string, XValue>>): string {
  const num = (field: string): number | undefined => {
    const v = rec[field];
    if (v === undefined) return undefined;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new XapiError('FIELD_TYPE_ERROR', [field]);
    return n;
  };
  for (const f of ['name_label', 'PV_kernel']) if (rec[f] === undefined) throw new XapiError('MAP_DOES_NOT_CONTAIN_KEY', [f]);
  const max = num('memory_static_max');
  if (max === undefined) throw new XapiError('MAP_DOES_NOT_CONTAIN_KEY', ['memory_static_max']);
  const min = num('memory_dynamic_min') ?? num('memory_dynamic_max') ?? max;
  const vcpus = num('VCPUs_max') ?? 1;
  if (vcpus !== 1) throw new XapiError('VALUE_NOT_SUPPORTED', ['VCPUs_max', String(vcpus), 'xenode runs one vCPU per domain']);
  const lines = [`name = ${cfgString('name_label', rec['name_label'])}`, `kernel = ${cfgString('PV_kernel', rec['PV_kernel'])}`,
    `memory = ${mib(min)}`, `maxmem = ${mib(max)}`];
  if (rec['PV_args']) lines.push(`cmdline = ${cfgString('PV_args', rec['PV_args'])}`);
  for (const [field, key] of [['actions_after_shutdown', 'on_poweroff'], ['actions_after_reboot', 'on_reboot'], ['actions_after_crash', 'on_crash']] as const) {
    const v = rec[field];
    if (v === undefined) continue;
    const action = typeof v === 'string' ? ON_CRASH[v] : undefined;
    if (!action || (field !== 'actions_after_crash' && action !== 'destroy' && action !== 'restart')) throw new XapiError('INVALID_VALUE', [field, String(v)]);
    lines.push(`${key} = "${action}"`);
  }
  return `${lines.join('\n')}\n`;
}

/** A field of a create call's record; MAP_DOES_NOT_CONTAIN_KEY when a needed one is missing. */
function field(rec: Readonly<Record<string, XValue>>, name: string, dflt?: string): string {
  const v = rec[name];
  if (v === undefined || v === null) {
    if (dflt === undefined) throw new XapiError('MAP_DOES_NOT_CONTAIN_KEY', [name]);
    return dflt;
  }
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new XapiError('FIELD_TYPE_ERROR', [name]);
  const s = String(v);
  // Every value goes into an xl spec (key=value,...): no separators inside one.
  if (/[,\n\0]/.test(s)) throw new XapiError('INVALID_VALUE', [name, s]);
  return s;
}

type DeviceChange = Omit<Args<'vmDevice'>, 'vm'>;

/**
 * A VM's disk or vif change (VBD/VIF.create and destroy) through the command layer's vmDevice:
 * on a halted VM its configuration's, on a running one (XAPI allows it) an unplugged device's.
 */
async function vmDevice(ctx: CallContext, vm: string, change: DeviceChange): Promise<void> {
  const r = await vmRecord(ctx, vm);
  if (r.is_control_domain) throw operationNotAllowed('the control domain has no configuration to change');
  if (r.power_state !== 'Halted' && r.power_state !== 'Running') throw vmBadPowerState(vm, 'halted', r.power_state.toLowerCase());
  await onVm(vm, () => ctx.svc.ts.call('vmDevice', { vm: r.uuid, ...change }));
}

/**
 * VIF.locking_mode as the vif spec's locking-mode= (the backend's locking-mode node):
 * network_default leaves it out (the vif sends only from its MAC).
 */
function vifLockingMode(v: string): 'locked' | 'unlocked' | 'disabled' | undefined {
  if (v === 'network_default') return undefined;
  if (v === 'locked' || v === 'unlocked' || v === 'disabled') return v;
  throw new XapiError('INVALID_VALUE', ['locking_mode', v]);
}

/** VIF.ipv4_allowed or ipv6_allowed as the vif spec's ipv4-allowed= or ipv6-allowed=: each an address of the family (XAPI's INVALID_IP_ADDRESS_SPECIFIED). */
function allowedAddresses(family: 4 | 6, addrs: readonly string[]): string {
  for (const a of addrs) if (isIP(a) !== family) throw new XapiError('INVALID_IP_ADDRESS_SPECIFIED', [a]);
  return [...new Set(addrs)].join(' ');
}

/**
 * VBD.set_mode, set_bootable, set_userdevice: the command layer's vbdSet, which changes the
 * configuration the VM boots with; as XAPI, only while the VM is halted (VM_BAD_POWER_STATE).
 */
function vbdSetter(param: XType, change: (v: XValue) => Omit<Args<'vbdSet'>, 'vm' | 'vbd'>): Call {
  return {
    params: [p('self', { ref: 'VBD' }), p('value', param)], role: 'vm-admin', writes: true,
    run: async (ctx, [ref, value]) => {
      const b = await ctx.svc.db.read((tx) => tx.VBD.get(ref as string));
      const c = change(value!);
      const r = await vmRecord(ctx, b.VM);
      if (r.is_control_domain) throw operationNotAllowed('the control domain has no configuration to change');
      if (r.power_state !== 'Halted' || r.domid >= 0) throw vmBadPowerState(b.VM, 'halted', r.power_state.toLowerCase());
      if (c.userdevice !== undefined && String(c.userdevice) !== b.userdevice) {
        const taken = await ctx.svc.db.read((tx) => tx.VBD.where('VM', b.VM).some((o) => o !== ref && tx.VBD.get(o).userdevice === String(c.userdevice)));
        if (taken) throw new XapiError('DEVICE_ALREADY_EXISTS', [String(c.userdevice)]);
      }
      await onVm(b.VM, () => ctx.svc.ts.call('vbdSet', { vm: r.uuid, vbd: b.device, ...c }));
      return undefined;
    },
  };
}

/** A VIF's locking through the command layer (vifSet): its VM's vif, live if it is plugged. */
async function vifLocking(ctx: CallContext, ref: string, change: Omit<Args<'vifSet'>, 'vm' | 'vif'>): Promise<void> {
  const dev = await ctx.svc.db.read((tx) => tx.VIF.get(ref));
  const r = await vmRecord(ctx, dev.VM);
  if (r.is_control_domain) throw operationNotAllowed("the control domain's vifs have no locking mode");
  await onVm(dev.VM, () => ctx.svc.ts.call('vifSet', { vm: r.uuid, vif: dev.device, ...change }));
}

/** VIF.set_ipv4_allowed, add_ipv4_allowed, remove_ipv4_allowed and their ipv6 twins. */
function allowedCall(family: 4 | 6, how: 'set' | 'add' | 'remove'): Call {
  return {
    params: [p('self', { ref: 'VIF' }), p('value', how === 'set' ? { set: 'string' } : 'string')], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref, value]) => {
      const dev = await ctx.svc.db.read((tx) => tx.VIF.get(ref as string));
      const had = (family === 4 ? dev.ipv4_allowed : dev.ipv6_allowed) ?? [];
      const next = how === 'set' ? (value as string[]) : how === 'add' ? [...had, value as string] : had.filter((a) => a !== value);
      const list = allowedAddresses(family, next);
      await vifLocking(ctx, ref as string, family === 4 ? { ipv4Allowed: list } : { ipv6Allowed: list });
    },
  };
}

/** VBD/VIF.plug, unplug and unplug_force: hot-plug on a running VM, as block-attach/network-attach and their detaches do it. */
function plugCall(cls: 'VBD' | 'VIF', plug: boolean, force = false): Call {
  return {
    params: [p('self', { ref: cls })], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const dev = await ctx.svc.db.read((tx) => tx[cls].get(ref as string));
      const r = await vmRecord(ctx, dev.VM);
      if (r.is_control_domain) throw operationNotAllowed("the control domain's devices are not hot-plugged through XenAPI");
      if (r.power_state !== 'Running' || r.domid < 0) throw vmBadPowerState(dev.VM, 'running', r.power_state.toLowerCase());
      if (plug && dev.currently_attached) throw new XapiError('DEVICE_ALREADY_ATTACHED', [ref as string]);
      if (!plug && !dev.currently_attached) throw new XapiError('DEVICE_ALREADY_DETACHED', [ref as string]);
      const change: DeviceChange = cls === 'VBD' ? (plug ? { plugDisk: dev.device } : { unplugDisk: dev.device, force })
        : (plug ? { plugVif: dev.device } : { unplugVif: dev.device, force });
      await onVm(dev.VM, () => ctx.svc.ts.call('vmDevice', { vm: r.uuid, ...change }));
      return undefined;
    },
  };
}

/** VBD/VIF.destroy: a halted VM's device, or an unplugged one of a running VM. */
async function destroyDevice(ctx: CallContext, dev: { VM: string; device: string; currently_attached: boolean }, change: DeviceChange): Promise<undefined> {
  if (dev.currently_attached) throw operationNotAllowed(`device ${dev.device} is attached to a running VM: unplug it first`);
  await vmDevice(ctx, dev.VM, change);
  return undefined;
}

async function classRecords(ctx: CallContext, cls: ServedClass): Promise<ReadonlyMap<string, XRecord>> {
  const { svc } = ctx;
  if (cls === 'task') return new Map(svc.tasks.all().map((t) => [t.ref, svc.tasks.record(t)]));
  return svc.servedAll(cls);
}

async function classRecord(ctx: CallContext, cls: ServedClass, ref: string): Promise<XRecord> {
  const { svc } = ctx;
  if (cls === 'task') return svc.tasks.record(svc.tasks.get(ref));
  return svc.served(cls, ref);
}

/** A class's records as one struct: made once per map, which the service keeps until the database changes. */
const asObject = new WeakMap<ReadonlyMap<string, XRecord>, XValue>();
function toObject(m: ReadonlyMap<string, XRecord>): XValue {
  let o = asObject.get(m);
  if (!o) asObject.set(m, (o = shareRecord(Object.fromEntries(m))));
  return o;
}

/** get_all, get_all_records, get_record, get_by_uuid, get_by_name_label and a getter per field. */
function readers(cls: ServedClass): Record<string, Call> {
  const ref = { ref: cls };
  const db = isDbClass(cls) ? cls : undefined;
  const calls: Record<string, Call> = {
    [`${cls}.get_all`]: {
      params: [], role: 'read-only',
      run: async (ctx) => (db ? ctx.svc.db.read((tx) => tx[db].getAll()) : [...(await classRecords(ctx, cls)).keys()]),
    },
    [`${cls}.get_all_records`]: { params: [], role: 'read-only', run: async (ctx) => toObject(await classRecords(ctx, cls)) },
    [`${cls}.get_record`]: { params: [p('self', ref)], role: 'read-only', run: (ctx, [r]) => classRecord(ctx, cls, r as string) },
    [`${cls}.get_by_uuid`]: {
      params: [p('uuid', 'string')], role: 'read-only',
      run: async (ctx, [uuid]) => {
        if (db) return ctx.svc.db.read((tx) => tx[db].getByUuid(uuid as string));
        for (const [r, rec] of await classRecords(ctx, cls)) if (rec['uuid'] === uuid) return r;
        throw new XapiError('UUID_INVALID', [cls, uuid as string]);
      },
    },
  };
  // As XAPI's data model has them: pool has no get_by_name_label, message no field getters.
  if (db && cls !== 'pool' && isServedField(cls, 'name_label')) {
    calls[`${cls}.get_by_name_label`] = { params: [p('label', 'string')], role: 'read-only', run: (ctx, [label]) => ctx.svc.db.read((tx) => tx[db].getByNameLabel(label as string)) };
  }
  for (const field of cls === 'message' ? [] : servedFields(cls)) {
    calls[`${cls}.get_${field}`] = { params: [p('self', ref)], role: 'read-only', run: async (ctx, [r]) => (await classRecord(ctx, cls, r as string))[field]! };
  }
  return calls;
}

/** How long a clean shutdown or reboot may take before VM_SHUTDOWN_TIMEOUT (XAPI waits 1200 s). */
export const CLEAN_SHUTDOWN_MS = 60_000;

function hostCheck(ctx: CallContext, ref: string): void {
  if (ref !== ctx.svc.identity.hostRef) throw handleInvalid('host', ref);
}

export const CALLS: Readonly<Record<string, Call>> = {
  'session.logout': { params: [], role: 'read-only', run: (ctx) => void ctx.svc.sessions.revoke(ctx.session.ref) },
  'session.get_this_user': { params: [], role: 'read-only', run: (ctx) => ctx.session.user },
  // No external authentication (AD): no subjects, as xapi answers without it.
  'session.get_all_subject_identifiers': { params: [], role: 'read-only', run: () => [] },
  'session.get_uuid': { params: [p('self', { ref: 'session' })], role: 'read-only', run: (ctx, [r]) => {
    if (r !== ctx.session.ref) throw handleInvalid('session', r as string);
    return ctx.session.uuid;
  } },
  ...Object.assign({}, ...SERVED_CLASSES.map(readers)) as Record<string, Call>,
  'host.get_servertime': { params: [p('host', { ref: 'host' })], role: 'read-only', run: (ctx, [r]) => {
    hostCheck(ctx, r as string);
    return new Date();
  } },
  'host.dmesg': { params: [p('host', { ref: 'host' })], role: 'pool-operator', run: async (ctx, [r]) => {
    hostCheck(ctx, r as string);
    const entries = await ctx.svc.ts.call('dmesg', {});
    return entries.map((e) => `${e.time} ${e.type === 'message' ? e.text : JSON.stringify(e)}`).join('\n');
  } },
  // XAPI's (pool-admin): `xenode debug-keys`, the hypervisor's dump into the host log (host.dmesg reads it).
  'host.send_debug_keys': { params: [p('host', { ref: 'host' }), p('keys', 'string')], role: 'pool-admin', writes: true, run: async (ctx, [r, keys]) => {
    hostCheck(ctx, r as string);
    try {
      await ctx.svc.ts.call('debugKeys', { keys: keys as string });
    } catch (e) {
      // The command refuses a key it does not know (EINVAL) before anything is dumped.
      if (isXenError(e, 'EINVAL')) throw new XapiError('INVALID_VALUE', ['keys', (keys as string).slice(0, 64), e.detail]);
      throw e;
    }
    return undefined;
  } },
  'VM.clean_shutdown': vmPower(['Running'], (ctx, r) => ctx.svc.untilDomain(r.domid, ['shutdown', 'destroyed'], CLEAN_SHUTDOWN_MS,
    () => ctx.svc.ts.call('shutdown', { domain: r.domid }))),
  // A reboot builds the domain again, its kernel loaded by path: checked as at VM.start, before
  // the guest is asked (a reboot the guest makes itself is not: SECURITY.md).
  'VM.clean_reboot': vmPower(['Running'], async (ctx, r) => {
    await ctx.svc.kernels.confine(r.PV_kernel);
    return ctx.svc.untilDomain(r.domid, ['restarted', 'shutdown', 'destroyed'], CLEAN_SHUTDOWN_MS,
      () => ctx.svc.ts.call('shutdown', { domain: r.domid, reboot: true }));
  }),
  'VM.hard_shutdown': {
    params: [p('vm', VM)], role: 'vm-operator', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const r = await vmRecord(ctx, ref as string);
      // A suspended VM halts without resuming: its image goes, as XAPI discards it.
      if (r.power_state === 'Suspended') await onVm(ref as string, () => ctx.svc.ts.call('vmResume', { vm: r.uuid, discard: true }));
      else await vmPower(['Running', 'Paused', 'Halted'], (c, v) => c.svc.ts.call('destroy', { domain: v.domid })).run(ctx, [ref!]);
      return undefined;
    },
  },
  'VM.suspend': {
    params: [p('vm', VM)], role: 'vm-operator', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const r = await vmIn(ctx, ref as string, ['Running']);
      // Its resume loads the kernel again: one refused now would leave the VM Suspended on an image it cannot resume.
      await ctx.svc.kernels.confine(r.PV_kernel);
      await viaTask(ctx, ref as string, 'vmSuspend', { vm: r.uuid });
      return undefined;
    },
  },
  'VM.resume': {
    params: [p('vm', VM), p('start_paused', 'bool'), p('force', 'bool')], role: 'vm-operator', async: true, writes: true,
    run: (ctx, [ref, paused]) => resumeVm(ctx, ref as string, paused as boolean),
  },
  'VM.resume_on': {
    params: [p('vm', VM), p('host', { ref: 'host' }), p('start_paused', 'bool'), p('force', 'bool')], role: 'vm-power-admin', async: true, writes: true,
    run: (ctx, [ref, host, paused]) => {
      hostCheck(ctx, host as string);
      return resumeVm(ctx, ref as string, paused as boolean);
    },
  },
  'VM.pool_migrate': {
    params: [p('vm', VM), p('host', { ref: 'host' }), p('options', { map: ['string', 'string'] })], role: 'vm-power-admin', async: true, writes: true,
    run: async (ctx, [ref, host]) => {
      hostCheck(ctx, host as string);
      const r = await vmIn(ctx, ref as string, ['Running']);
      // Checked before the suspend: a kernel refused at the resume would leave the VM Suspended.
      await ctx.svc.kernels.confine(r.PV_kernel);
      // A pool of one host: XAPI migrates a VM to its own host (xenopsd's localhost migration),
      // the same VM in a new domain. Here its state goes through a suspend image: suspend, then
      // resume, each half of the task's progress.
      await viaTask(ctx, ref as string, 'vmSuspend', { vm: r.uuid }, undefined, [0, 0.5]);
      await viaTask(ctx, ref as string, 'vmResume', { vm: r.uuid }, undefined, [0.5, 1]);
      return undefined;
    },
  },
  // pool-admin, not XAPI's vm-power-admin: its token lets the sender name the kernel the target
  // loads, and a xenode kernel is a host path run as the host's user (host code, kernels.ts).
  'host.migrate_receive': {
    params: [p('host', { ref: 'host' }), p('network', { ref: 'network' }), p('options', { map: ['string', 'string'] })], role: 'pool-admin', writes: true,
    run: async (ctx, [host, network]) => {
      hostCheck(ctx, host as string);
      await ctx.svc.db.read((tx) => tx.network.get(network as string));
      const m = ctx.svc.migration();
      if (!m) throw operationNotAllowed('this host receives no migrations: start it with --listen ADDRESS:PORT');
      // What VM.migrate_send on the sending host needs: where to send, the token that lets it,
      // and this host's SRs (SR:<ref> → uuid), which a vdi_map names by their refs here.
      const uuids = (await ctx.svc.ts.call('srList', {})).map((sr) => sr.uuid);
      const srs = await ctx.svc.db.read((tx) => uuids.map((uuid) => [`SR:${tx.SR.getByUuid(uuid)}`, uuid] as const));
      return { host: ctx.svc.identity.hostRef, migration: m.address, token: m.token, ...Object.fromEntries(srs) };
    },
  },
  'VM.migrate_send': {
    params: [p('vm', VM), p('dest', { map: ['string', 'string'] }), p('live', 'bool'), p('vdi_map', { map: [{ ref: 'VDI' }, { ref: 'SR' }] }),
      p('vif_map', { map: [{ ref: 'VIF' }, { ref: 'network' }] }), p('options', { map: ['string', 'string'] })],
    role: 'vm-power-admin', async: true, writes: true,
    run: async (ctx, [ref, dest, , vdiMap, vifMap]) => {
      const r = await vmIn(ctx, ref as string, ['Running']);
      const d = dest as Record<string, string>;
      if (!d['migration'] || !d['token']) throw new XapiError('MAP_DOES_NOT_CONTAIN_KEY', [d['migration'] ? 'token' : 'migration']);
      const { vdis, vifs } = await ctx.svc.db.read((tx) => ({
        vdis: tx.VBD.where('VM', ref as string).map((b) => tx.VBD.get(b).VDI).filter((v) => v !== NULL_REF),
        vifs: tx.VIF.where('VM', ref as string),
      }));
      for (const vif of Object.keys(vifMap as object)) if (!vifs.includes(vif)) throw handleInvalid('VIF', vif);
      // Storage XenMotion: each VDI goes to the destination's SR the map names (by its ref
      // there, which host.migrate_receive's dest resolves), through the migrate row's mirror.
      const map = vdiMap as Record<string, string>;
      const vdiSrs: Record<string, string> = {};
      for (const vdi of vdis) {
        if (!Object.hasOwn(map, vdi)) throw new XapiError('VDI_NOT_IN_MAP', [vdi]);
        const sr = d[`SR:${map[vdi]}`];
        if (sr === undefined) throw handleInvalid('SR', map[vdi]!);
        vdiSrs[await ctx.svc.db.read((tx) => tx.VDI.get(vdi).uuid)] = sr;
      }
      const disks = vdis.length > 0 && { withDisks: true, vdiMap: vdiSrs };
      await viaTask(ctx, ref as string, 'migrate', { domain: r.domid, target: d['migration'], token: d['token'], ...disks },
        (why) => new XapiError('VALUE_NOT_SUPPORTED', ['vdi_map', Object.keys(map).join(','), why]));
      // The VM runs on the destination now: a persistent VM's record here (halted when its domain
      // went) goes too, as XAPI moves the record; the move stands even if that fails.
      if (!r.xenode_transient) await ctx.svc.ts.call('vmUninstall', { vm: r.uuid }).catch(() => {});
      return undefined;
    },
  },
  'VM.hard_reboot': vmPower(['Running', 'Paused'], async (ctx, r) => {
    await ctx.svc.kernels.confine(r.PV_kernel);
    return ctx.svc.ts.call('hardReboot', { domain: r.domid });
  }),
  'VM.pause': vmPower(['Running'], (ctx, r) => ctx.svc.ts.call('pause', { domain: r.domid })),
  'VM.unpause': vmPower(['Paused'], (ctx, r) => ctx.svc.ts.call('unpause', { domain: r.domid })),
  'VM.start': {
    params: [p('vm', VM), p('start_paused', 'bool'), p('force', 'bool')], role: 'vm-operator', async: true, writes: true,
    run: (ctx, [ref, paused]) => startVm(ctx, ref as string, paused as boolean),
  },
  'VM.start_on': {
    params: [p('vm', VM), p('host', { ref: 'host' }), p('start_paused', 'bool'), p('force', 'bool')], role: 'vm-power-admin', async: true, writes: true,
    run: (ctx, [ref, host, paused]) => {
      hostCheck(ctx, host as string);
      return startVm(ctx, ref as string, paused as boolean);
    },
  },
  'VM.create': {
    params: [p('args', 'record')], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [rec]) => {
      const fields = rec as Record<string, XValue>;
      if (fields['PV_kernel'] === undefined) throw new XapiError('MAP_DOES_NOT_CONTAIN_KEY', ['PV_kernel']);
      await ctx.svc.kernels.confine(fields['PV_kernel']);
      const text = configOfRecord(fields);
      const desc = fields['name_description'];
      const vm = await onVm(NULL_REF, () => ctx.svc.ts.call('vmImport', {
        file: '/VM.create', text, ...(typeof desc === 'string' && { description: desc }),
      }));
      const other = fields['other_config'];
      if (other && typeof other === 'object' && !Array.isArray(other)) {
        for (const [k, v] of Object.entries(other)) await ctx.svc.ts.call('vmSet', { vm: vm.uuid, otherConfigKey: k, otherConfigValue: String(v) });
      }
      return ctx.svc.db.read((tx) => tx.VM.getByUuid(vm.uuid));
    },
  },
  'VM.destroy': {
    params: [p('self', VM)], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const r = await vmIn(ctx, ref as string, ['Halted'], false);
      await onVm(ref as string, () => ctx.svc.ts.call('vmUninstall', { vm: r.uuid }));
      return undefined;
    },
  },
  'VM.set_name_label': vmSetter('string', 'vm-admin', (v) => ({ name: v as string })),
  'VM.set_name_description': vmSetter('string', 'vm-admin', (v) => ({ description: v as string })),
  'VM.add_to_other_config': vmSetter('string', 'vm-admin', (v) => {
    const [key, value] = v as string[];
    return { otherConfigKey: key!, otherConfigValue: value! };
  }, ['key', 'value']),
  'VM.remove_from_other_config': vmSetter('string', 'vm-admin', (v) => ({ otherConfigKey: v as string }), ['key']),
  'VM.set_memory': vmSetter('int', 'vm-power-admin', (v) => ({ memory: mib(v), maxmem: mib(v) })),
  'VM.set_memory_static_max': vmSetter('int', 'vm-power-admin', (v) => ({ maxmem: mib(v) })),
  'VM.set_memory_dynamic_max': vmSetter('int', 'vm-power-admin', (v) => ({ maxmem: mib(v) })),
  'VM.set_memory_dynamic_min': vmSetter('int', 'vm-power-admin', (v) => ({ memory: mib(v) })),
  'VM.set_memory_static_min': vmSetter('int', 'vm-power-admin', (v) => ({ memory: mib(v) })),
  'VM.set_VCPUs_max': vmSetter('int', 'vm-power-admin', (v) => {
    if (v !== 1) throw new XapiError('VALUE_NOT_SUPPORTED', ['VCPUs_max', String(v), 'xenode runs one vCPU per domain']);
    return {};
  }),
  'VM.set_VCPUs_at_startup': vmSetter('int', 'vm-power-admin', (v) => {
    if (v !== 1) throw new XapiError('VALUE_NOT_SUPPORTED', ['VCPUs_at_startup', String(v), 'xenode runs one vCPU per domain']);
    return {};
  }),
  'VM.snapshot': {
    params: [p('vm', VM), p('new_name', 'string')], role: 'vm-power-admin', async: true, writes: true,
    run: async (ctx, [ref, name]) => {
      const r = await vmRecord(ctx, ref as string);
      if (r.is_control_domain) throw operationNotAllowed('the control domain is not snapshotted');
      notSnapshot(r, ref as string, 'snapshot');
      return vmRefOf(ctx, await onDisks(ref as string, () => ctx.svc.ts.call('vmSnapshot', { vm: r.uuid, name: name as string })));
    },
  },
  'VM.clone': {
    params: [p('vm', VM), p('new_name', 'string')], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref, name]) => {
      const r = await haltedForCopy(ctx, ref as string);
      return vmRefOf(ctx, await onDisks(ref as string, () => ctx.svc.ts.call('vmClone', { vm: r.uuid, name: name as string })));
    },
  },
  'VM.copy': {
    params: [p('vm', VM), p('new_name', 'string'), p('sr', { ref: 'SR' })], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref, name, sr]) => {
      const r = await haltedForCopy(ctx, ref as string);
      const srUuid = sr === NULL_REF ? undefined : await ctx.svc.db.read((tx) => tx.SR.get(sr as string).uuid);
      const vm = await viaTask(ctx, ref as string, 'vmCopy', { vm: r.uuid, name: name as string, ...(srUuid !== undefined && { sr: srUuid }) }, srUnsupported(ref as string));
      return vmRefOf(ctx, vm);
    },
  },
  'VM.revert': {
    params: [p('snapshot', VM)], role: 'vm-power-admin', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const s = await vmRecord(ctx, ref as string);
      if (!s.is_a_snapshot) throw new XapiError('ONLY_REVERT_SNAPSHOT', []);
      const vm = await ctx.svc.db.read((tx) => (s.snapshot_of !== NULL_REF && tx.VM.find(s.snapshot_of) ? s.snapshot_of : undefined));
      if (vm === undefined) throw new XapiError('VM_REVERT_FAILED', [ref as string, s.snapshot_of]);
      await onDisks(ref as string, () => ctx.svc.ts.call('vmRevert', { snapshot: s.uuid }));
      return undefined;
    },
  },
  'VM.checkpoint': {
    params: [p('vm', VM), p('new_name', 'string')], role: 'vm-power-admin', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const r = await vmRecord(ctx, ref as string);
      if (r.is_control_domain) throw operationNotAllowed('the control domain is not checkpointed');
      if (!['Running', 'Paused', 'Suspended'].includes(r.power_state)) throw vmBadPowerState(ref as string, 'running', r.power_state.toLowerCase());
      notSnapshot(r, ref as string, 'checkpoint');
      // A memory image names the disks it was taken with, and restore attaches those: a
      // checkpoint's image would bring back the VM's current disks, not the snapshot's.
      throw operationNotAllowed('xenode takes disk-only snapshots (VM.snapshot): memory checkpoints are not supported, as a save image re-attaches the disks it was taken with');
    },
  },
  ...recordSetters('VDI', 'vm-admin'),
  ...recordSetters('SR', 'pool-operator'),
  ...recordSetters('network', 'pool-operator'),
  ...recordSetters('host', 'pool-operator'),
  ...recordSetters('pool', 'pool-operator'),
  ...recordSetters('VBD', 'vm-admin'),
  ...recordSetters('VIF', 'vm-admin'),
  'VBD.set_mode': vbdSetter('string', (v) => {
    if (v !== 'RO' && v !== 'RW') throw new XapiError('INVALID_VALUE', ['mode', String(v)]);
    return { mode: v };
  }),
  'VBD.set_bootable': vbdSetter('bool', (v) => ({ bootable: v as boolean })),
  'VBD.set_userdevice': vbdSetter('string', (v) => {
    const n = Number(v);
    if (!/^[0-9]{1,3}$/.test(v as string) || n > 701) throw new XapiError('INVALID_VALUE', ['userdevice', String(v)]);
    return { userdevice: n };
  }),
  'SR.create': {
    params: [p('host', { ref: 'host' }), p('device_config', { map: ['string', 'string'] }), p('physical_size', 'int'), p('name_label', 'string'),
      p('name_description', 'string'), p('type', 'string'), p('content_type', 'string'), p('shared', 'bool'), p('sm_config', { map: ['string', 'string'] })],
    role: 'pool-operator', async: true, writes: true,
    run: async (ctx, [host, config, , name, desc, type]) => {
      hostCheck(ctx, host as string);
      // xenode's SR types: a directory (device_config location, as XCP's FileSR has it) and RAM.
      if (type !== 'file' && type !== 'ram') throw new XapiError('SR_UNKNOWN_DRIVER', [type as string]);
      const location = (config as Record<string, string>)['location'];
      if (type === 'file' && !location) throw new XapiError('MAP_DOES_NOT_CONTAIN_KEY', ['location']);
      const sr = await onVm(NULL_REF, () => ctx.svc.ts.call('srCreate', {
        name: name as string, type, ...(type === 'file' && { path: location! }), ...(desc !== '' && { description: desc as string }),
      }));
      return ctx.svc.db.read((tx) => tx.SR.getByUuid(sr.uuid));
    },
  },
  'VDI.snapshot': vdiSnapshotCall(false),
  'VDI.clone': vdiSnapshotCall(true),
  'VDI.copy': {
    params: [p('vdi', { ref: 'VDI' }), p('sr', { ref: 'SR' })], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref, sr]) => {
      const vdi = await vdiUuid(ctx, ref as string);
      const srUuid = await ctx.svc.db.read((tx) => tx.SR.get(sr as string).uuid);
      return vdiRefOf(ctx, await viaTask(ctx, ref as string, 'vdiCopy', { vdi, sr: srUuid }, srUnsupported(ref as string)));
    },
  },
  'VDI.destroy': {
    params: [p('self', { ref: 'VDI' })], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const vdi = await vdiUuid(ctx, ref as string);
      await onDisks(ref as string, () => ctx.svc.ts.call('vdiDestroy', { vdi }));
      return undefined;
    },
  },
  'VDI.resize': {
    params: [p('vdi', { ref: 'VDI' }), p('size', 'int')], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref, size]) => {
      const vdi = await vdiUuid(ctx, ref as string);
      await onDisks(ref as string, () => ctx.svc.ts.call('vdiResize', { vdi, size: String(size) }));
      return undefined;
    },
  },
  'VDI.create': {
    params: [p('args', 'record')], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [rec]) => {
      const f = rec as Record<string, XValue>;
      const sr = await ctx.svc.db.read((tx) => tx.SR.get(field(f, 'SR')).uuid);
      const sm = f['sm_config'];
      const format = sm && typeof sm === 'object' && !Array.isArray(sm) && typeof (sm as Record<string, XValue>)['format'] === 'string' ? (sm as Record<string, string>)['format'] : undefined;
      const desc = f['name_description'] ? field(f, 'name_description') : undefined;
      const v = await onDisks(NULL_REF, () => ctx.svc.ts.call('vdiCreate', {
        sr, name: field(f, 'name_label'), size: field(f, 'virtual_size'), ...(format !== undefined && { format }), ...(desc !== undefined && { description: desc }),
      }));
      return vdiRefOf(ctx, v);
    },
  },
  'SR.scan': {
    params: [p('sr', { ref: 'SR' })], role: 'vm-power-admin', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const sr = await ctx.svc.db.read((tx) => tx.SR.get(ref as string).uuid);
      await onDisks(ref as string, () => ctx.svc.ts.call('srScan', { sr }));
      return undefined;
    },
  },
  'VBD.create': {
    params: [p('args', 'record')], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [rec]) => {
      const f = rec as Record<string, XValue>;
      const vm = field(f, 'VM');
      const ud = field(f, 'userdevice', 'autodetect');
      const type = field(f, 'type', 'Disk');
      const vdi = field(f, 'VDI', NULL_REF);
      const used = await ctx.svc.db.read((tx) => tx.VBD.where('VM', vm).map((b) => tx.VBD.get(b).userdevice));
      let n = ud === 'autodetect' ? 0 : Number(ud);
      if (!Number.isSafeInteger(n) || n < 0 || n > 701) throw new XapiError('INVALID_VALUE', ['userdevice', ud]);
      if (ud === 'autodetect') while (used.includes(String(n))) n++;
      const vdev = vdevOf(n);
      const spec = [`vdev=${vdev}`, `access=${field(f, 'mode', 'RW') === 'RO' ? 'ro' : 'rw'}`];
      if (type === 'CD') spec.push('devtype=cdrom');
      if (vdi !== NULL_REF) spec.push(`target=vdi:${await ctx.svc.db.read((tx) => attachableVdi(tx, vdi))}`);
      else if (type !== 'CD') throw new XapiError('VDI_MISSING', []);
      await vmDevice(ctx, vm, { disk: spec.join(',') });
      return ctx.svc.db.read((tx) => tx.VBD.where('VM', vm).find((b) => tx.VBD.get(b).device === vdev)!);
    },
  },
  'VBD.destroy': {
    params: [p('self', { ref: 'VBD' })], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const b = await ctx.svc.db.read((tx) => tx.VBD.get(ref as string));
      return destroyDevice(ctx, b, { removeDisk: b.device });
    },
  },
  'VBD.plug': plugCall('VBD', true),
  'VBD.unplug': plugCall('VBD', false),
  'VBD.unplug_force': plugCall('VBD', false, true),
  'VIF.create': {
    params: [p('args', 'record')], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [rec]) => {
      const f = rec as Record<string, XValue>;
      const vm = field(f, 'VM');
      const device = field(f, 'device');
      if (!/^[0-9]{1,9}$/.test(device)) throw new XapiError('INVALID_VALUE', ['device', device]);
      const bridge = await ctx.svc.db.read((tx) => tx.network.get(field(f, 'network')).bridge);
      const mac = field(f, 'MAC', '');
      const mtu = field(f, 'MTU', '');
      const locking = vifLockingMode(field(f, 'locking_mode', 'network_default'));
      const addrs = (k: string) => (Array.isArray(f[k]) ? (f[k] as XValue[]).map(String) : []);
      const v4 = allowedAddresses(4, addrs('ipv4_allowed'));
      const v6 = allowedAddresses(6, addrs('ipv6_allowed'));
      const spec = [`bridge=${bridge}`, `devid=${device}`, ...(mac ? [`mac=${mac}`] : []), ...(mtu ? [`mtu=${mtu}`] : []), ...(locking ? [`locking-mode=${locking}`] : []),
        ...(v4 ? [`ipv4-allowed=${v4}`] : []), ...(v6 ? [`ipv6-allowed=${v6}`] : [])];
      await vmDevice(ctx, vm, { vif: spec.join(',') });
      return ctx.svc.db.read((tx) => tx.VIF.where('VM', vm).find((v) => tx.VIF.get(v).device === device)!);
    },
  },
  'VIF.destroy': {
    params: [p('self', { ref: 'VIF' })], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref]) => {
      const v = await ctx.svc.db.read((tx) => tx.VIF.get(ref as string));
      return destroyDevice(ctx, v, { removeVif: v.device });
    },
  },
  'VIF.plug': plugCall('VIF', true),
  'VIF.unplug': plugCall('VIF', false),
  'VIF.unplug_force': plugCall('VIF', false, true),
  'VIF.set_locking_mode': {
    params: [p('self', { ref: 'VIF' }), p('value', 'string')], role: 'vm-admin', async: true, writes: true,
    run: async (ctx, [ref, value]) => {
      vifLockingMode(value as string);
      await vifLocking(ctx, ref as string, { lockingMode: value as Args<'vifSet'>['lockingMode'] & string });
    },
  },
  'VIF.set_ipv4_allowed': allowedCall(4, 'set'),
  'VIF.add_ipv4_allowed': allowedCall(4, 'add'),
  'VIF.remove_ipv4_allowed': allowedCall(4, 'remove'),
  'VIF.set_ipv6_allowed': allowedCall(6, 'set'),
  'VIF.add_ipv6_allowed': allowedCall(6, 'add'),
  'VIF.remove_ipv6_allowed': allowedCall(6, 'remove'),
  'network.create': {
    params: [p('args', 'record')], role: 'pool-operator', async: true, writes: true,
    run: async (ctx, [rec]) => {
      const f = rec as Record<string, XValue>;
      const bridge = f['bridge'] ? field(f, 'bridge') : undefined;
      const desc = f['name_description'] ? field(f, 'name_description') : undefined;
      const n = await onVm(NULL_REF, () => ctx.svc.ts.call('networkCreate', {
        name: field(f, 'name_label'), ...(bridge !== undefined && { bridge }), ...(desc !== undefined && { description: desc }),
      }));
      return ctx.svc.db.read((tx) => tx.network.getByUuid(n.uuid));
    },
  },
  'network.set_default_locking_mode': {
    params: [p('network', { ref: 'network' }), p('value', 'string')], role: 'pool-operator', async: true, writes: true,
    run: async (ctx, [ref, value]) => {
      if (value !== 'unlocked' && value !== 'disabled') throw new XapiError('INVALID_VALUE', ['value', value as string]);
      // As XAPI: not while a VIF on the network is plugged (it keeps the mode it was plugged with).
      const { uuid, plugged } = await ctx.svc.db.read((tx) => ({
        uuid: tx.network.get(ref as string).uuid,
        plugged: tx.VIF.where('network', ref as string).find((v) => tx.VIF.get(v).currently_attached),
      }));
      if (plugged !== undefined) throw new XapiError('VIF_IN_USE', [ref as string, plugged]);
      await onVm(NULL_REF, () => ctx.svc.ts.call('networkSet', { network: uuid, defaultLockingMode: value }));
    },
  },
  'task.cancel': { params: [p('task', { ref: 'task' })], role: 'read-only', async: true, run: async (ctx, [r]) => {
    await ctx.svc.tasks.cancel(ownTask(ctx, r as string).ref);
    return undefined;
  } },
  'task.destroy': { params: [p('self', { ref: 'task' })], role: 'read-only', run: (ctx, [r]) => void ctx.svc.tasks.destroy(ownTask(ctx, r as string).ref) },
  'event.inject': { params: [p('class', 'string'), p('ref', 'string')], role: 'read-only', run: async (ctx, [cls, r]) => {
    const served = servedClass(cls as string);
    const rec = await classRecord(ctx, served, r as string);
    return formatToken(ctx.svc.events.record(served, 'mod', r as string, rec).id);
  } },
  'event.from': { params: [p('classes', { set: 'string' }), p('token', 'string'), p('timeout', 'float')], role: 'read-only', run: async (ctx, [classes, token, timeout]) => {
    const { events } = ctx.svc;
    const wanted = classes as string[];
    const matches = classFilter(wanted);
    let list: XapiEvent[];
    if (token === '') {
      // No token: every record asked for, as an add.
      const last = events.last;
      list = [];
      for (const cls of SERVED_CLASSES) {
        if (!matches({ class: cls.toLowerCase(), ref: '' }) && !wanted.some((w) => w.toLowerCase().startsWith(`${cls.toLowerCase()}/`))) continue;
        for (const [r, rec] of await classRecords(ctx, cls)) {
          const e = { id: last, class: cls.toLowerCase(), operation: 'add' as const, ref: r, snapshot: rec, timestamp: `${(Date.now() / 1000).toFixed(6)}` };
          if (matches(e)) list.push(e);
        }
      }
      return { events: list.map(eventValue), valid_ref_counts: await refCounts(ctx, wanted), token: formatToken(last) };
    }
    const since = parseToken(token as string);
    const got = await ctx.parked((by) => events.wait(since, matches, Math.max(0, (timeout as number) * 1000), by));
    return { events: got.events.map(eventValue), valid_ref_counts: await refCounts(ctx, wanted), token: formatToken(got.last) };
  } },
  'event.register': { params: [p('classes', { set: 'string' })], role: 'read-only', run: (ctx, [classes]) => {
    const reg = ctx.svc.classicEvents(ctx.session.ref);
    for (const c of classes as string[]) reg.classes.add(c);
    return undefined;
  } },
  'event.unregister': { params: [p('classes', { set: 'string' })], role: 'read-only', run: (ctx, [classes]) => {
    const reg = ctx.svc.classicEvents(ctx.session.ref);
    for (const c of classes as string[]) reg.classes.delete(c);
    return undefined;
  } },
  'event.next': { params: [], role: 'read-only', run: async (ctx) => {
    const reg = ctx.svc.classicEvents(ctx.session.ref);
    if (reg.classes.size === 0) throw new XapiError('SESSION_NOT_REGISTERED', [ctx.session.ref]);
    const { events } = ctx.svc;
    const got = await ctx.parked((by) => events.wait(reg.cursor, classFilter([...reg.classes]), events.limits.maxWaitMs, by));
    reg.cursor = got.last;
    return got.events.map(eventValue);
  } },
};

function servedClass(cls: string): ServedClass {
  const c = SERVED_CLASSES.find((x) => x.toLowerCase() === cls.toLowerCase());
  if (!c) throw new XapiError('HANDLE_INVALID', [cls, '']);
  return c;
}

function ownTask(ctx: CallContext, ref: string) {
  const t = ctx.svc.tasks.get(ref);
  if (t.session !== ctx.session.ref && ctx.session.role !== 'pool-admin') throw handleInvalid('task', ref);
  return t;
}

function eventValue(e: XapiEvent): XValue {
  return { id: String(e.id), timestamp: e.timestamp, class: e.class, operation: e.operation, ref: e.ref, ...(e.snapshot !== undefined && { snapshot: e.snapshot }) };
}

async function refCounts(ctx: CallContext, classes: readonly string[]): Promise<XValue> {
  const all = classes.includes('*');
  const wanted = SERVED_CLASSES.filter((cls) => all || classes.some((c) => c.toLowerCase() === cls.toLowerCase()));
  const out: Record<string, number> = {};
  const db = wanted.filter((c): c is DbClass => (DB_CLASSES as readonly string[]).includes(c));
  await ctx.svc.db.read((tx) => {
    for (const c of db) out[c.toLowerCase()] = tx[c].getAll().length;
  });
  if (wanted.includes('task')) out['task'] = ctx.svc.tasks.all().length;
  return out;
}
