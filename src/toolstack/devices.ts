// Virtual block devices of running domains, as libxl's device code handles them: attaching
// writes the backend and frontend xenstore nodes (with their permissions), links the two
// domains so the backend may map the frontend's grants, and waits for the backend's hotplug
// outcome; detaching asks the device to close through the xenbus state machine and removes the
// nodes. The backend runs in dom0 (its blkback service starts with the first disk) or in the
// driver domain named by the disk spec's backend=, whose kernel runs the same service
// (examples/driver-domain). The builder attaches config.disks; `xenode block-attach` calls
// attachDisk for hot-plug.
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { XenbusState } from '../abi/xenbus.js';
import { isValidDomid } from '../abi/xen.js';
import { emptyBlkbackStats, type BlkbackStats } from '../drivers/blk/back/queue.js';
import { BlkbackDaemon, HOTPLUG_ERROR, HOTPLUG_STATUS, type BlkbackDaemonOptions } from '../drivers/blk/back/devd.js';
import type { BlkBack } from '../drivers/blk/back/blkback.js';
import { eventChannels } from '../drivers/evtchn.js';
import { backendPath, frontendPath, readState } from '../drivers/xenbus.js';
import { XenError, isXenError } from '../errors.js';
import type { Hypervisor } from '../hypervisor/hypervisor.js';
import type { UpcallLoop } from '../hypervisor/upcall.js';
import type { XenstoreClient, XsPerm } from '../xenstore/client/client.js';
import { VDI_UUID_KEY, imageFormat } from '../storage/open.js';
import type { Vdis } from '../storage/vdi.js';
import type { DiskDevice } from './contract.js';
import { vdevToDevid, type DiskSpec } from './diskspec.js';
import { targetPath } from './images.js';
import { resolveStateDir } from './paths.js';

/** What the device code needs of a host: dom0's hypervisor, xenstore client and upcall loop. */
export interface DeviceHost {
  readonly hv: Hypervisor;
  readonly xs: XenstoreClient;
  readonly loop: UpcallLoop;
  readonly log?: (line: string) => void;
  /** Where relative disk targets live (default: <state dir>/images). */
  readonly imagesDir?: string;
  /** The host's VDIs, for targets `vdi:<name or uuid>`. */
  readonly vdis?: Vdis;
}

/** A disk target that names a VDI of the host database. */
export const VDI_TARGET_PREFIX = 'vdi:';

/** libxl's LIBXL_DESTROY_TIMEOUT and hotplug timeout. */
const DEVICE_TIMEOUT_MS = 10_000;

const dom0Services = new WeakMap<Hypervisor, Promise<BlkbackDaemon>>();

/** dom0's blkback service if it was started (a dump must not start it). */
export function runningDom0Blkback(host: DeviceHost): Promise<BlkbackDaemon> | undefined {
  return dom0Services.get(host.hv);
}

/**
 * dom0's blkback service (started on first use). `opts` apply only when it starts; tests and
 * benchmarks pass them before attaching anything.
 */
export function dom0Blkback(host: DeviceHost, opts: BlkbackDaemonOptions = {}): Promise<BlkbackDaemon> {
  let p = dom0Services.get(host.hv);
  if (!p) {
    const hc = host.hv.dom0Hypercalls;
    const log = host.log;
    p = BlkbackDaemon.start({ hc, evtchn: eventChannels(hc, host.loop), xs: host.xs, ...(log && { log }) }, 0, opts);
    p.catch(() => dom0Services.delete(host.hv));
    dom0Services.set(host.hv, p);
  }
  return p;
}

/**
 * blkback's statistics for each frontend domain, summed over the disks dom0 serves (as xentop
 * reads them from dom0's sysfs: disks served by a driver domain are not counted). Empty when
 * dom0 serves no disk.
 */
export async function dom0VbdStats(host: DeviceHost): Promise<Map<number, BlkbackStats>> {
  const out = new Map<number, BlkbackStats>();
  const daemon = await dom0Services.get(host.hv)?.catch(() => undefined);
  for (const be of daemon?.devices.values() ?? []) {
    let sum = out.get(be.frontendId);
    if (!sum) out.set(be.frontendId, (sum = emptyBlkbackStats()));
    for (const k of Object.keys(sum) as (keyof BlkbackStats)[]) sum[k] += be.stats[k];
  }
  return out;
}

/** blkback's statistics of each disk dom0 serves, by frontend domain and the disk's devid. */
export async function dom0VbdDeviceStats(host: DeviceHost): Promise<Map<number, { devid: number; stats: BlkbackStats }[]>> {
  const out = new Map<number, { devid: number; stats: BlkbackStats }[]>();
  const daemon = await dom0Services.get(host.hv)?.catch(() => undefined);
  for (const [key, be] of daemon?.devices ?? []) {
    let list = out.get(be.frontendId);
    if (!list) out.set(be.frontendId, (list = []));
    list.push({ devid: Number(key.slice(key.indexOf('/') + 1)), stats: be.stats });
  }
  return out;
}

/** The domain named by a spec's backend= (dom0 when absent), which serves `what`. */
export function backendDomain(host: DeviceHost, name: string | undefined, what: string): number {
  if (name === undefined) return 0;
  const byId = /^[0-9]+$/.test(name) ? Number(name) : -1;
  const d = host.hv.domains().find((x) => !x.dying && (x.name === name || x.domid === byId));
  if (!d) throw new XenError('ESRCH', `backend=${name}: no such running domain to serve the ${what}`);
  return d.domid;
}

/** A device's two directories and the domains at each end. */
export interface DeviceEnds {
  readonly domid: number;
  readonly backendId: number;
  readonly fe: string;
  readonly be: string;
}

/**
 * Create a device's backend and frontend directories in one transaction, with libxl's
 * permissions (each end owns its directory, the other end reads it), then wait for the
 * backend's hotplug outcome; on failure the nodes go and the error says why (ENODEV).
 */
export async function createDevice(host: DeviceHost, ends: DeviceEnds, backend: readonly (readonly [string, string | number])[],
  frontend: readonly (readonly [string, string | number])[], what: string): Promise<void> {
  await (await writeDevice(host, ends, backend, frontend, what)).plugged;
}

/** A device whose nodes are written; `plugged` settles with its backend's hotplug outcome (createDevice's). */
export interface DevicePlug {
  readonly plugged: Promise<void>;
}

/** createDevice's transaction; its wait for the hotplug outcome is left running in `plugged`. */
async function writeDevice(host: DeviceHost, ends: DeviceEnds, backend: readonly (readonly [string, string | number])[],
  frontend: readonly (readonly [string, string | number])[], what: string): Promise<DevicePlug> {
  const { xs } = host;
  const { domid, backendId, fe, be } = ends;
  const bePerms: XsPerm[] = [{ domid: backendId, perm: 'n' }, { domid, perm: 'r' }];
  const fePerms: XsPerm[] = [{ domid, perm: 'n' }, { domid: backendId, perm: 'r' }];
  // One transaction, every request sent at once: xenstored takes a connection's requests in
  // order, so each directory is made before its permissions are set and its nodes written.
  await xs.transaction((t) => Promise.all([
    t.mkdir(be), t.mkdir(fe), t.setPerms(be, bePerms), t.setPerms(fe, fePerms),
    ...backend.map(([k, v]) => t.write(`${be}/${k}`, String(v))), t.write(`${be}/state`, String(XenbusState.Initialising)),
    ...frontend.map(([k, v]) => t.write(`${fe}/${k}`, String(v))), t.write(`${fe}/state`, String(XenbusState.Initialising)),
  ]));
  const plugged = (async () => {
    let status: string | undefined;
    try {
      status = await xs.wait(`${be}/${HOTPLUG_STATUS}`, (v) => v !== undefined, { timeout: DEVICE_TIMEOUT_MS });
    } catch (e) {
      if (!isXenError(e, 'ETIMEDOUT')) throw e;
    }
    if (status !== 'connected') {
      const why = (await xs.readOptional(`${be}/${HOTPLUG_ERROR}`)) ?? `backend d${backendId} did not take the device within ${DEVICE_TIMEOUT_MS} ms`;
      await removeNodes(xs, fe, be);
      throw new XenError('ENODEV', `${what}: ${why}`);
    }
  })();
  plugged.catch(() => {}); // the caller awaits it, maybe after other steps
  return { plugged };
}

/**
 * The backend's `params`, and the VDI's uuid for a `vdi:` target (whose format is the VDI's,
 * whatever format= says); images.ts says where other targets are.
 */
async function diskParams(host: DeviceHost, spec: DiskSpec): Promise<{ params: string; vdiUuid?: string }> {
  if (spec.target === undefined) throw new XenError('EOPNOTSUPP', `${spec.vdev}: an empty cdrom drive is not supported`);
  if (spec.target.startsWith(VDI_TARGET_PREFIX)) {
    if (!host.vdis) throw new XenError('EOPNOTSUPP', `${spec.vdev}: target=${spec.target}: this host has no VDIs`);
    const { uuid, params } = await host.vdis.diskParams(spec.target.slice(VDI_TARGET_PREFIX.length), spec.access);
    return { params, vdiUuid: uuid };
  }
  imageFormat(spec.format); // EOPNOTSUPP naming the formats there are
  return { params: `${spec.format}:${await targetPath(spec.target, spec.format, host.imagesDir ?? join(resolveStateDir(), 'images'), host.log)}` };
}

/** A backend serving a VDI: its directory, its domain, and who it serves ("domain 3 ('web') as xvda"). */
interface VdiBackend {
  readonly be: string;
  readonly backendId: number;
  readonly user: string;
}

/**
 * The backends that serve a VDI, from xenstore (the one record of what is attached): a disk
 * made from it, or any disk whose image is its file.
 */
async function vdiBackendNodes(host: DeviceHost, vdi: { readonly uuid: string; readonly path: string | null }): Promise<VdiBackend[]> {
  const found: VdiBackend[] = [];
  const dirs = (p: string) => host.xs.directory(p).catch(() => [] as string[]);
  for (const backend of host.hv.domains()) {
    const base = `/local/domain/${backend.domid}/backend/vbd`;
    for (const fe of await dirs(base)) {
      for (const devid of await dirs(`${base}/${fe}`)) {
        const be = `${base}/${fe}/${devid}`;
        const [uuid, params] = await Promise.all([host.xs.readOptional(`${be}/${VDI_UUID_KEY}`), host.xs.readOptional(`${be}/params`)]);
        const file = params?.slice(params.indexOf(':') + 1);
        if (uuid !== vdi.uuid && (vdi.path === null || file === undefined || (await realpath(file).catch(() => file)) !== vdi.path)) continue;
        const guest = host.hv.findDomain(Number(fe));
        const dev = (await host.xs.readOptional(`${be}/dev`)) ?? devid;
        found.push({ be, backendId: backend.domid, user: `domain ${fe}${guest ? ` ('${guest.name}')` : ''} as ${dev}` });
      }
    }
  }
  return found;
}

/** Who uses a VDI: one line per disk served from it. */
export async function vdiUsers(host: DeviceHost, vdi: { readonly uuid: string; readonly path: string | null }): Promise<string[]> {
  return (await vdiBackendNodes(host, vdi)).map((b) => b.user);
}

/**
 * The blkbacks of dom0 serving a VDI, which can switch their disk under the guest (a snapshot),
 * and the users served elsewhere (a driver domain), which cannot.
 */
export async function vdiLiveDisks(host: DeviceHost, vdi: { readonly uuid: string; readonly path: string | null }): Promise<{ live: BlkBack[]; foreign: string[] }> {
  const path = vdi.path === null ? null : await realpath(vdi.path).catch(() => vdi.path);
  const nodes = await vdiBackendNodes(host, { uuid: vdi.uuid, path });
  const daemon = await dom0Services.get(host.hv)?.catch(() => undefined);
  const live: BlkBack[] = [];
  const foreign: string[] = [];
  for (const n of nodes) {
    const be = n.backendId === 0 ? [...daemon?.devices.values() ?? []].find((d) => d.dir === n.be) : undefined;
    if (be) live.push(be);
    else foreign.push(n.user);
  }
  return { live, foreign };
}

/** Attach a disk to a running (or being built) domain; resolves once its backend is ready, with what xl block-list shows of it. */
export async function attachDisk(host: DeviceHost, domid: number, spec: DiskSpec): Promise<DiskDevice> {
  await addDisk(host, domid, spec);
  return readDevice(host.xs, domid, spec.devid);
}

/** attachDisk without reading the device back (the builder's: a create has no use for it). */
export async function addDisk(host: DeviceHost, domid: number, spec: DiskSpec): Promise<void> {
  await (await addDiskNodes(host, domid, spec)).plugged;
}

/**
 * addDisk up to its nodes written: the backend's start and hotplug outcome are left running in
 * `plugged` (a claimed shell posts its kernel meanwhile; its blkfront waits for the backend's
 * state, as any frontend of a hot-plugged device does).
 */
export async function addDiskNodes(host: DeviceHost, domid: number, spec: DiskSpec): Promise<DevicePlug> {
  const { hv, xs } = host;
  const guest = hv.domain(domid);
  if (guest.dying) throw new XenError('EINVAL', `domain ${domid} is dying`);
  const backendId = backendDomain(host, spec.backend, 'disk');
  if (backendId === domid) throw new XenError('EINVAL', `${spec.vdev}: a domain cannot serve its own disk`);
  const fe = frontendPath(domid, 'vbd', spec.devid);
  const be = backendPath(backendId, 'vbd', domid, spec.devid);
  if (await xs.exists(`${fe}/backend`)) throw new XenError('EEXIST', `domain ${domid} already has a disk ${spec.vdev} (device ${spec.devid})`);
  const { params, vdiUuid } = await diskParams(host, spec);
  if (backendId !== 0) hv.link(backendId, domid);
  else await dom0Blkback(host);
  const devtype = spec.cdrom ? 'cdrom' : 'disk';
  const backend = [
    ['frontend', fe], ['frontend-id', domid], ['online', 1], ['removable', spec.cdrom ? 1 : 0], ['bootable', 1],
    ['dev', spec.vdev], ['type', spec.backendtype ?? 'qdisk'], ['mode', spec.access === 'rw' ? 'w' : 'r'],
    ['device-type', devtype], ['params', params], ['discard-enable', spec.discard ? 1 : 0],
    ...(spec.directIoSafe ? [['direct-io-safe', 1] as const] : []),
    ...(vdiUuid !== undefined ? [[VDI_UUID_KEY, vdiUuid] as const] : []),
  ] as const;
  const frontend = [
    ['backend', be], ['backend-id', backendId], ['virtual-device', spec.devid], ['device-type', devtype],
    ['trusted', spec.trusted ? 1 : 0],
  ] as const;
  return writeDevice(host, { domid, backendId, fe, be }, backend, frontend, spec.vdev);
}

/**
 * Remove a device's two directories, and the backend's directory of that frontend domain once
 * it holds no device (libxl__xs_path_cleanup), so a domain's devices leave nothing behind.
 */
async function removeNodes(xs: XenstoreClient, fe: string, be: string): Promise<void> {
  await removeDeviceDirs(xs, fe, be);
  await removeIfEmpty(xs, parentOf(be));
}

async function removeDeviceDirs(xs: XenstoreClient, fe: string, be: string): Promise<void> {
  await xs.rm(fe).catch(() => {});
  await xs.rm(be).catch(() => {});
}

const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/'));

async function removeIfEmpty(xs: XenstoreClient, dir: string): Promise<void> {
  // In a transaction: a device of the same domain attached meanwhile makes it retry, not vanish.
  await xs.transaction(async (t) => {
    if ((await t.directory(dir)).length === 0) await t.rm(dir);
  }).catch(() => {});
}

function devidOf(vdev: string | number): number {
  const devid = typeof vdev === 'number' ? vdev : vdevToDevid(vdev);
  if (devid === undefined) throw new XenError('EINVAL', `'${vdev}' is not a virtual device name or number`);
  return devid;
}

/**
 * Detach (libxl's device remove): online=0 and backend Closing, wait for the xenbus close
 * handshake (the guest closes its frontend), then remove both nodes. `force` (or a frontend
 * that never connected, or a handshake that times out) removes them at once.
 */
export async function detachDisk(host: DeviceHost, domid: number, vdev: string | number, opts: { force?: boolean } = {}): Promise<void> {
  const devid = devidOf(vdev);
  if (!(await removeDevice(host, frontendPath(domid, 'vbd', devid), opts.force === true, `d${domid} ${vdev}`))) {
    throw new XenError('ENOENT', `domain ${domid} has no disk ${vdev}`);
  }
}

/** libxl's device remove of the device whose frontend is at `fe`; false if there is none. */
export async function removeDevice(host: DeviceHost, fe: string, force: boolean, what: string): Promise<boolean> {
  const xs = host.xs;
  const be = await xs.readOptional(`${fe}/backend`);
  if (be === undefined) return false;
  const front = await readState(xs, fe);
  const engaged = front !== XenbusState.Initialising && front !== XenbusState.Closed && front !== XenbusState.Unknown;
  if (!force && engaged) {
    await xs.transaction(async (t) => {
      await t.write(`${be}/online`, '0');
      await t.write(`${be}/state`, String(XenbusState.Closing));
    });
    await xs.wait(`${be}/state`, (v) => v === undefined || v === String(XenbusState.Closed), { timeout: DEVICE_TIMEOUT_MS }).catch((e: unknown) => {
      if (!isXenError(e, 'ETIMEDOUT')) throw e;
      host.log?.(`${what}: the guest did not close the device within ${DEVICE_TIMEOUT_MS} ms; removing it`);
    });
  }
  await removeNodes(xs, fe, be);
  return true;
}

/**
 * What a device list shows of the frontend at `fe`: its backend path, a reader of the numbers
 * the frontend wrote (undefined when absent or not a number), and where queue 0's keys are.
 */
export async function frontendView(xs: XenstoreClient, fe: string): Promise<{ be: string; num: (p: string) => Promise<number | undefined>; q0: string }> {
  const num = async (p: string) => {
    const v = await xs.readOptional(p);
    return v !== undefined && /^[0-9]{1,10}$/.test(v) ? Number(v) : undefined;
  };
  return {
    be: (await xs.readOptional(`${fe}/backend`)) ?? '',
    num,
    q0: (await xs.exists(`${fe}/queue-0`)) ? `${fe}/queue-0` : fe,
  };
}

async function readDevice(xs: XenstoreClient, domid: number, devid: number): Promise<DiskDevice> {
  const fe = frontendPath(domid, 'vbd', devid);
  const { be, num, q0 } = await frontendView(xs, fe);
  return {
    vdev: (await xs.readOptional(`${be}/dev`)) ?? String(devid),
    devid,
    backendId: (await num(`${fe}/backend-id`)) ?? 0,
    state: await readState(xs, fe),
    eventChannel: await num(`${q0}/event-channel`),
    ringRef: (await num(`${q0}/ring-ref`)) ?? (await num(`${q0}/ring-ref0`)),
    backendPath: be,
  };
}

/** The device numbers under the domain's device/<type> directory, in order. */
export async function deviceIds(host: DeviceHost, domid: number, type: string): Promise<number[]> {
  if (!isValidDomid(domid)) throw new XenError('EINVAL', `bad domain id ${domid}`);
  host.hv.domain(domid);
  const ids = await host.xs.directory(`/local/domain/${domid}/device/${type}`).catch((e: unknown) => {
    if (isXenError(e, 'ENOENT')) return [];
    throw e;
  });
  return ids.filter((s) => /^[0-9]+$/.test(s)).map(Number).sort((a, b) => a - b);
}

/** The domain's disks, by device number (xl block-list). */
export async function listDisks(host: DeviceHost, domid: number): Promise<DiskDevice[]> {
  return Promise.all((await deviceIds(host, domid, 'vbd')).map((devid) => readDevice(host.xs, domid, devid)));
}

/**
 * A domain is being destroyed: remove its disks at once (its backends let go), and the disks
 * it served as a driver domain (their guests see the device close).
 */
export async function removeDomainDisks(hv: Hypervisor, xs: XenstoreClient, domid: number): Promise<void> {
  await removeDomainDevices(xs, domid, 'vbd');
  // dom0's backends let go now rather than when their watch fires: the host may be closing.
  await (await dom0Services.get(hv)?.catch(() => undefined))?.removeFrontend(domid);
}

/** The nodes of a dying domain's devices of `type`, both those it uses and those it serves. */
export async function removeDomainDevices(xs: XenstoreClient, domid: number, type: string): Promise<void> {
  const fronts = await xs.directory(`/local/domain/${domid}/device/${type}`).catch(() => [] as string[]);
  // Each backend directory emptied is removed once, after all of its devices (not one
  // transaction per device, of which only the last could find it empty).
  const parents = new Set<string>();
  for (const devid of fronts) {
    const fe = `/local/domain/${domid}/device/${type}/${devid}`;
    const be = (await xs.readOptional(`${fe}/backend`)) ?? fe;
    await removeDeviceDirs(xs, fe, be);
    parents.add(parentOf(be));
  }
  for (const dir of parents) await removeIfEmpty(xs, dir);
  const served = `/local/domain/${domid}/backend/${type}`;
  for (const guest of await xs.directory(served).catch(() => [] as string[])) {
    for (const devid of await xs.directory(`${served}/${guest}`).catch(() => [] as string[])) {
      const fe = await xs.readOptional(`${served}/${guest}/${devid}/frontend`);
      if (fe) await xs.rm(fe).catch(() => {});
    }
  }
  await xs.rm(served).catch(() => {});
}
