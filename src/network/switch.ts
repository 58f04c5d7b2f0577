// dom0's virtual switch: its bridges, made on first use by name (xenbr0 is xl's default), and
// every port by its device's name (vifDOMID.DEVID), unique on the host as Linux's interface
// names are. Nothing here runs while no frame moves: no timers, and a VLAN or a bridge costs
// only the ports on it.
import { XenError } from '../errors.js';
import { Bridge, BridgePort, type PortAccess, type PortMode, type VlanMembership } from './bridge.js';
import { VLAN_MAX, checkBridgeName, parseBridgeSpec } from './bridgespec.js';
import { Capture, openPcapFile, type CaptureOptions, type CaptureSummary, type Tap } from './capture.js';
import { FDB_DEFAULTS, type FdbLimits } from './fdb.js';
import { SourceLock } from './locking.js';
import { parseMac } from './mac.js';
import type { PortDevice, PortOptions, SwitchPort, VirtualSwitch } from './port.js';
import { VNI_MAX, VXLAN_DEFAULT_VNI, VXLAN_PORT, Vtep, VxlanLink, type Endpoint } from './vxlan.js';

export const DEFAULT_BRIDGE = 'xenbr0';

export interface SwitchOptions {
  readonly fdb?: Partial<FdbLimits>;
  /** Bridges on the host at most (each is made by naming it). */
  readonly maxBridges?: number;
  /** Ports on the host at most. */
  readonly maxPorts?: number;
  /** Captures running at once at most. */
  readonly maxCaptures?: number;
  /** VXLAN sockets (local endpoints) at most. */
  readonly maxVteps?: number;
  /** A clock in ms for MAC aging; performance.now (read once per turn) by default. */
  readonly now?: () => number;
}

export const SWITCH_DEFAULTS = { maxBridges: 4096, maxPorts: 65_536, maxCaptures: 16, maxVteps: 16 } as const;

/** How a port not from a vif spec joins a bridge: a link or the gateway carries what it is given. */
export interface InternalPortOptions {
  readonly native?: number;
  readonly trunks?: VlanMembership;
}

/** Shared by every port without trunks: a thousand access ports need no thousand empty sets. */
const NO_TRUNKS: ReadonlySet<number> = new Set();

const PORT_NAME_RE = /^[A-Za-z0-9_.:-]{1,32}$/;

/**
 * performance.now, read once per turn of the event loop: MAC aging counts in minutes, and the
 * burst of frames a ring pass forwards in one turn shares one reading instead of a clock read each.
 */
function turnClock(): () => number {
  let cached = -1;
  const expire = () => {
    cached = -1;
  };
  return () => {
    if (cached < 0) {
      cached = performance.now();
      queueMicrotask(expire);
    }
    return cached;
  };
}

export class Switch implements VirtualSwitch {
  readonly #bridges = new Map<string, Bridge>();
  readonly #ports = new Map<string, BridgePort>();
  readonly #limits: FdbLimits;
  readonly #maxBridges: number;
  readonly #maxPorts: number;
  readonly #now: () => number;
  readonly #maxCaptures: number;
  readonly #maxVteps: number;
  #captures = 0;
  /** Local endpoint → its VTEP (an ephemeral port is keyed by the port it got). */
  readonly #vteps = new Map<string, Promise<Vtep>>();
  #linkSeq = 0;
  readonly #fileCaptures = new Map<string, Capture>();

  constructor(opts: SwitchOptions = {}) {
    this.#limits = { ...FDB_DEFAULTS, ...opts.fdb };
    this.#maxBridges = opts.maxBridges ?? SWITCH_DEFAULTS.maxBridges;
    this.#maxPorts = opts.maxPorts ?? SWITCH_DEFAULTS.maxPorts;
    this.#now = opts.now ?? turnClock();
    this.#maxCaptures = opts.maxCaptures ?? SWITCH_DEFAULTS.maxCaptures;
    this.#maxVteps = opts.maxVteps ?? SWITCH_DEFAULTS.maxVteps;
  }

  /** Plug a device in as its vif spec says (bridge=, mac=); the bridge is made if it is new. */
  plug(device: PortDevice, opts: PortOptions): SwitchPort {
    const spec = parseBridgeSpec(opts.bridge);
    const access = { mac: opts.mac === undefined ? null : parseMac(opts.mac), macSpoof: opts.macSpoof === true };
    const mode = { native: spec.tag, trunks: spec.trunks.length ? new Set(spec.trunks) : NO_TRUNKS, mac: access.macSpoof ? null : access.mac };
    // Checked before the port is made: a malformed locking plugs nothing.
    if (opts.locking) SourceLock.of(opts.locking);
    const port = this.#plug(spec.bridge, device, mode, undefined, access);
    if (opts.locking) port.setLocking(opts.locking);
    return port;
  }

  /** Plug in a port of the switch's own (a VXLAN link, a gateway): it may send from any MAC. */
  plugInternal(bridge: string, device: PortDevice, opts: InternalPortOptions = {}, onUnplug?: () => void): BridgePort {
    return this.#plug(checkBridgeName(bridge), device, { native: opts.native ?? 0, trunks: opts.trunks ?? NO_TRUNKS, mac: null }, onUnplug);
  }

  /** The VTEP (UDP socket) on a local endpoint, bound now if there is none; port 0 binds an ephemeral port. */
  vtep(local: Endpoint = { address: '127.0.0.1', port: VXLAN_PORT }): Promise<Vtep> {
    const k = `${local.address}|${local.port}`;
    const had = local.port === 0 ? undefined : this.#vteps.get(k);
    if (had) return had;
    if (this.#vteps.size >= this.#maxVteps) return Promise.reject(new XenError('ENOSPC', `the switch has ${this.#maxVteps} VXLAN sockets already`));
    const bound = Vtep.bind(local);
    this.#vteps.set(k, bound);
    bound.then((v) => {
      if (local.port === 0) {
        this.#vteps.delete(k);
        this.#vteps.set(`${v.local.address}|${v.local.port}`, bound);
      }
    }, () => this.#vteps.delete(k));
    return bound;
  }

  /**
   * Link a bridge to the same-named bridge of another host through VXLAN: its untagged segment
   * is VNI `vni`, VLAN v is `vni + v`. The link is a port (vxlanN) until unlinked.
   */
  async link(bridge: string, remote: Endpoint, opts: { local?: Endpoint; vni?: number } = {}): Promise<VxlanLink> {
    checkBridgeName(bridge);
    const vni = opts.vni ?? VXLAN_DEFAULT_VNI;
    if (!(Number.isInteger(vni) && vni >= 0 && vni <= VNI_MAX - VLAN_MAX)) throw new XenError('EINVAL', `VNI must be in 0..${VNI_MAX - VLAN_MAX} (VLANs take the ${VLAN_MAX} after it)`);
    const vtep = await this.vtep(opts.local);
    for (const l of vtep.links()) {
      if (l.bridge === bridge && l.remote.address === remote.address && l.remote.port === remote.port) {
        throw new XenError('EEXIST', `bridge ${bridge} is linked to ${remote.address}:${remote.port} already (${l.name})`);
      }
    }
    const link = new VxlanLink(`vxlan${this.#linkSeq++}`, vtep, remote, vni);
    vtep.add(link);
    try {
      link.port = this.plugInternal(bridge, link, { trunks: 'all' }, () => vtep.remove(link));
    } catch (e) {
      vtep.remove(link);
      throw e;
    }
    return link;
  }

  /** Every VXLAN link. */
  async links(): Promise<VxlanLink[]> {
    return (await Promise.allSettled(this.#vteps.values())).flatMap((r) => (r.status === 'fulfilled' ? r.value.links() : []));
  }

  #plug(name: string, device: PortDevice, mode: PortMode, onUnplug?: () => void, access?: PortAccess): BridgePort {
    if (!PORT_NAME_RE.test(device.name)) throw new XenError('EINVAL', `invalid port name '${device.name}'`);
    if (this.#ports.has(device.name)) throw new XenError('EEXIST', `a port named '${device.name}' is already plugged in (bridge ${this.#ports.get(device.name)!.bridge.name})`);
    if (this.#ports.size >= this.#maxPorts) throw new XenError('ENOSPC', `the switch has ${this.#maxPorts} ports already`);
    const port = this.bridge(name).add(device, mode, (p) => {
      if (this.#ports.get(p.name) === p) this.#ports.delete(p.name);
      onUnplug?.();
    }, access);
    this.#ports.set(device.name, port);
    return port;
  }

  /** The bridge of that name, made now if there is none. */
  bridge(name: string): Bridge {
    let b = this.#bridges.get(name);
    if (!b) {
      checkBridgeName(name);
      if (this.#bridges.size >= this.#maxBridges) throw new XenError('ENOSPC', `the switch has ${this.#maxBridges} bridges already`);
      b = new Bridge(name, this.#limits, this.#now);
      this.#bridges.set(name, b);
    }
    return b;
  }

  findBridge(name: string): Bridge | undefined {
    return this.#bridges.get(name);
  }

  findPort(name: string): BridgePort | undefined {
    return this.#ports.get(name);
  }

  bridges(): Bridge[] {
    return [...this.#bridges.values()];
  }

  #tapsOf(target: string): Set<Tap> {
    const taps = this.#ports.get(target)?.taps ?? this.#bridges.get(target)?.taps;
    if (!taps) throw new XenError('ENODEV', `no bridge or port named '${target}'`);
    if (this.#captures >= this.#maxCaptures) throw new XenError('EBUSY', `${this.#maxCaptures} captures are running already`);
    return taps;
  }

  /** Tap a capture into a port (by name) or a bridge; it comes out again when it ends. */
  capture(target: string, capture: Capture): void {
    const taps = this.#tapsOf(target);
    this.#captures++;
    taps.add(capture);
    capture.attached(() => {
      if (taps.delete(capture)) this.#captures--;
    });
  }

  /** Capture a bridge or port into a pcap file (an absolute path) until the capture ends; stopCapture(file) ends it. */
  async captureToFile(target: string, file: string, opts: CaptureOptions = {}): Promise<CaptureSummary> {
    this.#tapsOf(target);
    if (this.#fileCaptures.has(file)) throw new XenError('EBUSY', `a capture is writing ${file} already`);
    const out = await openPcapFile(file);
    let cap: Capture;
    try {
      cap = new Capture(out.sink, opts);
      this.capture(target, cap);
    } catch (e) {
      await out.close();
      throw e;
    }
    this.#fileCaptures.set(file, cap);
    try {
      return await cap.done;
    } finally {
      this.#fileCaptures.delete(file);
      await out.close();
    }
  }

  /** End the capture writing `file`; false if there is none. */
  stopCapture(file: string): boolean {
    const cap = this.#fileCaptures.get(file);
    cap?.stop();
    return cap !== undefined;
  }

  /** Unplug every port; captures end, VXLAN sockets close. */
  close(): void {
    for (const v of this.#vteps.values()) void v.then((vtep) => vtep.close(), () => {});
    this.#vteps.clear();
    for (const p of [...this.#ports.values()]) p.unplug();
    for (const b of this.#bridges.values()) for (const tap of [...b.taps]) tap.gone();
  }
}
