// The XAPI records xenode serves: the host database's records (toolstack/db), as XAPI's clients
// see them. Nothing here is a second store: a VM is its record, written by the toolstack at
// every change of its domain (toolstack/vms.ts); what XAPI derives from the other side of a
// relation (VM.VBDs, SR.VDIs, host.resident_VMs) or from a state (allowed_operations) is
// computed here on each read. xenode's own fields (xenode_*) and users' password hashes are
// never served.
import { cpus } from 'node:os';
import type { Tx } from '../toolstack/db/hostdb.js';
import { NULL_REF, completeRecord, type ClassName, type Classes, type Ref, type VMRecord } from '../toolstack/db/records.js';
import type { XValue } from './types.js';

export type XRecord = Record<string, XValue>;
export type PowerState = VMRecord['power_state'];

/** The classes served from the host database, under XAPI's names. */
export const DB_CLASSES = [
  'pool', 'host', 'host_metrics', 'VM', 'VM_metrics', 'VM_guest_metrics', 'VBD', 'VDI', 'SR', 'PBD', 'VIF', 'network', 'PIF', 'console', 'message',
] as const satisfies readonly ClassName[];
export type DbClass = (typeof DB_CLASSES)[number];
/** Tasks live in memory (tasks.ts), as XAPI's do. */
export type ServedClass = DbClass | 'task';
export const SERVED_CLASSES: readonly ServedClass[] = [...DB_CLASSES, 'task'];

export function isDbClass(c: string): c is DbClass {
  return (DB_CLASSES as readonly string[]).includes(c);
}

/** Fields of a stored record that are xenode's own. */
const HIDDEN = new Set(['xenode_transient', 'xenode_config', 'xenode_unplugged']);
/** Stored as ISO 8601 strings, served as XAPI's datetime. */
const DATE_FIELDS = new Set(['snapshot_time', 'start_time', 'last_updated', 'created', 'finished', 'timestamp', 'install_time']);

const OPS = ['allowed_operations', 'current_operations'];

/** What each class serves beyond its stored fields: derived from relations and states. */
const DERIVED: { readonly [C in ServedClass]: readonly string[] } = {
  pool: ['ha_enabled', ...OPS, 'tags', 'gui_config', 'restrictions', 'cpu_info'],
  host: ['API_version_vendor', 'cpu_info', 'memory_overhead', 'resident_VMs', 'PIFs', 'PBDs', ...OPS, 'tags', 'capabilities', 'edition',
    'license_params', 'sched_policy'],
  host_metrics: [],
  VM: ['affinity', 'memory_target', ...OPS, 'blocked_operations', 'tags', 'VBDs', 'VIFs', 'consoles', 'snapshots'],
  VM_metrics: [],
  VM_guest_metrics: [],
  VBD: [...OPS],
  VDI: ['VBDs', ...OPS, 'tags', 'snapshots'],
  SR: ['VDIs', 'PBDs', ...OPS, 'tags'],
  PBD: [],
  VIF: [...OPS],
  network: ['VIFs', 'PIFs', ...OPS, 'tags'],
  PIF: [],
  console: [],
  message: [],
  task: [],
};

/** The fields served of a task (tasks.ts builds them). */
const TASK_FIELDS = ['uuid', 'name_label', 'name_description', ...OPS, 'created', 'finished', 'status', 'resident_on', 'progress', 'type',
  'result', 'error_info', 'other_config', 'subtask_of', 'subtasks', 'backtrace'];

/** Every field served of a class, in XAPI's names (docs/XENAPI.md lists them). */
export function servedFields(cls: ServedClass): string[] {
  if (cls === 'task') return TASK_FIELDS;
  const stored = Object.keys(completeRecord(cls, {})).filter((k) => !HIDDEN.has(k));
  return [...stored, ...DERIVED[cls].filter((k) => !stored.includes(k))];
}

const FIELD_CACHE = new Map<ServedClass, ReadonlySet<string>>();

export function isServedField(cls: ServedClass, field: string): boolean {
  let s = FIELD_CACHE.get(cls);
  if (!s) FIELD_CACHE.set(cls, (s = new Set(servedFields(cls))));
  return s.has(field);
}

/** What a VM in a power state may do (XAPI's allowed_operations); a halted VM with a domain (shut down, kept) may only be destroyed. */
export function vmAllowed(r: VMRecord): string[] {
  if (r.is_control_domain) return [];
  // A snapshot may be reverted to, cloned, copied and destroyed, nothing else (xapi_vm_lifecycle's check_snapshot).
  if (r.is_a_snapshot) return r.power_state === 'Halted' && r.domid < 0 ? ['revert', 'clone', 'copy', 'destroy'] : [];
  switch (r.power_state) {
    case 'Running': return ['clean_shutdown', 'hard_shutdown', 'clean_reboot', 'hard_reboot', 'pause', 'suspend', 'pool_migrate', 'migrate_send', 'snapshot'];
    case 'Paused': return ['unpause', 'hard_shutdown', 'hard_reboot', 'snapshot'];
    case 'Suspended': return ['resume', 'resume_on', 'hard_shutdown', 'snapshot'];
    case 'Halted': return r.domid >= 0 ? ['hard_shutdown'] : r.xenode_transient ? [] : ['start', 'start_on', 'destroy', 'snapshot', 'clone', 'copy'];
    default: return [];
  }
}

const DEFAULT_RECORDS = new Map<DbClass, object>();

/** A class's defaults: a record written before a field was added serves the field's default. */
function defaults(cls: DbClass): object {
  let d = DEFAULT_RECORDS.get(cls);
  if (!d) DEFAULT_RECORDS.set(cls, (d = completeRecord(cls, {})));
  return d;
}

/** What a VBD or VIF of a running VM may do (XAPI's vbd_operations and vif_operations: destroy is not one). */
function deviceAllowed(cls: 'VBD' | 'VIF', vm: VMRecord, attached: boolean): string[] {
  if (vm.is_control_domain || vm.power_state !== 'Running') return [];
  if (!attached) return ['plug'];
  return cls === 'VBD' ? ['unplug', 'unplug_force'] : ['unplug'];
}

/** A stored record as XAPI serves it: xenode's fields gone, times as datetimes. */
function base(cls: DbClass, rec: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries({ ...defaults(cls), ...rec })) {
    if (HIDDEN.has(k)) continue;
    out[k] = DATE_FIELDS.has(k) && typeof v === 'string' ? new Date(v) : v;
  }
  return out;
}

/** A record of a database class with its derived fields; `tx` reads the relations. */
export function serveRecord<C extends DbClass>(tx: Tx, cls: C, ref: Ref<C>, rec: Classes[C]): XRecord {
  const out = base(cls, rec);
  const ops = { allowed_operations: [], current_operations: {} };
  switch (cls) {
    case 'VM': {
      const r = rec as VMRecord;
      Object.assign(out, {
        affinity: NULL_REF, memory_target: r.memory_dynamic_min, allowed_operations: vmAllowed(r), current_operations: {}, blocked_operations: {},
        tags: [], VBDs: tx.VBD.where('VM', ref), VIFs: tx.VIF.where('VM', ref), consoles: tx.console.where('VM', ref), snapshots: tx.VM.where('snapshot_of', ref),
      });
      break;
    }
    case 'host': {
      const cpu = cpus();
      Object.assign(out, {
        API_version_vendor: 'xenode', cpu_info: { cpu_count: String(cpu.length), speed: String(cpu[0]?.speed ?? 0), modelname: cpu[0]?.model ?? '' },
        memory_overhead: 0, resident_VMs: tx.VM.where('resident_on', ref), PIFs: tx.PIF.where('host', ref), PBDs: tx.PBD.where('host', ref), ...ops,
        tags: [], capabilities: [], edition: 'xenode', license_params: {}, sched_policy: 'credit',
      });
      break;
    }
    case 'pool':
      Object.assign(out, { ha_enabled: false, ...ops, tags: [], gui_config: {}, restrictions: {}, cpu_info: {} });
      break;
    case 'VDI':
      Object.assign(out, { VBDs: tx.VBD.where('VDI', ref), ...ops, tags: [], snapshots: tx.VDI.where('snapshot_of', ref) });
      break;
    case 'SR':
      Object.assign(out, { VDIs: tx.VDI.where('SR', ref), PBDs: tx.PBD.where('SR', ref), ...ops, tags: [] });
      break;
    case 'network':
      Object.assign(out, { VIFs: tx.VIF.where('network', ref), PIFs: tx.PIF.where('network', ref), ...ops, tags: [] });
      break;
    case 'VBD':
    case 'VIF': {
      const dev = rec as Classes['VBD' | 'VIF'];
      const vm = tx.VM.find(dev.VM);
      Object.assign(out, { ...ops, allowed_operations: vm ? deviceAllowed(cls, vm, dev.currently_attached) : [] });
      break;
    }
    default:
      break;
  }
  return out as XRecord;
}

/** The pool's and the host's refs (the host database's, so they persist). */
export interface PoolIdentity {
  readonly poolRef: string;
  readonly hostRef: string;
  readonly hostUuid: string;
}

export function poolIdentity(tx: Tx): PoolIdentity {
  const [poolRef] = tx.pool.getAll();
  if (poolRef === undefined) return { poolRef: NULL_REF, hostRef: NULL_REF, hostUuid: '' };
  const hostRef = tx.pool.get(poolRef).master;
  return { poolRef, hostRef, hostUuid: tx.host.get(hostRef).uuid };
}
