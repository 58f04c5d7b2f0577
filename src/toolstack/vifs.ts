// Virtual network interfaces of running domains, as libxl's nic code handles them: attaching
// writes the backend and frontend nodes (devices.ts's createDevice, with libxl's permissions)
// and waits for the backend's hotplug outcome, as libxl waits for vif-bridge; detaching asks
// the device to close through the xenbus state machine (devices.ts's removeDevice). The
// backend runs in dom0 (netback's service, started with the first vif, plugging vifs into the
// host's virtual switch) or in the driver domain named by backend=. The builder attaches
// config.vifs; `xenode network-attach` calls attachVif for hot-plug.
import { backendPath, frontendPath, readState } from '../drivers/xenbus.js';
import { XenError } from '../errors.js';
import type { Hypervisor } from '../hypervisor/hypervisor.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
import type { NicDevice } from './contract.js';
import { backendDomain, createDevice, deviceIds, frontendView, removeDevice, removeDomainDevices, type DeviceHost } from './devices.js';
import type { DomainVif } from './domconfig.js';
import { randomVifMac, type VifSpec } from './vifspec.js';

/** xl.conf's vif.default.bridge and vif.default.script (libxl writes the script's full path). */
export const DEFAULT_BRIDGE = 'xenbr0';
export const DEFAULT_VIF_SCRIPT = '/etc/xen/scripts/vif-bridge';

/** Traffic of one domain's vifs as dom0's netback counts it, from the guest's side (xentop's NETTX/NETRX). */
export interface VifTraffic {
  readonly vifs: number;
  readonly txBytes: number;
  readonly rxBytes: number;
}

/** What serves vifs in a backend domain: netback's service (src/drivers/net/back). */
export interface VifBackendService {
  /** Counters per frontend domain, summed over its vifs. */
  traffic(): Map<number, VifTraffic>;
  /** Counters of each vif (by devid), per frontend domain. */
  vifTraffic(): Map<number, { devid: number; txBytes: number; rxBytes: number }[]>;
  /** A domain is going: its vifs' backends let go now. */
  removeFrontend(domid: number): Promise<void>;
  /** Plug the vif into the switch again as its backend nodes say now (ENODEV if it serves no such vif). */
  replug(domid: number, devid: number): Promise<void>;
  /** Announce the vif's MAC from its port, as QEMU's announce-self (false if it serves no such vif, or it is not plugged). */
  announce(domid: number, devid: number): boolean;
}

/** A device host that can serve vifs from dom0. */
export interface VifHost extends DeviceHost {
  /** Start dom0's netback service (once per hypervisor); absent when this host has none. */
  readonly startNetback?: () => Promise<VifBackendService>;
  /**
   * The locking mode a vif with none of its own (XenAPI's network_default) is plugged with on
   * `bridge`: its network's default_locking_mode when that is disabled; undefined, the MAC check.
   */
  readonly networkLocking?: (bridge: string) => Promise<'disabled' | undefined>;
}

const dom0Services = new WeakMap<Hypervisor, Promise<VifBackendService>>();

/** dom0's netback service, started on first use. */
export function dom0Netback(host: VifHost): Promise<VifBackendService> {
  let p = dom0Services.get(host.hv);
  if (!p) {
    if (!host.startNetback) return Promise.reject(new XenError('ENODEV', 'this host has no network backend in dom0'));
    p = host.startNetback();
    p.catch(() => dom0Services.delete(host.hv));
    dom0Services.set(host.hv, p);
  }
  return p;
}

/** xentop's network counters for each frontend domain whose vifs dom0 serves (empty when it serves none). */
export async function dom0VifTraffic(hv: Hypervisor): Promise<Map<number, VifTraffic>> {
  const service = await dom0Services.get(hv)?.catch(() => undefined);
  return service?.traffic() ?? new Map();
}

/** The same per vif, for each frontend domain (empty when dom0 serves none). */
export async function dom0VifDeviceTraffic(hv: Hypervisor): Promise<Map<number, { devid: number; txBytes: number; rxBytes: number }[]>> {
  const service = await dom0Services.get(hv)?.catch(() => undefined);
  return service?.vifTraffic() ?? new Map();
}

/**
 * A domain is being destroyed: remove its vifs at once (their backends let go), and those it
 * served as a driver domain (their guests see the device close).
 */
export async function removeDomainVifs(hv: Hypervisor, xs: XenstoreClient, domid: number): Promise<void> {
  await removeDomainDevices(xs, domid, 'vif');
  await (await dom0Services.get(hv)?.catch(() => undefined))?.removeFrontend(domid);
}

/**
 * Give every vif without a MAC a generated one, as libxl's nic defaults do before it saves the
 * domain's configuration: the guest keeps its MACs across reboots.
 */
export function settleVifMacs(vifs: readonly DomainVif[]): DomainVif[] {
  return vifs.map((v) => (v.mac === undefined ? { ...v, mac: randomVifMac() } : v));
}

/** A vif's backend and frontend nodes, as libxl writes them (its backend domain's and its own). */
export interface VifNodes {
  readonly backend: readonly (readonly [string, string | number])[];
  readonly frontend: readonly (readonly [string, string | number])[];
}

/** The nodes of `vif` (whose MAC is settled) on domain `domid`, served by `backendId`. */
export async function vifNodes(host: VifHost, domid: number, backendId: number, vif: DomainVif & { readonly mac: string }): Promise<VifNodes> {
  const fe = frontendPath(domid, 'vif', vif.devid);
  const be = backendPath(backendId, 'vif', domid, vif.devid);
  const bridge = vif.bridge ?? DEFAULT_BRIDGE;
  const lockingMode = vif.lockingMode ?? (await host.networkLocking?.(bridge));
  const opt = (k: string, v: string | number | undefined) => (v === undefined ? [] : [[k, v] as const]);
  return {
    backend: [
      ['frontend', fe], ['frontend-id', domid], ['online', 1], ['script', vif.script ?? DEFAULT_VIF_SCRIPT], ['mac', vif.mac],
      ['bridge', bridge], ['handle', vif.devid], ['type', vif.type ?? 'vif'],
      ...opt('rate', vif.rate && `${vif.rate.bytesPerInterval},${vif.rate.intervalUsecs}`),
      ...opt('ip', vif.ip), ...opt('vifname', vif.vifname), ...opt('mtu', vif.mtu), ...opt('gatewaydev', vif.gatewaydev),
      ...opt('locking-mode', lockingMode), ...opt('ipv4-allowed', vif.ipv4Allowed), ...opt('ipv6-allowed', vif.ipv6Allowed),
    ],
    frontend: [
      ['backend', be], ['backend-id', backendId], ['handle', vif.devid], ['mac', vif.mac],
      ...opt('trusted', vif.trusted === undefined ? undefined : vif.trusted ? 1 : 0),
    ],
  };
}

/** Attach a vif to a running (or being built) domain; resolves once its backend is ready, with what xl network-list shows of it. */
export async function attachVif(host: VifHost, domid: number, vif: DomainVif): Promise<NicDevice> {
  await addVif(host, domid, vif);
  return readNic(host.xs, domid, vif.devid);
}

/** attachVif without reading the device back (the builder's: a create has no use for it); the nodes it wrote. */
export async function addVif(host: VifHost, domid: number, vif: DomainVif): Promise<VifNodes> {
  const { hv, xs } = host;
  if (hv.domain(domid).dying) throw new XenError('EINVAL', `domain ${domid} is dying`);
  const backendId = backendDomain(host, vif.backend, 'vif');
  if (backendId === domid) throw new XenError('EINVAL', `vif ${vif.devid}: a domain cannot serve its own vif`);
  const fe = frontendPath(domid, 'vif', vif.devid);
  const be = backendPath(backendId, 'vif', domid, vif.devid);
  if (await xs.exists(`${fe}/backend`)) throw new XenError('EEXIST', `domain ${domid} already has a vif ${vif.devid}`);
  if (backendId !== 0) hv.link(backendId, domid);
  else await dom0Netback(host);
  const nodes = await vifNodes(host, domid, backendId, { ...vif, mac: vif.mac ?? randomVifMac() });
  await createDevice(host, { domid, backendId, fe, be }, nodes.backend, nodes.frontend, `vif ${vif.devid}`);
  return nodes;
}

/**
 * dom0's netback plugs vif `devid` of `domid` into the switch again as its backend nodes say now
 * (bridge, mac, locking): vif-bridge's "online" run again, after the toolstack rewrote them.
 */
export async function replugVif(host: VifHost, domid: number, devid: number): Promise<void> {
  await (await dom0Netback(host)).replug(domid, devid);
}

/**
 * A migrated domain runs here now: dom0's netback announces each of its vifs' MACs (the vifs a
 * driver domain serves are that domain's to announce), as QEMU does after a migration, so that
 * the network sends its peers' frames here while the guest resumes. Best effort: the guest's
 * own gratuitous ARP follows. Returns the devids announced.
 */
export async function announceVifs(host: VifHost, domid: number, vifs: readonly { readonly devid: number; readonly backend?: string }[]): Promise<number[]> {
  const mine = vifs.filter((v) => v.backend === undefined);
  if (mine.length === 0) return [];
  const netback = await dom0Netback(host);
  return mine.filter((v) => netback.announce(domid, v.devid)).map((v) => v.devid);
}

/** The devid of the vif named by its number or its MAC (xl network-detach's argument). */
async function findVif(host: DeviceHost, domid: number, which: string): Promise<number> {
  const ids = await deviceIds(host, domid, 'vif');
  if (/^[0-9]+$/.test(which)) {
    if (ids.includes(Number(which))) return Number(which);
  } else {
    const want = which.toLowerCase();
    for (const devid of ids) {
      if ((await host.xs.readOptional(`${frontendPath(domid, 'vif', devid)}/mac`))?.toLowerCase() === want) return devid;
    }
  }
  throw new XenError('ENOENT', `domain ${domid} has no vif ${which}`);
}

/** Detach a vif (xl network-detach DEVID|MAC); returns its devid. */
/** A vif's locking (VifSpec's lockingMode, ipv4Allowed, ipv6Allowed; undefined: the key left out). */
export type VifLocking = Pick<VifSpec, 'lockingMode' | 'ipv4Allowed' | 'ipv6Allowed'>;

/**
 * XenAPI's VIF.set_locking_mode (and set_ipv4_allowed...) on a plugged vif: its backend nodes
 * rewritten in one transaction; netback, which watches them, gives the switch port the new
 * locking at once. Returns the devid.
 */
export async function setVifLocking(host: DeviceHost, domid: number, which: string, locking: VifLocking): Promise<number> {
  const devid = await findVif(host, domid, which);
  const be = await host.xs.read(`${frontendPath(domid, 'vif', devid)}/backend`);
  await host.xs.transaction(async (t) => {
    for (const [k, v] of [['locking-mode', locking.lockingMode], ['ipv4-allowed', locking.ipv4Allowed], ['ipv6-allowed', locking.ipv6Allowed]] as const) {
      if (v === undefined) {
        if ((await t.readOptional(`${be}/${k}`)) !== undefined) await t.rm(`${be}/${k}`);
      } else {
        await t.write(`${be}/${k}`, v);
      }
    }
  });
  return devid;
}

export async function detachVif(host: DeviceHost, domid: number, which: string, opts: { force?: boolean } = {}): Promise<number> {
  const devid = await findVif(host, domid, which);
  await removeDevice(host, frontendPath(domid, 'vif', devid), opts.force === true, `d${domid} vif ${devid}`);
  return devid;
}

async function readNic(xs: XenstoreClient, domid: number, devid: number): Promise<NicDevice> {
  const fe = frontendPath(domid, 'vif', devid);
  const { be, num, q0 } = await frontendView(xs, fe);
  return {
    devid,
    backendId: (await num(`${fe}/backend-id`)) ?? 0,
    mac: (await xs.readOptional(`${fe}/mac`)) ?? '',
    handle: (await num(`${fe}/handle`)) ?? devid,
    state: await readState(xs, fe),
    // libxl reads the single event-channel node: split channels show as -1, as in xl.
    eventChannel: await num(`${q0}/event-channel`),
    txRingRef: await num(`${q0}/tx-ring-ref`),
    rxRingRef: await num(`${q0}/rx-ring-ref`),
    backendPath: be,
  };
}

/** The domain's vifs, by device id (xl network-list). */
export async function listVifs(host: DeviceHost, domid: number): Promise<NicDevice[]> {
  return Promise.all((await deviceIds(host, domid, 'vif')).map((devid) => readNic(host.xs, domid, devid)));
}
