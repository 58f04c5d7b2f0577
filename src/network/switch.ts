// dom0's virtual switch: its bridges, made on first use by name (xenbr0 is xl's default), and
// every port by its device's name (vifDOMID.DEVID), unique on the host as Linux's interface
// names are. Nothing here runs while no frame moves: no timers, and a VLAN or a bridge costs
// only the ports on it.
import { XenError } from '../errors.js';
import { Bridge, BridgePort, type PortMode, type VlanMembership } from './bridge.js';
import { checkBridgeName, parseBridgeSpec } from './bridgespec.js';
import { FDB_DEFAULTS, type FdbLimits } from './fdb.js';
import { parseMac } from './mac.js';
import type { PortDevice, PortOptions, SwitchPort, VirtualSwitch } from './port.js';

export const DEFAULT_BRIDGE = 'xenbr0';

export interface SwitchOptions {
  readonly fdb?: Partial<FdbLimits>;
  /** Bridges on the host at most (each is made by naming it). */
  readonly maxBridges?: number;
  /** Ports on the host at most. */
  readonly maxPorts?: number;
  /** A clock in ms for MAC aging; performance.now by default. */
  readonly now?: () => number;
}

export const SWITCH_DEFAULTS = { maxBridges: 4096, maxPorts: 65_536 } as const;

/** How a port not from a vif spec joins a bridge: a link or the gateway carries what it is given. */
export interface InternalPortOptions {
  readonly native?: number;
  readonly trunks?: VlanMembership;
}

const PORT_NAME_RE = /^[A-Za-z0-9_.:-]{1,32}$/;

export class Switch implements VirtualSwitch {
  readonly #bridges = new Map<string, Bridge>();
  readonly #ports = new Map<string, BridgePort>();
  readonly #limits: FdbLimits;
  readonly #maxBridges: number;
  readonly #maxPorts: number;
  readonly #now: () => number;

  constructor(opts: SwitchOptions = {}) {
    this.#limits = { ...FDB_DEFAULTS, ...opts.fdb };
    this.#maxBridges = opts.maxBridges ?? SWITCH_DEFAULTS.maxBridges;
    this.#maxPorts = opts.maxPorts ?? SWITCH_DEFAULTS.maxPorts;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Plug a device in as its vif spec says (bridge=, mac=); the bridge is made if it is new. */
  plug(device: PortDevice, opts: PortOptions): SwitchPort {
    const spec = parseBridgeSpec(opts.bridge);
    const mac = opts.mac === undefined || opts.macSpoof ? null : parseMac(opts.mac);
    return this.#plug(spec.bridge, device, { native: spec.tag, trunks: new Set(spec.trunks), mac });
  }

  /** Plug in a port of the switch's own (a VXLAN link, a gateway): it may send from any MAC. */
  plugInternal(bridge: string, device: PortDevice, opts: InternalPortOptions = {}): BridgePort {
    return this.#plug(checkBridgeName(bridge), device, { native: opts.native ?? 0, trunks: opts.trunks ?? new Set(), mac: null });
  }

  #plug(name: string, device: PortDevice, mode: PortMode): BridgePort {
    if (!PORT_NAME_RE.test(device.name)) throw new XenError('EINVAL', `invalid port name '${device.name}'`);
    if (this.#ports.has(device.name)) throw new XenError('EEXIST', `a port named '${device.name}' is already plugged in (bridge ${this.#ports.get(device.name)!.bridge.name})`);
    if (this.#ports.size >= this.#maxPorts) throw new XenError('ENOSPC', `the switch has ${this.#maxPorts} ports already`);
    const port = this.bridge(name).add(device, mode, (p) => {
      if (this.#ports.get(p.name) === p) this.#ports.delete(p.name);
    });
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

  /** Unplug every port. */
  close(): void {
    for (const p of [...this.#ports.values()]) p.unplug();
  }
}
