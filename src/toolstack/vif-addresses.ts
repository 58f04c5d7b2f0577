// Anti-spoofing at dom0's gateways for vifs with a static ip=: the address is bound to the
// vif's MAC at the gateway of the vif's bridge, so no other guest on that bridge may send from
// it or claim it by ARP (and so pull its NAT flows or forwarded connections, docs/SECURITY.md),
// whether or not the domain has a forward. A binding lives as long as its vif: made when the vif
// is plugged, or when its bridge gets a gateway later; dropped when the vif or domain goes.
import type { Gateway } from '../network/gateway/gateway.js';
import { parseIpv4, type Ipv4 } from '../tcpip/addr.js';
import type { DomainVif } from './domconfig.js';
import { DEFAULT_BRIDGE } from './vifs.js';

interface Binding {
  readonly bridge: string;
  readonly ip: Ipv4;
  readonly mac: string;
}

/** The vif's static IPv4 address: the first of its ip= list (each A.B.C.D with an optional /prefix). */
export function staticAddress(vif: DomainVif): Ipv4 | undefined {
  const first = vif.ip?.split(/\s+/).map((a) => a.split('/')[0]!).find((a) => /^[0-9.]+$/.test(a));
  return first === undefined ? undefined : parseIpv4(first);
}

export class VifAddresses {
  /** By `domid/devid`. */
  readonly #bindings = new Map<string, Binding>();

  /** `gatewayOf(bridge)`: the bridge's gateway if it has one (never attaches one). */
  constructor(private readonly gatewayOf: (bridge: string) => Gateway | undefined) {}

  /** The domain's vif is plugged (its MAC settled). */
  add(domid: number, vif: DomainVif): void {
    this.remove(domid, vif.devid);
    const ip = staticAddress(vif);
    const bridge = vif.bridge ?? DEFAULT_BRIDGE;
    // A gateway serves a bridge's untagged segment only.
    if (ip === undefined || vif.mac === undefined || /[.:]/.test(bridge)) return;
    const b: Binding = { bridge, ip, mac: vif.mac };
    this.#bindings.set(`${domid}/${vif.devid}`, b);
    this.gatewayOf(bridge)?.bind(b.ip, b.mac);
  }

  remove(domid: number, devid: number): void {
    const key = `${domid}/${devid}`;
    const b = this.#bindings.get(key);
    if (!b) return;
    this.#bindings.delete(key);
    this.gatewayOf(b.bridge)?.unbind(b.ip, b.mac);
  }

  removeDomain(domid: number): void {
    for (const key of [...this.#bindings.keys()]) if (key.startsWith(`${domid}/`)) this.remove(domid, Number(key.slice(key.indexOf('/') + 1)));
  }

  /** `gw` was just attached to its bridge: the static addresses of vifs already there are bound. */
  gatewayAttached(gw: Gateway): void {
    for (const b of this.#bindings.values()) if (b.bridge === gw.bridge) gw.bind(b.ip, b.mac);
  }
}
