// XAPI's VM.snapshot, VM.clone, VM.copy and VM.revert (xapi_vm_clone, xapi_vm_snapshot) on the
// storage layer's VDI operations, one implementation for the CLI (vm-snapshot, vm-clone,
// vm-copy, vm-revert) and XenAPI:
//   - snapshot: each writable VDI disk gets a read-only snapshot VDI (vdi-snapshot: O(1), live
//     under a running guest, crash-consistent per disk); the new VM record is a snapshot
//     (is_a_snapshot, snapshot_of, snapshot_time), halted, and keeps the vifs' MACs;
//   - clone: a halted VM's (or a snapshot's) writable disks become clones sharing their base
//     (vdi-clone, O(1)); the new VM is an ordinary halted VM with new MACs;
//   - copy: the same with full, flattened copies of the disks into an SR (vdi-copy), as a task
//     with progress;
//   - revert: the VM a snapshot was taken of is halted (its domain destroyed, or its suspend
//     image discarded), gets clones of the snapshot's disks and the snapshot's configuration
//     (its own uuid and name kept), and its disks that the snapshot had a snapshot of go.
// Read-only disks (CD-ROMs, shared images) and empty drives are shared, not copied; a writable
// disk that is a plain file, not a VDI, is refused (EOPNOTSUPP), as it cannot be snapshotted.
// New VDIs are named "<disk's name> (<new VM's name>)" and named in the new configuration by
// uuid, so that no configuration naming a VDI by its name becomes ambiguous. A failure part way
// destroys the VDIs it made.
import { XenError } from '../errors.js';
import { findVdi, type VdiView } from '../storage/vdi.js';
import { NULL_REF, type Ref, type VMRecord } from './db/records.js';
import { VDI_TARGET_PREFIX } from './devices.js';
import type { DiskSpec } from './diskspec.js';
import { domainNameProblem, type DomainConfig } from './domconfig.js';
import type { Host } from './host.js';
import { discardSuspend } from './suspend.js';
import { taskControl } from './tasks.js';
import { unpluggedOf, vmConfig } from './vms.js';

export type VmCopyMode = 'snapshot' | 'clone' | 'copy';

/** A VM's configuration, with a running VM's unplugged disks and vifs (XAPI snapshots every VBD). */
function wholeConfig(r: VMRecord): DomainConfig {
  const c = vmConfig(r);
  if (!c) throw new XenError('EPERM', 'the control domain has no disks to snapshot, clone or copy');
  const u = unpluggedOf(r);
  return { ...c, disks: [...c.disks, ...u.disks], vifs: [...c.vifs, ...u.vifs] };
}

/** A VDI disk that the operation makes a new VDI for (a writable one); its VDI's name or uuid. */
function vdiOfDisk(d: DiskSpec, mode: string): string | undefined {
  if (d.target === undefined || d.access === 'ro' || d.cdrom) return undefined;
  if (!d.target.startsWith(VDI_TARGET_PREFIX)) {
    throw new XenError('EOPNOTSUPP', `disk ${d.vdev} is the file ${d.target.slice(0, 120)}, not a VDI: ${mode} needs VDI disks (\`xenode vdi-import\` makes one)`);
  }
  return d.target.slice(VDI_TARGET_PREFIX.length);
}

/**
 * New VDIs for a configuration's writable disks, made by `make` (whose bytes of virtual size
 * `weigh` says, for progress); the disks with their new targets. On a failure the VDIs made so
 * far are destroyed.
 */
async function newDisks(host: Host, c: DomainConfig, mode: string, make: (vdi: string, progress: (done: number) => void) => Promise<VdiView>): Promise<{ disks: DiskSpec[]; made: string[] }> {
  const vdis = c.disks.map((d) => vdiOfDisk(d, mode));
  const sizes = await host.db.read((tx) => vdis.map((v) => (v === undefined ? 0 : tx.VDI.get(findVdi(tx, v)).virtual_size)));
  const total = sizes.reduce((a, b) => a + b, 0);
  const ctl = taskControl();
  const made: string[] = [];
  const disks: DiskSpec[] = [];
  let before = 0;
  try {
    for (const [i, d] of c.disks.entries()) {
      const vdi = vdis[i];
      if (vdi === undefined) {
        disks.push(d);
        continue;
      }
      ctl?.signal.throwIfAborted();
      const v = await make(vdi, (done) => ctl?.progress(before + done, total));
      made.push(v.record.uuid);
      before += sizes[i]!;
      ctl?.progress(before, total);
      disks.push({ ...d, target: `${VDI_TARGET_PREFIX}${v.record.uuid}` });
    }
    return { disks, made };
  } catch (e) {
    await destroyVdis(host, made);
    throw e;
  }
}

async function destroyVdis(host: Host, uuids: readonly string[]): Promise<void> {
  for (const uuid of uuids) await host.vdis.destroy(uuid).catch(() => {});
}

/** The name a new VDI gets: its source's, and the new VM's. */
async function vdiName(host: Host, vdi: string, vmName: string): Promise<string> {
  const label = await host.db.read((tx) => tx.VDI.get(findVdi(tx, vdi)).name_label);
  return `${label} (${vmName.replace(/,/g, ' ')})`.slice(0, 255);
}

/**
 * VM.snapshot, VM.clone or VM.copy of VM `vm`: a new VM named `name` (see the top of this file);
 * `sr` (copy only) is where the copies go, each disk's own SR when absent. Returns the new VM.
 */
export async function cloneVm(host: Host, vm: Ref<'VM'>, mode: VmCopyMode, opts: { name: string; sr?: string }): Promise<Ref<'VM'>> {
  const problem = domainNameProblem(opts.name);
  if (problem !== undefined) throw new XenError('EINVAL', `invalid VM name: ${problem}`);
  const r = await host.db.read((tx) => tx.VM.get(vm));
  const c = wholeConfig(r);
  if (mode === 'snapshot' && r.is_a_snapshot) throw new XenError('EPERM', `VM ${r.uuid} is a snapshot: a snapshot is not snapshotted again (clone it into a VM first)`);
  if (mode !== 'snapshot' && (r.power_state !== 'Halted' || r.domid >= 0)) {
    throw new XenError('EBUSY', `VM ${r.uuid} is ${r.power_state.toLowerCase()}: ${mode} needs a halted VM (vm-snapshot takes a running one)`);
  }
  const signal = taskControl()?.signal;
  const { disks, made } = await newDisks(host, c, mode, async (vdi, progress) => {
    const name = await vdiName(host, vdi, opts.name);
    if (mode === 'copy') return host.vdis.copy(vdi, { name, ...(opts.sr !== undefined && { sr: opts.sr }) }, { progress, ...(signal && { signal }) });
    return host.vdis.snapshot(vdi, { name, clone: mode === 'clone' });
  });
  // A snapshot keeps the MACs (a revert gives them back); a new VM gets its own.
  const vifs = mode === 'snapshot' ? c.vifs : c.vifs.map(({ mac: _, ...v }) => v);
  const { uuid: _, ...rest } = c;
  try {
    const { ref } = await host.vms.create({ ...rest, name: opts.name, disks, vifs }, {
      name_description: r.name_description, other_config: r.other_config,
      ...(mode === 'snapshot' && { is_a_snapshot: true, snapshot_of: vm, snapshot_time: new Date().toISOString() }),
    });
    return ref;
  } catch (e) {
    await destroyVdis(host, made);
    throw e;
  }
}

/**
 * VM.revert: the VM snapshot `snapshot` was taken of goes back to it (see the top of this
 * file). Returns the VM, halted.
 */
export async function revertVm(host: Host, snapshot: Ref<'VM'>): Promise<Ref<'VM'>> {
  const s = await host.db.read((tx) => tx.VM.get(snapshot));
  if (!s.is_a_snapshot) throw new XenError('EINVAL', `VM ${s.uuid} is not a snapshot: only a snapshot can be reverted to`);
  const vm = s.snapshot_of;
  const r = await host.db.read((tx) => (vm === NULL_REF ? undefined : tx.VM.find(vm)));
  if (!r) throw new XenError('ENOENT', `the VM snapshot ${s.uuid} was taken of is gone: \`xenode vm-clone\` makes a new VM of it`);
  const snapConfig = wholeConfig(s);
  // The VM stays across its domain's end (a transient one would go with it), then halts.
  if (r.xenode_transient) await host.vms.persist(vm);
  if (r.power_state === 'Suspended') await discardSuspend(host, vm);
  else if (r.domid >= 0) await host.destroy(r.domid);
  const { disks, made } = await newDisks(host, snapConfig, 'revert', async (vdi) => {
    // A clone of the snapshot's disk, named as the VM's disk it was taken of.
    const of = await host.db.read((tx) => {
      const v = tx.VDI.get(findVdi(tx, vdi));
      const orig = v.snapshot_of === NULL_REF ? undefined : tx.VDI.find(v.snapshot_of);
      return orig?.name_label ?? v.name_label;
    });
    return host.vdis.snapshot(vdi, { name: of, clone: true });
  });
  // The VM's disks the snapshot has a snapshot of are replaced by the clones: the VM's
  // configuration first, then the VDI snapshots of each move to its clone, then it goes.
  const replaced = await host.db.read((tx) => snapConfig.disks.flatMap((d, i) => {
    if (disks[i] === d) return [];
    const snapVdi = tx.VDI.get(findVdi(tx, d.target!.slice(VDI_TARGET_PREFIX.length)));
    const orig = snapVdi.snapshot_of === NULL_REF ? undefined : tx.VDI.find(snapVdi.snapshot_of);
    return orig ? [{ orig: snapVdi.snapshot_of, uuid: orig.uuid, clone: disks[i]!.target!.slice(VDI_TARGET_PREFIX.length) }] : [];
  }));
  await host.vms.reconfigure(vm, (c) => ({ ...snapConfig, uuid: r.uuid, name: c.name, disks }), {
    name_description: s.name_description, other_config: s.other_config,
  }).catch(async (e: unknown) => {
    await destroyVdis(host, made);
    throw e;
  });
  await host.db.transaction((tx) => {
    for (const { orig, clone } of replaced) {
      const ref = tx.VDI.getByUuid(clone);
      for (const snap of tx.VDI.where('snapshot_of', orig)) tx.VDI.update(snap, { snapshot_of: ref });
    }
  });
  const stillNamed = new Set(disks.map((d) => d.target?.slice(VDI_TARGET_PREFIX.length)));
  await destroyVdis(host, replaced.map((x) => x.uuid).filter((u) => !stillNamed.has(u)));
  return vm;
}
