// The XAPI records xenode serves, derived from the command layer: one pool with one host, and
// one VM per domain (dom0 is the control domain). Nothing here is a second store of VMs: each
// call reads the domains through the same `list` and `info` operations the CLI uses; only the
// refs handed out are remembered (a VM's ref is stable for as long as its domain lives).
import { randomUUID } from 'node:crypto';
import type { DomainInfo, HostInfo, Toolstack } from '../toolstack/contract.js';
import { handleInvalid } from './errors.js';
import { NULL_REF } from './tasks.js';
import type { XValue } from './types.js';

export type PowerState = 'Running' | 'Paused' | 'Halted';
export type XRecord = Record<string, XValue>;

/** XAPI's power state of a domain: a domain that has shut down but is kept is Halted. */
export function powerState(state: string): PowerState {
  if (state[3] === 's' || state[5] === 'd') return 'Halted';
  return state[2] === 'p' ? 'Paused' : 'Running';
}

const ALLOWED: Record<PowerState, string[]> = {
  Running: ['clean_shutdown', 'hard_shutdown', 'clean_reboot', 'pause'],
  Paused: ['unpause', 'hard_shutdown'],
  Halted: ['hard_shutdown'],
};

/** The fields of each class served, in XAPI's names (docs/XENAPI.md lists them). */
export const FIELDS = {
  pool: ['uuid', 'name_label', 'name_description', 'master', 'default_SR', 'suspend_image_SR', 'crash_dump_SR', 'ha_enabled',
    'other_config', 'allowed_operations', 'current_operations', 'tags', 'gui_config', 'restrictions', 'cpu_info'],
  host: ['uuid', 'name_label', 'name_description', 'hostname', 'address', 'enabled', 'API_version_major', 'API_version_minor',
    'API_version_vendor', 'software_version', 'cpu_info', 'memory_overhead', 'resident_VMs', 'PIFs', 'PBDs', 'metrics',
    'allowed_operations', 'current_operations', 'other_config', 'tags', 'capabilities', 'edition', 'license_params', 'sched_policy'],
  VM: ['uuid', 'name_label', 'name_description', 'power_state', 'is_control_domain', 'is_a_template', 'is_a_snapshot', 'domid',
    'resident_on', 'affinity', 'memory_static_max', 'memory_dynamic_max', 'memory_dynamic_min', 'memory_static_min', 'memory_target',
    'VCPUs_max', 'VCPUs_at_startup', 'actions_after_shutdown', 'actions_after_reboot', 'actions_after_crash', 'PV_kernel', 'PV_args',
    'allowed_operations', 'current_operations', 'blocked_operations', 'other_config', 'tags', 'VBDs', 'VIFs', 'consoles',
    'user_version', 'metrics', 'guest_metrics', 'start_time'],
  task: ['uuid', 'name_label', 'name_description', 'allowed_operations', 'current_operations', 'created', 'finished', 'status',
    'resident_on', 'progress', 'type', 'result', 'error_info', 'other_config', 'subtask_of', 'subtasks', 'backtrace'],
} as const;

export type ServedClass = keyof typeof FIELDS;

interface VmHandle {
  readonly uuid: string;
  domid: number;
}

const ACTION: Record<string, string> = { destroy: 'destroy', restart: 'restart', preserve: 'preserve', 'rename-restart': 'rename_restart' };

/** The pool's and the host's refs and uuids: the host database's, so they persist. */
export interface PoolIdentity {
  readonly poolRef: string;
  readonly poolUuid: string;
  readonly hostRef: string;
  readonly hostUuid: string;
}

export class Model {
  readonly hostRef: string;
  readonly hostUuid: string;
  readonly poolRef: string;
  readonly poolUuid: string;
  readonly #vmByRef = new Map<string, VmHandle>();
  readonly #refByUuid = new Map<string, string>();

  /** Without an identity (a host with no database), new refs and uuids. */
  constructor(private readonly ts: Toolstack, identity?: PoolIdentity) {
    this.poolRef = identity?.poolRef ?? `OpaqueRef:${randomUUID()}`;
    this.poolUuid = identity?.poolUuid ?? randomUUID();
    this.hostRef = identity?.hostRef ?? `OpaqueRef:${randomUUID()}`;
    this.hostUuid = identity?.hostUuid ?? randomUUID();
  }

  /** The ref of a domain's VM, made the first time it is seen. */
  vmRef(d: { uuid: string; domid: number }): string {
    let ref = this.#refByUuid.get(d.uuid);
    if (!ref) {
      ref = `OpaqueRef:${randomUUID()}`;
      this.#refByUuid.set(d.uuid, ref);
      this.#vmByRef.set(ref, { uuid: d.uuid, domid: d.domid });
    }
    this.#vmByRef.get(ref)!.domid = d.domid;
    return ref;
  }

  /** A VM's ref is gone with its domain; returns the ref it had. */
  forgetDomain(domid: number): string | undefined {
    for (const [ref, h] of this.#vmByRef) {
      if (h.domid !== domid) continue;
      this.#vmByRef.delete(ref);
      this.#refByUuid.delete(h.uuid);
      return ref;
    }
    return undefined;
  }

  knownVm(uuid: string): boolean {
    return this.#refByUuid.has(uuid);
  }

  /** The domain behind a VM ref, as it is now; HANDLE_INVALID for a ref that is not a live VM's. */
  async vmInfo(ref: string): Promise<DomainInfo> {
    const h = this.#vmByRef.get(ref);
    if (!h) throw handleInvalid('VM', ref);
    const [d] = await this.ts.call('list', { domains: [h.domid], long: true }).catch(() => []);
    if (!d || d.uuid !== h.uuid) throw handleInvalid('VM', ref);
    return d;
  }

  async vms(): Promise<DomainInfo[]> {
    return this.ts.call('list', { long: true });
  }

  vmRecord(d: DomainInfo): XRecord {
    // Seen: it has a ref from now on.
    this.vmRef(d);
    const power = powerState(d.state);
    const dom0 = d.domid === 0;
    const bytes = d.memoryKiB * 1024;
    const max = d.maxmemKiB === null ? bytes : d.maxmemKiB * 1024;
    const cfg = d.config;
    return {
      uuid: d.uuid, name_label: d.name, name_description: dom0 ? 'The control domain' : '', power_state: power,
      is_control_domain: dom0, is_a_template: false, is_a_snapshot: false, domid: power === 'Halted' ? -1 : d.domid,
      resident_on: this.hostRef, affinity: NULL_REF,
      memory_static_max: max, memory_dynamic_max: max, memory_dynamic_min: bytes, memory_static_min: bytes, memory_target: bytes,
      VCPUs_max: d.vcpus, VCPUs_at_startup: d.vcpus,
      actions_after_shutdown: ACTION[cfg?.onPoweroff ?? 'destroy'] ?? 'destroy',
      actions_after_reboot: ACTION[cfg?.onReboot ?? 'restart'] ?? 'restart',
      actions_after_crash: ACTION[cfg?.onCrash ?? 'destroy'] ?? 'destroy',
      PV_kernel: cfg?.kernel ?? '', PV_args: cfg?.cmdline ?? '',
      allowed_operations: dom0 ? [] : ALLOWED[power], current_operations: {}, blocked_operations: {},
      other_config: {}, tags: [], VBDs: [], VIFs: [], consoles: [], user_version: 1, metrics: NULL_REF, guest_metrics: NULL_REF,
      start_time: new Date(d.startTime),
    };
  }

  hostRecord(info: HostInfo, vms: readonly DomainInfo[]): XRecord {
    return {
      uuid: this.hostUuid, name_label: info.host, name_description: 'xenode host', hostname: info.host, address: '127.0.0.1', enabled: true,
      API_version_major: 2, API_version_minor: 21, API_version_vendor: 'xenode',
      software_version: { product_brand: 'xenode', product_version: info.xenodeVersion, platform_name: 'xenode', xen: info.xenodeVersion, linux: info.release, node: info.nodeVersion },
      cpu_info: { cpu_count: String(info.nrCpus), speed: String(info.cpuMhz) },
      memory_overhead: 0, resident_VMs: vms.map((d) => this.vmRef(d)), PIFs: [], PBDs: [], metrics: NULL_REF,
      allowed_operations: [], current_operations: {}, other_config: {}, tags: [], capabilities: [], edition: 'xenode', license_params: {},
      sched_policy: 'credit',
    };
  }

  poolRecord(): XRecord {
    return {
      uuid: this.poolUuid, name_label: '', name_description: '', master: this.hostRef, default_SR: NULL_REF, suspend_image_SR: NULL_REF,
      crash_dump_SR: NULL_REF, ha_enabled: false, other_config: {}, allowed_operations: [], current_operations: {}, tags: [],
      gui_config: {}, restrictions: {}, cpu_info: {},
    };
  }
}
