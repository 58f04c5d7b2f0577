import { formatMac } from './mac.js';
function portInfo(p) {
    const { native, trunks, mac } = p.mode;
    return { name: p.name, tag: native, trunks: trunks === 'all' ? 'all' : [...trunks].sort((a, b) => a - b),
        mac: mac === null ? null : formatMac(mac), learned: p.learned, counters: { ...p.counters } };
}
export function bridgeInfos(sw) {
    return sw.bridges().map((b) => ({
        name: b.name,
        ports: [...b.ports].map(portInfo),
        vlans: b.vlans(),
        macs: b.fdbRows().map((r) => ({ mac: formatMac(r.mac), vlan: r.vid, port: r.port.name, ageSeconds: Math.floor(r.ageMs / 1000) })),
        counters: { ...b.counters, macs: b.fdb.size, macsNotLearned: b.fdb.full },
    }));
}
function endpoint(e) {
    return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}
export function linkInfo(l) {
    return { name: l.name, bridge: l.bridge, remote: endpoint(l.remote), local: endpoint(l.vtep.local), vni: l.vni };
}
//# sourceMappingURL=info.js.map