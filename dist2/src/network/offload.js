// Offload completion: what a NIC does for a frame the sender left unfinished, done in dom0 for a
// port that cannot take it so (a VXLAN link, a capture, a frontend without the feature). A
// frame with csumBlank gets its TCP or UDP checksum; a GSO super-frame is cut into MSS-sized
// TCP segments with their own IP ids, lengths, sequence numbers, flags and checksums, as Linux's
// tcp_gso_segment does. Pure functions over bytes (the checksum arithmetic is src/tcpip's); the input is never written.
import { XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_GSO_TYPE_TCPV6 } from '../abi/netif.js';
import { finish, sumBytes } from '../tcpip/checksum.js';
import { ETH_HLEN, ETH_P_8021Q, ETH_P_IPV4, ETH_P_IPV6, VLAN_HLEN } from './mac.js';
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** Linux's TCP_MIN_MSS: a GSO size below it is bogus. */
export const TCP_MIN_MSS = 88;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;
/** Frames whose checksums are complete and verified by the switch that completed them. */
export const COMPLETED = Object.freeze({ csumBlank: false, dataValidated: true });
const IPV6_EXT_HOP = 0;
const IPV6_EXT_ROUTING = 43;
const IPV6_EXT_FRAGMENT = 44;
const IPV6_EXT_DSTOPTS = 60;
/** Parse Ethernet (one optional 802.1Q tag), IPv4 or IPv6, to a TCP or UDP header; null if the frame is not such a packet or is inconsistent. */
export function locateL4(frame) {
    let l3 = ETH_HLEN;
    let type = (frame[12] << 8) | frame[13];
    if (type === ETH_P_8021Q) {
        if (frame.length < ETH_HLEN + VLAN_HLEN)
            return null;
        type = (frame[16] << 8) | frame[17];
        l3 += VLAN_HLEN;
    }
    if (type === ETH_P_IPV4) {
        if (frame.length < l3 + 20 || frame[l3] >> 4 !== 4)
            return null;
        const ihl = (frame[l3] & 0xf) * 4;
        const total = (frame[l3 + 2] << 8) | frame[l3 + 3];
        // A fragment carries no whole L4 packet to checksum.
        const frag = ((frame[l3 + 6] << 8) | frame[l3 + 7]) & 0x3fff;
        if (ihl < 20 || total < ihl || l3 + total > frame.length || frag !== 0)
            return null;
        const proto = frame[l3 + 9];
        return l4Of(frame, { l3, v6: false, ipHdrLen: ihl, l4: l3 + ihl, proto, l4Len: total - ihl });
    }
    if (type === ETH_P_IPV6) {
        if (frame.length < l3 + 40 || frame[l3] >> 4 !== 6)
            return null;
        const payload = (frame[l3 + 4] << 8) | frame[l3 + 5];
        const end = l3 + 40 + payload;
        if (end > frame.length)
            return null;
        let next = frame[l3 + 6];
        let off = l3 + 40;
        while (next === IPV6_EXT_HOP || next === IPV6_EXT_ROUTING || next === IPV6_EXT_DSTOPTS) {
            if (off + 8 > end)
                return null;
            next = frame[off];
            off += (frame[off + 1] + 1) * 8;
        }
        if (next === IPV6_EXT_FRAGMENT || off > end)
            return null;
        return l4Of(frame, { l3, v6: true, ipHdrLen: off - l3, l4: off, proto: next, l4Len: end - off });
    }
    return null;
}
function l4Of(frame, l) {
    if (l.proto === IPPROTO_TCP) {
        if (l.l4Len < 20)
            return null;
        const thl = (frame[l.l4 + 12] >> 4) * 4;
        return thl >= 20 && thl <= l.l4Len ? l : null;
    }
    return l.proto === IPPROTO_UDP && l.l4Len >= 8 ? l : null;
}
function checksumField(l) {
    return l.l4 + (l.proto === IPPROTO_TCP ? 16 : 6);
}
/** Write the L4 checksum of a frame whose headers `l` describes (the frame is the caller's copy). */
function fillL4Checksum(frame, l) {
    const field = checksumField(l);
    frame[field] = 0;
    frame[field + 1] = 0;
    const addrs = l.v6 ? [l.l3 + 8, l.l3 + 40] : [l.l3 + 12, l.l3 + 20];
    let sum = sumBytes(frame, addrs[0], addrs[1] - addrs[0]);
    sum += l.proto + (l.l4Len >>> 16) + (l.l4Len & 0xffff);
    sum = sumBytes(frame, l.l4, l.l4Len, sum);
    let c = finish(sum);
    // UDP sends 0 as "no checksum": a computed 0 is sent as its other form (RFC 768).
    if (c === 0 && l.proto === IPPROTO_UDP)
        c = 0xffff;
    frame[field] = c >> 8;
    frame[field + 1] = c & 0xff;
}
function fillIpv4HeaderChecksum(frame, l3, ihl) {
    frame[l3 + 10] = 0;
    frame[l3 + 11] = 0;
    const c = finish(sumBytes(frame, l3, ihl));
    frame[l3 + 10] = c >> 8;
    frame[l3 + 11] = c & 0xff;
}
/** A copy of the frame with its TCP/UDP checksum filled in; null if it is not a TCP or UDP packet. */
export function completeChecksum(frame) {
    const l = locateL4(frame);
    if (!l)
        return null;
    const out = frame.slice();
    fillL4Checksum(out, l);
    return out;
}
/**
 * Cut a GSO super-frame into TCP segments of at most `mss` payload bytes, each complete
 * (checksums filled). Null if the frame is not a TCP packet of the GSO type's IP version or
 * the MSS is bogus.
 */
export function segmentGso(frame, gso) {
    const l = locateL4(frame);
    if (!l || l.proto !== IPPROTO_TCP || l.v6 !== (gso.type === XEN_NETIF_GSO_TYPE_TCPV6))
        return null;
    if (gso.type !== XEN_NETIF_GSO_TYPE_TCPV4 && gso.type !== XEN_NETIF_GSO_TYPE_TCPV6)
        return null;
    const mss = gso.size;
    if (!Number.isInteger(mss) || mss < TCP_MIN_MSS || mss > 0xffff)
        return null;
    const thl = (frame[l.l4 + 12] >> 4) * 4;
    const hdrEnd = l.l4 + thl;
    const payloadLen = l.l4Len - thl;
    const count = Math.max(1, Math.ceil(payloadLen / mss));
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const seq0 = view.getUint32(l.l4 + 4);
    const id0 = l.v6 ? 0 : view.getUint16(l.l3 + 4);
    const flags0 = frame[l.l4 + 13];
    const out = [];
    for (let i = 0; i < count; i++) {
        const from = i * mss;
        const len = Math.min(mss, payloadLen - from);
        const seg = new Uint8Array(hdrEnd + len);
        seg.set(frame.subarray(0, hdrEnd));
        seg.set(frame.subarray(hdrEnd + from, hdrEnd + from + len), hdrEnd);
        const sv = new DataView(seg.buffer);
        const l4Len = thl + len;
        if (l.v6) {
            sv.setUint16(l.l3 + 4, l.ipHdrLen - 40 + l4Len);
        }
        else {
            sv.setUint16(l.l3 + 2, l.ipHdrLen + l4Len);
            sv.setUint16(l.l3 + 4, (id0 + i) & 0xffff);
            fillIpv4HeaderChecksum(seg, l.l3, l.ipHdrLen);
        }
        sv.setUint32(l.l4 + 4, (seq0 + from) >>> 0);
        let flags = flags0;
        if (i > 0)
            flags &= ~TCP_CWR;
        if (i < count - 1)
            flags &= ~(TCP_FIN | TCP_PSH);
        seg[l.l4 + 13] = flags;
        fillL4Checksum(seg, { ...l, l4Len });
        out.push(seg);
    }
    return out;
}
/** Does a port with these features need the frame completed first? */
export function needsCompletion(info, f) {
    if (info.gso)
        return info.gso.type === XEN_NETIF_GSO_TYPE_TCPV6 ? !f.gsoTcpv6 : !f.gsoTcpv4;
    return info.csumBlank && !f.csumOffload;
}
/** The frames a port without the offloads receives for this one; null if it cannot be completed (dropped). */
export function completeOffloads(frame, info) {
    if (info.gso)
        return segmentGso(frame, info.gso);
    const done = completeChecksum(frame);
    return done && [done];
}
//# sourceMappingURL=offload.js.map