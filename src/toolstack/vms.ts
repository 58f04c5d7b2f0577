// The host's VMs as records of the host database: the one place that says which VMs exist, what
// they boot with and what state they are in. The host writes a VM's record at every change of
// its domain (built, paused, unpaused, renamed, given or relieved of a device, shut down,
// destroyed), before it tells anyone of the change, so a reader of the database and a reader of
// `xenode list` see the same thing. The host's own per-domain state (host.ts) is a cache of the
// configuration stored here, written through by these calls.
//
// A VM's record carries its domain configuration (xenode_config); XAPI's fields (name_label,
// memory_*, actions_after_*, PV_*) are derived from it on every write, and its VBD, VIF and
// console records from its disks, vifs and domain, so none of them can disagree with it.
import { randomUUID } from 'node:crypto';
import { XenError } from '../errors.js';
import type { HostDb, Tx } from './db/hostdb.js';
import {
  NULL_REF, isRef, isUuid, type Classes, type OnCrashBehaviour, type OnNormalExit, type PowerState, type Ref, type VMRecord,
} from './db/records.js';
import type { VmInfo } from './contract.js';
import { VDI_TARGET_PREFIX } from './devices.js';
import type { DiskSpec } from './diskspec.js';
import type { DomainConfig, DomainVif, ShutdownAction } from './domconfig.js';
import { settleVifMacs } from './vifs.js';

const MiB = 2 ** 20;

/** The bridge a vif without bridge= joins (xl's default). */
export const DEFAULT_BRIDGE = 'xenbr0';

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

const NONE_UNPLUGGED: Unplugged = { disks: [], vifs: [] };

export function unpluggedOf(r: VMRecord): Unplugged {
  return (r.xenode_unplugged as Unplugged | null | undefined) ?? NONE_UNPLUGGED;
}

/** The unplugged devices that the configuration does not have: one it has is plugged (an unplug under way, or a plug done). */
function notIn(u: Unplugged, c: DomainConfig): Unplugged {
  return { disks: u.disks.filter((d) => !c.disks.some((x) => x.devid === d.devid)), vifs: u.vifs.filter((v) => !c.vifs.some((x) => x.devid === v.devid)) };
}

/** The configuration stored in a VM's record (null for dom0's). */
export function vmConfig(r: VMRecord): DomainConfig | null {
  return (r.xenode_config as DomainConfig | null) ?? null;
}

function normalExit(a: ShutdownAction): OnNormalExit {
  return a === 'restart' || a === 'rename-restart' || a === 'coredump-restart' || a === 'soft-reset' ? 'restart' : 'destroy';
}

function crashAction(a: ShutdownAction): OnCrashBehaviour {
  switch (a) {
    case 'coredump-destroy': return 'coredump_and_destroy';
    case 'coredump-restart': return 'coredump_and_restart';
    case 'rename-restart': return 'rename_restart';
    case 'soft-reset': return 'restart';
    default: return a;
  }
}

/** XAPI's fields of a VM, from the configuration it boots with. */
export function configFields(c: DomainConfig): Partial<VMRecord> {
  return {
    name_label: c.name,
    memory_static_max: c.maxmem * MiB, memory_dynamic_max: c.maxmem * MiB, memory_dynamic_min: c.memory * MiB, memory_static_min: c.memory * MiB,
    VCPUs_max: c.vcpus, VCPUs_at_startup: c.vcpus,
    actions_after_shutdown: normalExit(c.onPoweroff), actions_after_reboot: normalExit(c.onReboot), actions_after_crash: crashAction(c.onCrash),
    PV_kernel: c.kernel, PV_args: c.cmdline ?? '',
    xenode_config: c,
  };
}

/** Write `fields` only where they change something: an unchanged record makes no event. */
function change<C extends 'VM' | 'VBD' | 'VIF' | 'console' | 'VM_metrics'>(tx: Tx, cls: C, ref: Ref<C>, fields: Partial<Classes[C]>): void {
  const old = tx[cls].get(ref) as unknown as Record<string, unknown>;
  const differs = Object.entries(fields).some(([k, v]) => JSON.stringify(old[k]) !== JSON.stringify(v));
  if (differs) (tx[cls] as unknown as { update(r: string, f: object): void }).update(ref, fields);
}

/** The network record of a bridge, made the first time a vif names it. */
export function networkOf(tx: Tx, bridge: string): Ref<'network'> {
  const [ref] = tx.network.where('bridge', bridge);
  return ref ?? tx.network.create({ name_label: bridge, name_description: `dom0's bridge ${bridge}`, bridge });
}

/**
 * A VM's VBD, VIF and console records, made to match its configuration: one VBD per disk (by
 * devid), one VIF per vif (by devid), a console while it has a domain.
 */
function syncDevices(tx: Tx, vm: Ref<'VM'>, c: DomainConfig, attached: boolean, unplugged: Unplugged = NONE_UNPLUGGED): void {
  const vbds = new Map(tx.VBD.where('VM', vm).map((r) => [tx.VBD.get(r).device, r]));
  const u = notIn(unplugged, c);
  const disks = [...c.disks.map((d) => ({ d, plugged: attached })), ...u.disks.map((d) => ({ d, plugged: false }))];
  // A disk whose vdev changed (VBD.set_userdevice) keeps its VBD: the record of its VDI no disk has now.
  const vdevs = new Set(disks.map(({ d }) => d.vdev));
  const moved = (vdi: Ref<'VDI'>) => (vdi === NULL_REF ? undefined
    : [...vbds.values()].find((r) => !vdevs.has(tx.VBD.get(r).device) && tx.VBD.get(r).VDI === vdi));
  disks.forEach(({ d, plugged }, i) => {
    const base = {
      VM: vm, VDI: vdiOf(tx, d.target), device: d.vdev, userdevice: userdevice(d.vdev, d.devid), bootable: i === 0, mode: d.access === 'ro' ? 'RO' as const : 'RW' as const,
      type: d.cdrom ? 'CD' as const : 'Disk' as const, empty: d.target === undefined, currently_attached: plugged,
    };
    const ref = vbds.get(d.vdev) ?? moved(base.VDI);
    // Keys set from outside (VBD.add_to_other_config) stay; target and format are the disk spec's.
    const other = { ...(ref ? tx.VBD.get(ref).other_config : {}), target: d.target ?? '', format: d.format };
    const fields = { ...base, other_config: other };
    vbds.delete(ref ? tx.VBD.get(ref).device : d.vdev);
    if (ref) change(tx, 'VBD', ref, fields);
    else tx.VBD.create(fields);
  });
  for (const ref of vbds.values()) tx.VBD.destroy(ref);
  const vifs = new Map(tx.VIF.where('VM', vm).map((r) => [tx.VIF.get(r).device, r]));
  for (const { v, plugged } of [...c.vifs.map((v) => ({ v, plugged: attached })), ...u.vifs.map((v) => ({ v, plugged: false }))]) {
    const fields = {
      VM: vm, device: String(v.devid), network: networkOf(tx, v.bridge ?? DEFAULT_BRIDGE), MAC: v.mac ?? '', MTU: v.mtu ?? 1500,
      locking_mode: v.lockingMode ?? 'network_default' as const,
      ipv4_allowed: v.ipv4Allowed?.split(' ').filter(Boolean) ?? [], ipv6_allowed: v.ipv6Allowed?.split(' ').filter(Boolean) ?? [],
      currently_attached: plugged, MAC_autogenerated: false,
    };
    const ref = vifs.get(String(v.devid));
    vifs.delete(String(v.devid));
    if (ref) change(tx, 'VIF', ref, fields);
    else tx.VIF.create(fields);
  }
  for (const ref of vifs.values()) tx.VIF.destroy(ref);
  const consoles = tx.console.where('VM', vm);
  if (attached && consoles.length === 0) tx.console.create({ VM: vm, protocol: 'vt100', location: `xenode console ${tx.VM.get(vm).uuid}` });
  if (!attached) for (const ref of consoles) tx.console.destroy(ref);
}

/** XAPI's userdevice: the disk's position (xvda 0, xvdb 1, ...), or its devid for a vdev without a letter. */
export function userdevice(vdev: string, devid: number): string {
  const m = /^(?:xvd|hd|sd)([a-z]+)$/.exec(vdev);
  if (!m) return String(devid);
  return String([...m[1]!].reduce((n, ch) => n * 26 + (ch.charCodeAt(0) - 96), 0) - 1);
}

/** The vdev of a userdevice: 0 xvda, 1 xvdb, ... */
export function vdevOf(userdevice: number): string {
  let s = '';
  for (let n = userdevice + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(97 + ((n - 1) % 26)) + s;
  return `xvd${s}`;
}

/** The VDI a disk's `vdi:NAME-OR-UUID` target names; NULL_REF for a file or one that is gone. */
function vdiOf(tx: Tx, target: string | undefined): Ref<'VDI'> {
  if (!target?.startsWith(VDI_TARGET_PREFIX)) return NULL_REF;
  const name = target.slice(VDI_TARGET_PREFIX.length);
  const refs = isUuid(name) ? tx.VDI.where('uuid', name) : tx.VDI.getByNameLabel(name);
  return refs.length === 1 ? refs[0]! : NULL_REF;
}

/** A VM record and everything that hangs off it. */
function destroyVm(tx: Tx, vm: Ref<'VM'>): void {
  const r = tx.VM.get(vm);
  for (const ref of tx.VBD.where('VM', vm)) tx.VBD.destroy(ref);
  for (const ref of tx.VIF.where('VM', vm)) tx.VIF.destroy(ref);
  for (const ref of tx.console.where('VM', vm)) tx.console.destroy(ref);
  if (r.metrics !== NULL_REF && tx.VM_metrics.find(r.metrics)) tx.VM_metrics.destroy(r.metrics);
  tx.VM.destroy(vm);
}

/** A VM that is suspended, or being suspended (its domain's end leaves it Suspended). */
function hasSuspendImage(r: VMRecord): boolean {
  return (r.suspend_VDI ?? NULL_REF) !== NULL_REF;
}

/** A VM's record as vm-list shows it. */
export function vmInfo(r: VMRecord): VmInfo {
  return {
    uuid: r.uuid, name: r.name_label, description: r.name_description, powerState: r.power_state, domid: r.domid, transient: r.xenode_transient, isSnapshot: r.is_a_snapshot,
    memoryMiB: r.memory_dynamic_min / MiB, maxmemMiB: r.memory_static_max / MiB, vcpus: r.VCPUs_max, otherConfig: r.other_config,
  };
}

/** A VM by ref, uuid or name label (which must then be unique). */
export function findVm(tx: Tx, name: string): Ref<'VM'> {
  if (isRef(name)) {
    tx.VM.get(name);
    return name;
  }
  if (isUuid(name.toLowerCase())) {
    const ref = tx.VM.where('uuid', name.toLowerCase())[0];
    if (ref !== undefined) return ref;
  }
  const refs = tx.VM.getByNameLabel(name);
  if (refs.length === 1) return refs[0]!;
  if (refs.length > 1) throw new XenError('EINVAL', `${refs.length} VMs are named '${name}': name one by its uuid`);
  throw new XenError('ESRCH', `no VM '${name}': \`xenode vm-list\` shows the VMs`);
}

/**
 * What the host rebuilds at its start (rebuild: transient VMs go, the others are halted) needs
 * no disk flush when it changes: a transient VM's record, a domain's power state and domid.
 * Booting and stopping domains then costs no fsync (issue 17: 1,000 guests, flat).
 */
const REBUILT = { durable: false } as const;

/** The VM table as the host writes it. */
export class VmTable {
  constructor(readonly db: HostDb, readonly host: Ref<'host'>) {}

  /**
   * At host start, from what the database says: no domain outlives its host process, so
   * transient VMs (left by a host that was killed) go, persistent ones are halted, and dom0 is
   * the control domain, running. Returns the VDIs of suspend images a killed host left partial.
   */
  rebuild(dom0: VmDomain & { readonly name: string }): Promise<{ readonly partialImages: string[] }> {
    return this.db.transaction((tx) => {
      const partialImages: string[] = [];
      for (const [ref, r] of tx.VM.getAllRecords()) {
        if (r.is_control_domain) continue;
        // A save the host did not live to finish: its image is partial (suspend.ts marks a
        // complete one type suspend), so the VM is halted, and the caller removes the image.
        const image = hasSuspendImage(r) ? tx.VDI.find(r.suspend_VDI) : undefined;
        if (hasSuspendImage(r) && image?.type !== 'suspend') {
          if (image) partialImages.push(image.uuid);
          change(tx, 'VM', ref, { suspend_VDI: NULL_REF });
          this.#halt(tx, ref, tx.VM.get(ref));
        } else if (r.xenode_transient) destroyVm(tx, ref);
        else if ((r.power_state !== 'Halted' && r.power_state !== 'Suspended') || r.domid !== -1) this.#halt(tx, ref, r);
      }
      const fields = {
        name_label: dom0.name, name_description: 'The control domain', is_control_domain: true, power_state: 'Running' as const, domid: 0,
        resident_on: this.host, xenode_transient: false, xenode_config: null,
      };
      const [ref] = tx.VM.where('is_control_domain', 1);
      if (ref === undefined) {
        const metrics = tx.VM_metrics.create({ VCPUs_number: 1, start_time: new Date(dom0.createdAt).toISOString() });
        tx.VM.create({ ...fields, uuid: dom0.uuid, metrics });
      } else {
        change(tx, 'VM', ref, fields);
      }
      return { partialImages };
    });
  }

  /** dom0's VM: its uuid is the one the database keeps, so it stays across restarts. */
  dom0Uuid(): Promise<string | undefined> {
    return this.db.read((tx) => {
      const [ref] = tx.VM.where('is_control_domain', 1);
      return ref === undefined ? undefined : tx.VM.get(ref).uuid;
    });
  }

  /** A domain was built from `config`: the persistent VM `vm` now runs, or a new transient VM does. */
  started(vm: Ref<'VM'> | undefined, d: VmDomain, config: DomainConfig, paused: boolean, opts: { resume?: boolean } = {}): Promise<Ref<'VM'>> {
    const now = new Date(d.createdAt).toISOString();
    return this.db.transaction((tx) => {
      const fields = {
        ...configFields(config), power_state: (paused ? 'Paused' : 'Running') as PowerState, domid: d.domid, resident_on: this.host, xenode_unplugged: null, suspend_VDI: NULL_REF,
      };
      let ref = vm;
      let unplugged: Unplugged | null = null;
      if (ref === undefined) {
        const metrics = tx.VM_metrics.create({ memory_actual: config.memory * MiB, VCPUs_number: config.vcpus, start_time: now, last_updated: now });
        ref = tx.VM.create({ ...fields, uuid: d.uuid, metrics, xenode_transient: true });
      } else {
        const r = tx.VM.get(ref);
        // A suspended VM boots from its image only (resume).
        if (r.power_state !== 'Halted' && !(r.power_state === 'Suspended' && opts.resume)) {
          throw new XenError('EBUSY', `VM ${r.uuid} is ${r.power_state.toLowerCase()}, not halted`);
        }
        // Devices the VM has that this domain was not built with (a reboot builds from the domain's
        // configuration, which an unplug left out) stay the VM's, unplugged.
        const prev = vmConfig(r);
        const u = notIn(prev ? { disks: prev.disks, vifs: prev.vifs } : NONE_UNPLUGGED, config);
        unplugged = u.disks.length || u.vifs.length ? u : null;
        change(tx, 'VM', ref, { ...fields, xenode_unplugged: unplugged });
        if (r.metrics !== NULL_REF && tx.VM_metrics.find(r.metrics)) {
          change(tx, 'VM_metrics', r.metrics, { memory_actual: config.memory * MiB, VCPUs_number: config.vcpus, start_time: now, last_updated: now });
        }
      }
      syncDevices(tx, ref, config, true, unplugged ?? NONE_UNPLUGGED);
      return ref;
    }, vm === undefined ? REBUILT : {});
  }

  power(vm: Ref<'VM'>, power_state: PowerState): Promise<void> {
    return this.db.transaction((tx) => change(tx, 'VM', vm, { power_state }), REBUILT);
  }

  /** The configuration changed (a rename, a device hot-plugged or unplugged). */
  configured(vm: Ref<'VM'>, config: DomainConfig): Promise<void> {
    return this.db.transaction((tx) => {
      const r = tx.VM.get(vm);
      change(tx, 'VM', vm, configFields(config));
      syncDevices(tx, vm, config, r.domid >= 0, unpluggedOf(r));
    });
  }

  /**
   * A running VM's devices that are its records' but not its domain's (VBD/VIF.create while it
   * runs, VBD/VIF.unplug): `edit` changes the list. A device of the configuration is plugged
   * even if listed: an unplug lists it before its detach, a plug removes it after its attach.
   */
  setUnplugged(vm: Ref<'VM'>, edit: (u: Unplugged) => Unplugged): Promise<VMRecord> {
    return this.db.transaction((tx) => {
      const r = tx.VM.get(vm);
      const c = vmConfig(r);
      if (!c) throw new XenError('EPERM', 'the control domain has no devices to change');
      if (r.domid < 0) throw new XenError('EINVAL', `VM ${r.uuid} is halted: its devices change with vm-device`);
      const unplugged = edit(unpluggedOf(r));
      change(tx, 'VM', vm, { xenode_unplugged: unplugged.disks.length || unplugged.vifs.length ? unplugged : null });
      syncDevices(tx, vm, c, true, unplugged);
      return tx.VM.get(vm);
    });
  }

  /**
   * Its domain is gone: a transient VM goes with it, a persistent one (or one about to restart)
   * is halted, one with a suspend image is Suspended.
   */
  stopped(vm: Ref<'VM'>, keep: boolean): Promise<void> {
    return this.db.transaction((tx) => {
      const r = tx.VM.find(vm);
      if (!r) return;
      if (r.xenode_transient && !keep && !hasSuspendImage(r)) destroyVm(tx, vm);
      else this.#halt(tx, vm, r);
    }, REBUILT);
  }

  /**
   * A running VM is about to be saved into `vdi` (VM.suspend): when its domain goes, it is
   * Suspended, and it persists (a transient one too: its image must not be lost). NULL_REF: the
   * save failed and the domain runs on.
   */
  suspending(vm: Ref<'VM'>, vdi: Ref<'VDI'>): Promise<void> {
    return this.db.transaction((tx) => {
      const r = tx.VM.get(vm);
      if (vdi !== NULL_REF && (r.domid < 0 || r.power_state !== 'Running')) throw new XenError('EINVAL', `VM ${r.uuid} is ${r.power_state.toLowerCase()}, not running`);
      change(tx, 'VM', vm, { suspend_VDI: vdi, ...(vdi !== NULL_REF && { xenode_transient: false }) });
    });
  }

  /** A transient VM becomes persistent: it stays when its domain goes (VM.revert halts it and keeps it). */
  persist(vm: Ref<'VM'>): Promise<void> {
    return this.db.transaction((tx) => change(tx, 'VM', vm, { xenode_transient: false }));
  }

  /** A suspended VM's image is discarded: it is Halted. */
  discardSuspend(vm: Ref<'VM'>): Promise<void> {
    return this.db.transaction((tx) => {
      const r = tx.VM.get(vm);
      if (r.power_state !== 'Suspended') throw new XenError('EINVAL', `VM ${r.uuid} is ${r.power_state.toLowerCase()}, not suspended`);
      change(tx, 'VM', vm, { suspend_VDI: NULL_REF, power_state: 'Halted' });
    });
  }

  /** A persistent, halted VM that boots with `config` (vm-import, VM.create); its config gets the VM's uuid. */
  create(config: DomainConfig, extra: Partial<VMRecord> = {}): Promise<{ ref: Ref<'VM'>; uuid: string }> {
    return this.db.transaction((tx) => {
      const uuid = config.uuid ?? randomUUID();
      if (tx.VM.where('uuid', uuid).length) throw new XenError('EEXIST', `a VM with uuid ${uuid} exists already`);
      // A persistent VM keeps its MACs from boot to boot.
      const c = { ...config, uuid, vifs: settleVifMacs(config.vifs) };
      const metrics = tx.VM_metrics.create({ VCPUs_number: c.vcpus });
      const ref = tx.VM.create({ ...extra, ...configFields(c), uuid, metrics, xenode_transient: false });
      syncDevices(tx, ref, c, false);
      return { ref, uuid };
    });
  }

  /** A halted persistent VM's record and devices go (XAPI's VM.destroy). */
  remove(vm: Ref<'VM'>): Promise<void> {
    return this.db.transaction((tx) => {
      const r = tx.VM.get(vm);
      if (r.is_control_domain) throw new XenError('EPERM', 'the control domain cannot be destroyed');
      if (r.power_state !== 'Halted' || r.domid !== -1) throw new XenError('EBUSY', `VM ${r.uuid} is ${r.power_state.toLowerCase()}: shut it down first`);
      destroyVm(tx, vm);
    });
  }

  /** A halted VM's configuration, changed by `edit` (its uuid stays). */
  reconfigure(vm: Ref<'VM'>, edit: (c: DomainConfig) => DomainConfig, extra: Partial<VMRecord> = {}): Promise<VMRecord> {
    return this.db.transaction((tx) => {
      const r = tx.VM.get(vm);
      const c = vmConfig(r);
      if (!c) throw new XenError('EPERM', 'the control domain has no configuration to change');
      if (r.domid !== -1) throw new XenError('EBUSY', `VM ${r.uuid} is ${r.power_state.toLowerCase()}: this can only change while it is halted`);
      const edited = edit(c);
      const next = { ...edited, uuid: r.uuid, vifs: settleVifMacs(edited.vifs) };
      change(tx, 'VM', vm, { ...extra, ...configFields(next) });
      syncDevices(tx, vm, next, false);
      return tx.VM.get(vm);
    });
  }

  /** Fields that are the record's alone (not the configuration's): any time, running or not. */
  annotate(vm: Ref<'VM'>, fields: Pick<Partial<VMRecord>, 'name_description' | 'other_config'>): Promise<VMRecord> {
    return this.db.transaction((tx) => {
      change(tx, 'VM', vm, fields);
      return tx.VM.get(vm);
    });
  }

  /** No domain: its unplugged devices join the configuration it boots with (XAPI plugs every VBD and VIF at start). */
  #halt(tx: Tx, vm: Ref<'VM'>, r: VMRecord): void {
    const power_state = hasSuspendImage(r) ? 'Suspended' : 'Halted';
    const c = vmConfig(r);
    const u = c && notIn(unpluggedOf(r), c);
    const next = c && u && { ...c, disks: [...c.disks, ...u.disks], vifs: [...c.vifs, ...u.vifs] };
    change(tx, 'VM', vm, { power_state, domid: -1, resident_on: NULL_REF, xenode_unplugged: null, ...(next && configFields(next)) });
    if (next) syncDevices(tx, vm, next, false);
  }
}
