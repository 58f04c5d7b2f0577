// xe's vdi-param-set, sr-param-set, network-param-set, host-param-set and pool-param-set (the
// command layer's recordSet, and XenAPI's set_name_label, set_name_description,
// add_to_other_config and remove_from_other_config of those classes): a record's name, description and other_config.
// A VBD's and a VIF's other_config likewise (vbd-param-set, vif-param-set): the record's alone,
// kept as its VM's configuration changes (a VBD's target and format keys are the disk spec's).
// Names follow their class's rules (a VDI's or SR's is one a disk target or the CLI can name
// again; SR names are unique); other_config keys starting `xenode-` are xenode's own (which
// images it made, which SR is the default) and are not changed from outside.
import { XenError } from '../errors.js';
import { checkName } from '../storage/sr.js';
import { findVdi } from '../storage/vdi.js';
import type { Args } from './contract.js';
import type { Tx } from './db/hostdb.js';
import { isUuid, type Ref } from './db/records.js';
import { findVm } from './vms.js';

export type ParamClass = Args<'recordSet'>['cls'];

const OWN_KEY = /^xenode-/;
/** A VBD's other_config keys that its disk spec writes (vms.ts syncDevices). */
const VBD_DERIVED: readonly string[] = ['target', 'format'];
const MAX_TEXT = 1024;

/** A record of `cls` by uuid or name (the pool, and the host when none is named: the one there is). */
function find(tx: Tx, cls: ParamClass, id: string): Ref {
  if (cls === 'VDI') return findVdi(tx, id);
  // A VBD or VIF has no name: its uuid, or VM/DEVICE (a VBD's vdev or userdevice, a VIF's devid or MAC).
  if (cls === 'VBD' || cls === 'VIF') {
    if (isUuid(id.toLowerCase())) return tx[cls].getByUuid(id.toLowerCase());
    const slash = id.lastIndexOf('/');
    if (slash <= 0) throw new XenError('EINVAL', `a ${cls} is named by its uuid or VM/DEVICE, not '${id.slice(0, 80)}'`);
    const dev = id.slice(slash + 1).toLowerCase();
    const vm = findVm(tx, id.slice(0, slash));
    const ref = cls === 'VBD'
      ? tx.VBD.where('VM', vm).find((b) => tx.VBD.get(b).device === dev || tx.VBD.get(b).userdevice === dev)
      : tx.VIF.where('VM', vm).find((v) => tx.VIF.get(v).device === dev || tx.VIF.get(v).MAC.toLowerCase() === dev);
    if (ref === undefined) throw new XenError('ENOENT', `the VM has no ${cls} ${dev.slice(0, 40)}`);
    return ref;
  }
  if (cls === 'pool' || (cls === 'host' && id === '')) {
    const [one] = tx[cls].getAll();
    if (one === undefined) throw new XenError('ENOENT', `this host has no ${cls} record yet`);
    return one;
  }
  if (isUuid(id.toLowerCase())) return tx[cls].getByUuid(id.toLowerCase());
  const refs = tx[cls].getByNameLabel(id);
  if (refs.length !== 1) throw new XenError(refs.length ? 'EINVAL' : 'ENOENT', `${refs.length} ${cls} records are named '${id.slice(0, 80)}': name one by its uuid`);
  return refs[0]!;
}

function text(what: string, v: string): string {
  if (v.length > MAX_TEXT || /[\x00-\x08\x0b-\x1f\x7f]/.test(v)) throw new XenError('EINVAL', `${what} is longer than ${MAX_TEXT} characters or has a control character`);
  return v;
}

/**
 * A network's default_locking_mode (networkSet, inside a transaction): refused while a VIF on it
 * is plugged (XAPI's VIF_IN_USE), since plugged vifs keep the mode they were plugged with.
 */
export function setNetworkLocking(tx: Tx, a: Args<'networkSet'>): { uuid: string } {
  const ref = find(tx, 'network', a.network) as Ref<'network'>;
  const plugged = tx.VIF.where('network', ref).find((v) => tx.VIF.get(v).currently_attached);
  if (plugged !== undefined) throw new XenError('EBUSY', `VIF ${tx.VIF.get(plugged).uuid} on the network is plugged: unplug it first`);
  tx.network.update(ref, { default_locking_mode: a.defaultLockingMode });
  return { uuid: tx.network.get(ref).uuid };
}

/** Apply a recordSet (inside a transaction); the record's uuid. */
export function setParams(tx: Tx, a: Args<'recordSet'>): { uuid: string } {
  const { cls } = a;
  const ref = find(tx, cls, a.id);
  const table = tx[cls] as unknown as { get(r: Ref): { uuid: string; other_config: Record<string, string> }; update(r: Ref, f: object): void };
  const r = table.get(ref);
  const fields: Record<string, unknown> = {};
  if ((cls === 'VBD' || cls === 'VIF') && (a.name !== undefined || a.description !== undefined)) throw new XenError('EINVAL', `a ${cls} has no name or description`);
  if (a.name !== undefined) {
    if (cls === 'VDI' || cls === 'SR') checkName(cls, a.name);
    else if (a.name === '') throw new XenError('EINVAL', `a ${cls}'s name is not empty`);
    if (cls === 'SR' && tx.SR.getByNameLabel(a.name).some((x) => x !== ref)) throw new XenError('EEXIST', `an SR named '${a.name}' exists already`);
    fields['name_label'] = text('name', a.name);
  }
  if (a.description !== undefined) fields['name_description'] = text('description', a.description);
  if (a.otherConfigKey !== undefined) {
    if (OWN_KEY.test(a.otherConfigKey) || (cls === 'VBD' && VBD_DERIVED.includes(a.otherConfigKey))) throw new XenError('EPERM', `other_config key '${a.otherConfigKey}' is xenode's own`);
    const other = { ...r.other_config };
    if (a.otherConfigValue === undefined) delete other[a.otherConfigKey];
    else other[text('other_config key', a.otherConfigKey)] = text('other_config value', a.otherConfigValue);
    fields['other_config'] = other;
  }
  table.update(ref, fields);
  return { uuid: r.uuid };
}
