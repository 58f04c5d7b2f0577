// The XenAPI calls served: one row per call, with its parameters (after the session), the
// least role that may make it, and whether it has an Async.* form. Every call that acts on a
// domain goes through the command layer's operations (Toolstack.call), the same handlers as the
// CLI's: `VM.clean_shutdown` is `xenode shutdown`, `VM.pause` is `xenode pause`.
import type { DomainInfo, HostEvent, Toolstack, XapiRole } from '../toolstack/contract.js';
import { handleInvalid, operationNotAllowed, toXapiError, vmBadPowerState, XapiError } from './errors.js';
import { classFilter, formatToken, parseToken, type EventLog, type XapiEvent } from './events.js';
import { FIELDS, powerState, type Model, type PowerState, type ServedClass, type XRecord } from './model.js';
import type { Session, SessionTable } from './sessions.js';
import type { TaskTable } from './tasks.js';
import type { XType, XValue } from './types.js';

/** What calls use of the service (service.ts). */
export interface CallHost {
  readonly ts: Toolstack;
  readonly model: Model;
  readonly sessions: SessionTable;
  readonly events: EventLog;
  readonly tasks: TaskTable;
  hostRecord(): Promise<XRecord>;
  untilDomain(domid: number, types: readonly HostEvent['type'][], timeoutMs: number, act: () => Promise<unknown>): Promise<void>;
}

export interface CallContext {
  readonly svc: CallHost;
  readonly session: Session;
}

export interface Call {
  readonly params: readonly { readonly name: string; readonly type: XType }[];
  readonly role: XapiRole;
  /** Served as Async.NAME too, returning a task. */
  readonly async?: boolean;
  run(ctx: CallContext, args: XValue[]): Promise<XValue | undefined> | XValue | undefined;
}

const VM = { ref: 'VM' } as const;
const p = (name: string, type: XType) => ({ name, type });

/** The VM behind a ref in one of `states`, or VM_BAD_POWER_STATE (XAPI names the first state expected). */
async function vmIn(ctx: CallContext, ref: string, states: readonly PowerState[]): Promise<DomainInfo> {
  const d = await ctx.svc.model.vmInfo(ref);
  if (d.domid === 0) throw operationNotAllowed('the control domain cannot be shut down, rebooted or paused through XenAPI');
  const power = powerState(d.state);
  if (!states.includes(power)) throw vmBadPowerState(ref, states[0]!.toLowerCase(), power.toLowerCase());
  return d;
}

/** A command layer operation on a VM's domain, its failures in XAPI's terms. */
async function onDomain<T>(ref: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw toXapiError(e, { cls: 'VM', ref });
  }
}

function vmPower(states: readonly PowerState[], act: (ctx: CallContext, d: DomainInfo, ref: string) => Promise<unknown>): Call {
  return {
    params: [p('vm', VM)], role: 'vm-operator', async: true,
    run: async (ctx, [ref]) => {
      const d = await vmIn(ctx, ref as string, states);
      await onDomain(ref as string, () => act(ctx, d, ref as string));
      return undefined;
    },
  };
}

async function vmRecords(ctx: CallContext): Promise<Map<string, XRecord>> {
  const { model } = ctx.svc;
  const out = new Map<string, XRecord>();
  for (const d of await model.vms()) out.set(model.vmRef(d), model.vmRecord(d));
  return out;
}

async function classRecords(ctx: CallContext, cls: ServedClass): Promise<Map<string, XRecord>> {
  const { svc } = ctx;
  switch (cls) {
    case 'VM':
      return vmRecords(ctx);
    case 'host':
      return new Map([[svc.model.hostRef, await svc.hostRecord()]]);
    case 'pool':
      return new Map([[svc.model.poolRef, svc.model.poolRecord()]]);
    case 'task':
      return new Map(svc.tasks.all().map((t) => [t.ref, svc.tasks.record(t)]));
  }
}

async function classRecord(ctx: CallContext, cls: ServedClass, ref: string): Promise<XRecord> {
  const { svc } = ctx;
  switch (cls) {
    case 'VM':
      return svc.model.vmRecord(await svc.model.vmInfo(ref));
    case 'host':
      if (ref !== svc.model.hostRef) throw handleInvalid('host', ref);
      return svc.hostRecord();
    case 'pool':
      if (ref !== svc.model.poolRef) throw handleInvalid('pool', ref);
      return svc.model.poolRecord();
    case 'task':
      return svc.tasks.record(svc.tasks.get(ref));
  }
}

const toObject = (m: Map<string, XRecord>): XValue => Object.fromEntries(m);

/** get_all, get_all_records, get_record, get_by_uuid, get_by_name_label and a getter per field. */
function readers(cls: ServedClass): Record<string, Call> {
  const ref = { ref: cls };
  const calls: Record<string, Call> = {
    [`${cls}.get_all`]: { params: [], role: 'read-only', run: async (ctx) => [...(await classRecords(ctx, cls)).keys()] },
    [`${cls}.get_all_records`]: { params: [], role: 'read-only', run: async (ctx) => toObject(await classRecords(ctx, cls)) },
    [`${cls}.get_record`]: { params: [p('self', ref)], role: 'read-only', run: (ctx, [r]) => classRecord(ctx, cls, r as string) },
    [`${cls}.get_by_uuid`]: {
      params: [p('uuid', 'string')], role: 'read-only',
      run: async (ctx, [uuid]) => {
        for (const [r, rec] of await classRecords(ctx, cls)) if (rec['uuid'] === uuid) return r;
        throw new XapiError('UUID_INVALID', [cls, uuid as string]);
      },
    },
  };
  if ((FIELDS[cls] as readonly string[]).includes('name_label')) {
    calls[`${cls}.get_by_name_label`] = {
      params: [p('label', 'string')], role: 'read-only',
      run: async (ctx, [label]) => [...(await classRecords(ctx, cls))].filter(([, rec]) => rec['name_label'] === label).map(([r]) => r),
    };
  }
  for (const field of FIELDS[cls]) {
    calls[`${cls}.get_${field}`] = { params: [p('self', ref)], role: 'read-only', run: async (ctx, [r]) => (await classRecord(ctx, cls, r as string))[field]! };
  }
  return calls;
}

/** How long a clean shutdown or reboot may take before VM_SHUTDOWN_TIMEOUT (XAPI waits 1200 s). */
export const CLEAN_SHUTDOWN_MS = 60_000;

export const CALLS: Readonly<Record<string, Call>> = {
  'session.logout': { params: [], role: 'read-only', run: (ctx) => void ctx.svc.sessions.revoke(ctx.session.ref) },
  'session.get_this_user': { params: [], role: 'read-only', run: (ctx) => ctx.session.user },
  'session.get_uuid': { params: [p('self', { ref: 'session' })], role: 'read-only', run: (ctx, [r]) => {
    if (r !== ctx.session.ref) throw handleInvalid('session', r as string);
    return ctx.session.uuid;
  } },
  ...readers('pool'),
  ...readers('host'),
  'host.get_servertime': { params: [p('host', { ref: 'host' })], role: 'read-only', run: (ctx, [r]) => {
    if (r !== ctx.svc.model.hostRef) throw handleInvalid('host', r as string);
    return new Date();
  } },
  'host.dmesg': { params: [p('host', { ref: 'host' })], role: 'pool-operator', run: async (ctx, [r]) => {
    if (r !== ctx.svc.model.hostRef) throw handleInvalid('host', r as string);
    const entries = await ctx.svc.ts.call('dmesg', {});
    return entries.map((e) => `${e.time} ${e.type === 'message' ? e.text : JSON.stringify(e)}`).join('\n');
  } },
  ...readers('VM'),
  'VM.clean_shutdown': vmPower(['Running'], (ctx, d) => ctx.svc.untilDomain(d.domid, ['shutdown', 'destroyed'], CLEAN_SHUTDOWN_MS,
    () => ctx.svc.ts.call('shutdown', { domain: d.domid }))),
  'VM.clean_reboot': vmPower(['Running'], (ctx, d) => ctx.svc.untilDomain(d.domid, ['restarted', 'shutdown', 'destroyed'], CLEAN_SHUTDOWN_MS,
    () => ctx.svc.ts.call('shutdown', { domain: d.domid, reboot: true }))),
  'VM.hard_shutdown': vmPower(['Running', 'Paused', 'Halted'], (ctx, d) => ctx.svc.ts.call('destroy', { domain: d.domid })),
  'VM.pause': vmPower(['Running'], (ctx, d) => ctx.svc.ts.call('pause', { domain: d.domid })),
  'VM.unpause': vmPower(['Paused'], (ctx, d) => ctx.svc.ts.call('unpause', { domain: d.domid })),
  ...readers('task'),
  'task.cancel': { params: [p('task', { ref: 'task' })], role: 'read-only', async: true, run: (ctx, [r]) => {
    const t = ownTask(ctx, r as string);
    throw operationNotAllowed(`task ${t.ref} (${t.name}) cannot be cancelled`);
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
      for (const cls of Object.keys(FIELDS) as ServedClass[]) {
        for (const [r, rec] of await classRecords(ctx, cls)) {
          const e = { id: last, class: cls.toLowerCase(), operation: 'add' as const, ref: r, snapshot: rec, timestamp: `${(Date.now() / 1000).toFixed(6)}` };
          if (matches(e)) list.push(e);
        }
      }
      return { events: list.map(eventValue), valid_ref_counts: await refCounts(ctx, wanted), token: formatToken(last) };
    }
    const since = parseToken(token as string);
    const got = await events.wait(since, matches, Math.max(0, (timeout as number) * 1000));
    return { events: got.events.map(eventValue), valid_ref_counts: await refCounts(ctx, wanted), token: formatToken(got.last) };
  } },
};

function servedClass(cls: string): ServedClass {
  const c = (Object.keys(FIELDS) as ServedClass[]).find((x) => x.toLowerCase() === cls.toLowerCase());
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
  const out: Record<string, number> = {};
  for (const cls of Object.keys(FIELDS) as ServedClass[]) {
    const lc = cls.toLowerCase();
    if (classes.includes('*') || classes.some((c) => c.toLowerCase() === lc)) out[lc] = cls === 'VM' ? (await ctx.svc.model.vms()).length : (await classRecords(ctx, cls)).size;
  }
  return out;
}
