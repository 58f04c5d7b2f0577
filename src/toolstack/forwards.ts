// Host port forwards of domains (xenode's own `forward = [ ... ]` key and `xenode network-
// forward`): each goes to the domain's first vif through the gateway of that vif's bridge, to the
// vif's ip= when the config gives one, else to the address the gateway's DHCP server leased to
// its MAC. Forwards belong to the domain: they go when it is destroyed, and come back with the
// configuration when it restarts. (The vif's ip= is bound to its MAC at the gateway by
// VifAddresses, forward or not.)
import { XenError } from '../errors.js';
import type { Gateway } from '../network/gateway/gateway.js';
import type { HostForward } from '../network/gateway/forward.js';
import { formatForwardSpec, type ForwardSpec } from '../network/gateway/forwardspec.js';
import { formatIpv4, type Ipv4 } from '../tcpip/addr.js';
import type { ForwardInfo } from './contract.js';
import type { DomainVif } from './domconfig.js';
import { staticAddress } from './vif-addresses.js';
import { DEFAULT_BRIDGE } from './vifs.js';

interface Entry {
  readonly domid: number;
  readonly spec: ForwardSpec;
  readonly fwd: HostForward;
  readonly gw: Gateway;
  readonly target: () => Ipv4 | undefined;
}

/** A host port's identity: a forward per protocol, address and port. */
export const forwardKey = (s: ForwardSpec) => `${s.proto}:${s.hostAddress}:${s.hostPort}`;

/**
 * Where a forward to the first of `vifs` goes: its bridge (whose gateway carries it) and, given
 * that gateway, the vif's address when a connection comes (ip=, else its MAC's DHCP lease).
 */
export function forwardRoute(vifs: readonly DomainVif[], spec: ForwardSpec, owner: string): { bridge: string; target: (gw: Gateway) => () => Ipv4 | undefined } {
  const vif = [...vifs].sort((a, b) => a.devid - b.devid)[0];
  if (!vif) throw new XenError('ENODEV', `${owner} has no vif to forward ${formatForwardSpec(spec)} to: add one (vif = [ '' ])`);
  const bridge = vif.bridge ?? DEFAULT_BRIDGE;
  if (/[.:]/.test(bridge)) throw new XenError('EINVAL', `vif ${vif.devid} is on ${bridge}: a gateway serves only a bridge's untagged segment`);
  const ip = staticAddress(vif);
  const mac = vif.mac;
  return { bridge, target: (gw) => () => ip ?? (mac === undefined ? undefined : gw.leaseFor(mac)) };
}

export class DomainForwards {
  readonly #byKey = new Map<string, Entry>();

  /** `gateway(bridge)`: the bridge's gateway, attached if it has none. */
  constructor(private readonly gateway: (bridge: string) => Gateway) {}

  /** Forward `spec` to the domain whose vifs are `vifs`. */
  async add(domid: number, vifs: readonly DomainVif[], spec: ForwardSpec): Promise<ForwardInfo> {
    const route = forwardRoute(vifs, spec, `domain ${domid}`);
    const k = forwardKey(spec);
    const other = this.#byKey.get(k);
    if (other) throw new XenError('EEXIST', `${spec.proto} ${spec.hostAddress}:${spec.hostPort} is forwarded to domain ${other.domid} already`);
    const gw = this.gateway(route.bridge);
    const target = route.target(gw);
    const fwd = await gw.forward(spec, target);
    if (this.#byKey.has(k)) {
      gw.unforward(fwd);
      throw new XenError('EEXIST', `${spec.proto} ${spec.hostAddress}:${spec.hostPort} was forwarded meanwhile`);
    }
    const e: Entry = { domid, spec, fwd, gw, target };
    this.#byKey.set(k, e);
    return info(e);
  }

  /** Remove the domain's forward of that host port; ENOENT if it has none. */
  remove(domid: number, spec: ForwardSpec): ForwardInfo {
    const e = this.#byKey.get(forwardKey(spec));
    if (!e || e.domid !== domid) throw new XenError('ENOENT', `domain ${domid} has no forward of ${spec.proto} ${spec.hostAddress}:${spec.hostPort}`);
    this.#byKey.delete(forwardKey(spec));
    e.gw.unforward(e.fwd);
    return info(e);
  }

  /** Forwards of `domid`, or all. */
  list(domid?: number): ForwardInfo[] {
    return [...this.#byKey.values()].filter((e) => domid === undefined || e.domid === domid).map(info);
  }

  /** The domain is going: its forwards close. */
  removeDomain(domid: number): void {
    for (const [k, e] of [...this.#byKey]) {
      if (e.domid !== domid) continue;
      this.#byKey.delete(k);
      e.gw.unforward(e.fwd);
    }
  }
}

function info(e: Entry): ForwardInfo {
  const ip = e.target();
  return {
    domid: e.domid, spec: formatForwardSpec(e.spec), proto: e.spec.proto, hostAddress: e.spec.hostAddress, hostPort: e.fwd.boundPort,
    guestPort: e.spec.guestPort, bridge: e.gw.bridge, guestAddress: ip === undefined ? null : formatIpv4(ip),
  };
}
