// What `xenode bridge-list` and the API show of the switch: plain data, ready for JSON.
import type { BridgeCounters, BridgePort, PortCounters } from './bridge.js';
import { formatMac } from './mac.js';
import type { Switch } from './switch.js';
import type { VxlanLink } from './vxlan.js';

export interface BridgePortInfo {
  /** vifDOMID.DEVID, vxlanN, ... */
  readonly name: string;
  /** The VLAN of its untagged frames: 0 for the bridge's untagged segment, else its access VLAN. */
  readonly tag: number;
  /** The VLANs it carries tagged; 'all' for a VXLAN link. */
  readonly trunks: number[] | 'all';
  /** The only source MAC it may send from; null: any. */
  readonly mac: string | null;
  /** MACs learned behind it now. */
  readonly learned: number;
  readonly counters: PortCounters;
}

export interface LearnedMac {
  readonly mac: string;
  readonly vlan: number;
  readonly port: string;
  readonly ageSeconds: number;
}

export interface BridgeInfo {
  readonly name: string;
  readonly ports: BridgePortInfo[];
  /** VLANs some port is on (0: the untagged segment). */
  readonly vlans: number[];
  readonly macs: LearnedMac[];
  readonly counters: BridgeCounters & { readonly macs: number; readonly macsNotLearned: number };
}

export interface LinkInfo {
  readonly name: string;
  readonly bridge: string;
  /** The peer's VTEP, ADDRESS:PORT. */
  readonly remote: string;
  readonly local: string;
  /** The untagged segment's VNI; VLAN v uses vni + v. */
  readonly vni: number;
}

function portInfo(p: BridgePort): BridgePortInfo {
  const { native, trunks, mac } = p.mode;
  return { name: p.name, tag: native, trunks: trunks === 'all' ? 'all' : [...trunks].sort((a, b) => a - b),
    mac: mac === null ? null : formatMac(mac), learned: p.learned, counters: { ...p.counters } };
}

export function bridgeInfos(sw: Switch): BridgeInfo[] {
  return sw.bridges().map((b) => ({
    name: b.name,
    ports: [...b.ports].map(portInfo),
    vlans: b.vlans(),
    macs: b.fdbRows().map((r) => ({ mac: formatMac(r.mac), vlan: r.vid, port: r.port.name, ageSeconds: Math.floor(r.ageMs / 1000) })),
    counters: { ...b.counters, macs: b.fdb.size, macsNotLearned: b.fdb.full },
  }));
}

function endpoint(e: { address: string; port: number }): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

export function linkInfo(l: VxlanLink): LinkInfo {
  return { name: l.name, bridge: l.bridge, remote: endpoint(l.remote), local: endpoint(l.vtep.local), vni: l.vni };
}
