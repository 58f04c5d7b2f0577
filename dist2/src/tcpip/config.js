// Static IPv4 configuration as a guest config gives it: xl's vif `ip=` ("10.0.0.5", also
// "10.0.0.5/24") or the Linux kernel's `ip=client:server:gw:netmask:host:dev:autoconf` form.
import { formatIpv4, isUnusableUnicast, maskPrefix, parseIpv4, prefixMask } from './addr.js';
import { TcpipError } from './errors.js';
export function parseStaticConfig(c) {
    let addr = c.ip.trim();
    let netmask = c.netmask !== undefined ? parseIpv4(c.netmask) : undefined;
    let gateway = c.gateway !== undefined ? parseIpv4(c.gateway) : undefined;
    if (addr.includes(':')) {
        const [client, , gw, mask] = addr.split(':');
        addr = client ?? '';
        if (gw)
            gateway = parseIpv4(gw);
        if (mask)
            netmask = parseIpv4(mask);
    }
    const slash = addr.indexOf('/');
    if (slash >= 0) {
        const len = Number(addr.slice(slash + 1));
        if (!/^[0-9]{1,2}$/.test(addr.slice(slash + 1)) || len < 1 || len > 32)
            throw new TcpipError('EINVAL', `bad prefix in ip=${c.ip}`);
        netmask = prefixMask(len);
        addr = addr.slice(0, slash);
    }
    const address = parseIpv4(addr);
    if (isUnusableUnicast(address))
        throw new TcpipError('EINVAL', `ip=${c.ip}: ${addr} cannot be a host's address`);
    netmask ??= prefixMask(24);
    if (maskPrefix(netmask) < 0)
        throw new TcpipError('EINVAL', `netmask ${formatIpv4(netmask)} is not contiguous`);
    if (gateway !== undefined && ((gateway ^ address) & netmask) !== 0) {
        throw new TcpipError('EINVAL', `gateway ${formatIpv4(gateway)} is not on ${addr}'s subnet`);
    }
    return { address, netmask, gateway, dns: (c.dns ?? []).map(parseIpv4) };
}
//# sourceMappingURL=config.js.map