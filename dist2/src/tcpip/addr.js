// IPv4 and MAC addresses: numbers and bytes inside the stack, dotted strings at its edges.
import { TcpipError } from './errors.js';
export const IPV4_ANY = 0;
export const IPV4_BROADCAST = 0xffffffff;
export function parseIpv4(s) {
    const parts = s.split('.');
    if (parts.length !== 4)
        throw new TcpipError('EINVAL', `not an IPv4 address: ${JSON.stringify(s)}`);
    let v = 0;
    for (const p of parts) {
        if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) {
            throw new TcpipError('EINVAL', `not an IPv4 address: ${JSON.stringify(s)}`);
        }
        v = v * 256 + Number(p);
    }
    return v;
}
export function formatIpv4(a) {
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
export function isMulticast(a) {
    return a >>> 28 === 0xe;
}
/** An address a host may not take or talk to as a unicast peer. */
export function isUnusableUnicast(a) {
    return a === 0 || a === IPV4_BROADCAST || isMulticast(a) || a >>> 24 === 127 || a >>> 28 === 0xf;
}
/** A netmask from a prefix length. */
export function prefixMask(len) {
    return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}
/** The prefix length of a contiguous mask, or -1. */
export function maskPrefix(mask) {
    for (let len = 0; len <= 32; len++)
        if (prefixMask(len) === mask >>> 0)
            return len;
    return -1;
}
export function readIpv4(b, off) {
    return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}
export function writeIpv4(b, off, a) {
    b[off] = a >>> 24;
    b[off + 1] = a >>> 16;
    b[off + 2] = a >>> 8;
    b[off + 3] = a;
}
export function parseMac(s) {
    const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(s);
    if (!m)
        throw new TcpipError('EINVAL', `not a MAC address: ${JSON.stringify(s)}`);
    return Uint8Array.from(m.slice(1), (h) => parseInt(h, 16));
}
export function formatMac(b, off = 0) {
    const out = [];
    for (let i = 0; i < 6; i++)
        out.push(b[off + i].toString(16).padStart(2, '0'));
    return out.join(':');
}
export const MAC_BROADCAST = new Uint8Array([255, 255, 255, 255, 255, 255]);
//# sourceMappingURL=addr.js.map