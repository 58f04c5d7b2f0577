// The vif's bridge= value as vif-openvswitch spells it: NAME, NAME.TAG, NAME:TRUNK1:TRUNK2 or
// NAME.TAG:TRUNK1:TRUNK2 (xl-network-configuration(5) passes it to the hotplug script).
import { XenError } from '../errors.js';
export const VLAN_MIN = 1;
export const VLAN_MAX = 4094;
/** The untagged segment of a bridge: frames without a tag (or with the priority tag, VID 0). */
export const NATIVE_VID = 0;
/** A Linux interface name: at most IFNAMSIZ-1 bytes. */
export const IFNAME_MAX = 15;
const SPEC_RE = /^([^.:]+)(?:\.([0-9]+))?((?::[0-9]+)*)$/;
const NAME_RE = /^[A-Za-z0-9_-]+$/;
export function checkBridgeName(name) {
    if (!NAME_RE.test(name) || name.length > IFNAME_MAX) {
        throw new XenError('EINVAL', `invalid bridge name '${name}' (letters, digits, _ and -, at most ${IFNAME_MAX})`);
    }
    return name;
}
export function checkVlan(text, spec) {
    const n = /^[0-9]{1,4}$/.test(text) ? Number(text) : NaN;
    if (!(n >= VLAN_MIN && n <= VLAN_MAX))
        throw new XenError('EINVAL', `bridge '${spec}': VLAN '${text}' is not in ${VLAN_MIN}..${VLAN_MAX}`);
    return n;
}
export function parseBridgeSpec(spec) {
    const m = SPEC_RE.exec(spec);
    if (!m)
        throw new XenError('EINVAL', `invalid bridge '${spec}' (want NAME, NAME.TAG or NAME[.TAG]:TRUNK1:TRUNK2...)`);
    const bridge = checkBridgeName(m[1]);
    const tag = m[2] === undefined ? NATIVE_VID : checkVlan(m[2], spec);
    const trunks = m[3] ? [...new Set(m[3].slice(1).split(':').map((t) => checkVlan(t, spec)))].filter((v) => v !== tag) : [];
    return { bridge, tag, trunks };
}
//# sourceMappingURL=bridgespec.js.map