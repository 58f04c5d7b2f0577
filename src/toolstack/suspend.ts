// XAPI's VM.suspend and VM.resume on xl's save and restore: the image goes into a VDI of the
// pool's suspend SR (the default SR unless pool.suspend_image_SR names one), as XAPI keeps it,
// and the VM record holds it (suspend_VDI) while it is Suspended. The VM record is the one that
// says so throughout: suspend_VDI is set before the save, so the domain's end leaves the VM
// Suspended (vms.ts), not halted, but the domain ends only once its image is synced and its VDI
// marked complete (type suspend): a host killed mid-save restarts with the VM Halted and the
// partial image gone. Resume boots the same VM from the image and the VDI goes. A suspended VM persists like a halted one, across host restarts; a transient VM
// (from an xl config) becomes persistent when it is suspended, or its image would be lost.
import { XenError } from '../errors.js';
import type { BuiltDomain } from './builder.js';
import type { DomainConfig } from './domconfig.js';
import { NULL_REF, type Ref, type VMRecord } from './db/records.js';
import type { Host } from './host.js';
import { imagePath, srPath } from '../storage/sr.js';
import { saveDomain } from '../migration/save.js';
import { restoreFile, type RestoreInfo } from '../migration/restore.js';
import type { SaveResult } from './contract.js';
import { taskControl } from './tasks.js';
import { vmConfig } from './vms.js';

const MiB = 2 ** 20;

/** The SR suspend images go to: the pool's suspend_image_SR, else the default SR. */
async function suspendSr(host: Host): Promise<Ref<'SR'>> {
  const named = await host.db.read((tx) => {
    const [pool] = tx.pool.getAll();
    const sr = pool === undefined ? NULL_REF : tx.pool.get(pool).suspend_image_SR;
    return sr !== NULL_REF && tx.SR.find(sr) ? sr : undefined;
  });
  return named ?? host.storage.defaultSr();
}

async function vmWithDomain(host: Host, vm: Ref<'VM'>): Promise<VMRecord> {
  const r = await host.db.read((tx) => tx.VM.get(vm));
  if (r.is_control_domain) throw new XenError('EPERM', 'the control domain cannot be suspended');
  if (r.power_state !== 'Running' || r.domid < 0) throw new XenError('EINVAL', `VM ${r.uuid} is ${r.power_state.toLowerCase()}, not running`);
  return r;
}

/** Suspend a running VM into a new suspend VDI; the VM is Suspended afterwards. */
export async function suspendVm(host: Host, vm: Ref<'VM'>): Promise<SaveResult & { vdi: string }> {
  const r = await vmWithDomain(host, vm);
  const sr = await suspendSr(host);
  const srUuid = await host.db.read((tx) => tx.SR.get(sr).uuid);
  // The image is at most the VM's memory and its records: the size a raw VDI declares.
  const vdi = await host.vdis.create({ sr: srUuid, name: `Suspend image of ${r.name_label}`.slice(0, 200), size: String(r.memory_static_max + 16 * MiB) });
  const path = await host.db.read((tx) => {
    const dir = srPath(tx, sr);
    if (dir === null) throw new XenError('EINVAL', `SR ${srUuid} is a RAM SR: a suspend image needs a file SR`);
    return imagePath(dir, tx.VDI.get(vdi.ref));
  }).catch(async (e: unknown) => {
    await host.vdis.destroy(vdi.record.uuid).catch(() => {});
    throw e;
  });
  await host.vms.suspending(vm, vdi.ref);
  const ctl = taskControl();
  ctl?.progress(1, 4);
  const undo = async () => {
    await host.vms.suspending(vm, NULL_REF).catch(() => {});
    await host.vdis.destroy(vdi.record.uuid).catch(() => {});
  };
  let saved: SaveResult;
  try {
    // A task cancelled (task.cancel of Async.VM.suspend) stops here, or once the image is written.
    ctl?.signal.throwIfAborted();
    // The domain is left paused, not destroyed: it goes only once the image is known complete.
    saved = await saveDomain(host, r.domid, path, { paused: true });
  } catch (e) {
    // The domain runs on (save resumes it), unless it was destroyed meanwhile: either way the
    // VM is not suspended, and the image goes.
    await undo();
    throw e;
  }
  if (ctl?.signal.aborted) {
    // Cancelled while the image was written: the guest, paused with its state captured, runs on.
    await host.unpause(r.domid).catch(() => {});
    await undo();
    ctl.signal.throwIfAborted();
  }
  // The image is on disk (saveDomain syncs it), then the VDI is marked complete (type suspend),
  // then the domain's end makes the VM Suspended: a host killed before the mark restarts with
  // the VM Halted (vms.ts rebuild), never Suspended on a partial image.
  await host.db.transaction((tx) => tx.VDI.update(vdi.ref, {
    type: 'suspend', virtual_size: Math.ceil(saved.bytes / 512) * 512, physical_utilisation: saved.bytes,
  }));
  await host.destroy(r.domid);
  return { ...saved, vdi: vdi.record.uuid };
}

/** The suspended VM's image: its VDI's record and path. */
async function suspendImage(host: Host, vm: Ref<'VM'>): Promise<{ r: VMRecord; vdiUuid: string; path: string }> {
  return host.db.read((tx) => {
    const r = tx.VM.get(vm);
    if (r.power_state !== 'Suspended') throw new XenError('EINVAL', `VM ${r.uuid} is ${r.power_state.toLowerCase()}, not suspended`);
    const vdi = tx.VDI.find(r.suspend_VDI);
    if (!vdi) throw new XenError('ENOENT', `VM ${r.uuid}'s suspend image (VDI ${r.suspend_VDI}) is gone`);
    const dir = srPath(tx, vdi.SR);
    if (dir === null) throw new XenError('EINVAL', `VM ${r.uuid}'s suspend image is in a RAM SR`);
    return { r, vdiUuid: vdi.uuid, path: imagePath(dir, vdi) };
  });
}

/**
 * What a VM resumes with: its record's configuration (kernel, disks' targets, everything the
 * host acts on), with the image's RAM size and only the devices the guest had at its save (the
 * others stay the VM's, unplugged). The image is in a VDI its owner could have written: a device
 * it names that the record has not is refused, never attached.
 */
function resumeConfig(record: DomainConfig, image: DomainConfig, vmUuid: string): DomainConfig {
  const pick = <T extends { readonly devid: number }>(what: string, mine: readonly T[], saved: readonly { readonly devid: number }[]): T[] => saved.map(({ devid }) => {
    const d = mine.find((x) => x.devid === devid);
    if (!d) throw new XenError('EINVAL', `VM ${vmUuid}'s suspend image names a ${what} (devid ${devid}) the VM does not have: it is not the image that VM was suspended into`);
    return d;
  });
  return { ...record, memory: image.memory, maxmem: image.maxmem, disks: pick('disk', record.disks, image.disks), vifs: pick('vif', record.vifs, image.vifs) };
}

/** Resume a suspended VM from its image (a new domain, the same VM); the suspend VDI goes. */
export async function resumeVm(host: Host, vm: Ref<'VM'>, opts: { paused?: boolean } = {}): Promise<BuiltDomain & RestoreInfo> {
  const { r, vdiUuid, path } = await suspendImage(host, vm);
  const record = vmConfig(r);
  if (!record) throw new XenError('EPERM', 'the control domain cannot be resumed');
  const ctl = taskControl();
  // A task cancelled (task.cancel of Async.VM.resume) stops before the domain is built: the VM stays Suspended.
  ctl?.signal.throwIfAborted();
  ctl?.progress(1, 4);
  const built = await restoreFile(host, path, { ...opts, vm, config: (image) => resumeConfig(record, image, r.uuid) });
  await host.vdis.destroy(vdiUuid).catch(() => {});
  return built;
}

/** A suspended VM halts without resuming: its image is discarded (XAPI's hard_shutdown of a suspended VM). */
export async function discardSuspend(host: Host, vm: Ref<'VM'>): Promise<void> {
  const { vdiUuid } = await suspendImage(host, vm);
  await host.vms.discardSuspend(vm);
  await host.vdis.destroy(vdiUuid).catch(() => {});
}
