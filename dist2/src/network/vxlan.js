// VXLAN (RFC 7348) links between the same-named bridges of two xenode hosts: each frame goes
// over UDP in an 8-byte VXLAN header whose VNI says which segment it belongs to. One socket
// (a VTEP) per local address and port serves every link; a link is a port of its bridge that
// carries every VLAN, the untagged segment as VNI `vni` and VLAN v as `vni + v`, with the
// inner frame untagged (RFC 7348 §6.1). Input is validated: datagrams from anyone but a link's
// peer, short ones, a header without the I flag, unknown VNIs and inner 802.1Q tags are
// dropped and counted. VXLAN has no authentication: link only over networks you trust.
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { NET_FRAME_PLAIN } from '../abi/netif.js';
import { XenError } from '../errors.js';
import { insertTag } from './bridge.js';
import { NATIVE_VID, VLAN_MAX } from './bridgespec.js';
import { ETH_HLEN, ETH_P_8021Q, VLAN_HLEN } from './mac.js';
/** IANA's port for VXLAN. */
export const VXLAN_PORT = 4789;
export const VXLAN_HLEN = 8;
/** The I flag: the VNI is valid. */
export const VXLAN_FLAG_I = 0x08;
export const VNI_MAX = 0xff_ffff;
/** The untagged segment's VNI when none is given; VLAN v is this + v. */
export const VXLAN_DEFAULT_VNI = 0x10_0000;
/** The largest UDP payload over IPv4. */
const UDP_MAX_PAYLOAD = 65_507;
/** Datagrams handed to the socket and not yet sent, per VTEP, before frames are dropped. */
const MAX_IN_FLIGHT = 1024;
const NO_OFFLOADS = { csumOffload: false, gsoTcpv4: false, gsoTcpv6: false };
/** The datagram for a frame of segment `vni`: VXLAN header, then the frame. */
export function vxlanEncap(frame, vni) {
    const d = new Uint8Array(VXLAN_HLEN + frame.length);
    d[0] = VXLAN_FLAG_I;
    d[4] = vni >> 16;
    d[5] = (vni >> 8) & 0xff;
    d[6] = vni & 0xff;
    d.set(frame, VXLAN_HLEN);
    return d;
}
/** A datagram's VNI and inner frame (a view of it), or why it is dropped. */
export function vxlanDecap(d) {
    if (d.length < VXLAN_HLEN + ETH_HLEN)
        return 'short';
    // Reserved bits are ignored on receipt (RFC 7348 §5); the I flag must be set.
    if ((d[0] & VXLAN_FLAG_I) === 0)
        return 'badHeader';
    const frame = d.subarray(VXLAN_HLEN);
    if (frame[12] === ETH_P_8021Q >> 8 && frame[13] === (ETH_P_8021Q & 0xff))
        return 'tagged';
    return { vni: (d[4] << 16) | (d[5] << 8) | d[6], frame };
}
/** ADDRESS[:PORT]; a local endpoint may say port 0 (any free port). */
export function parseEndpoint(text, opts = {}) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::([0-9]{1,5}))?$/.exec(text);
    const address = m?.[1] ?? m?.[2];
    const port = m?.[3] === undefined ? VXLAN_PORT : Number(m[3]);
    if (!address || !isIP(address) || !(port >= (opts.local ? 0 : 1) && port <= 65_535))
        throw new XenError('EINVAL', `invalid endpoint '${text}' (want ADDRESS[:PORT], an IP address)`);
    return { address, port };
}
function key(e) {
    return `${e.address}|${e.port}`;
}
/** A bridge's link to one peer: a port that carries every VLAN. */
export class VxlanLink {
    name;
    vtep;
    remote;
    vni;
    features = NO_OFFLOADS;
    port;
    constructor(name, vtep, remote, vni) {
        this.name = name;
        this.vtep = vtep;
        this.remote = remote;
        this.vni = vni;
    }
    get bridge() {
        return this.port.bridge.name;
    }
    deliver(frame, _info) {
        let vid = NATIVE_VID;
        let inner = frame;
        if (frame.length >= ETH_HLEN + VLAN_HLEN && frame[12] === ETH_P_8021Q >> 8 && frame[13] === (ETH_P_8021Q & 0xff)) {
            vid = ((frame[14] << 8) | frame[15]) & 0xfff;
            inner = new Uint8Array(frame.length - VLAN_HLEN);
            inner.set(frame.subarray(0, 12));
            inner.set(frame.subarray(12 + VLAN_HLEN), 12);
        }
        return this.vtep.send(vxlanEncap(inner, this.vni + vid), this.remote);
    }
    /** A frame of segment `vni` from the peer. */
    receive(vni, frame) {
        const vid = vni - this.vni;
        if (vid < NATIVE_VID || vid > VLAN_MAX)
            return false;
        this.port.input(vid === NATIVE_VID ? frame : insertTag(frame, vid), NET_FRAME_PLAIN);
        return true;
    }
    unlink() {
        this.port.unplug();
    }
}
/** One UDP socket and the links that use it. */
export class Vtep {
    socket;
    local;
    counters = { rxDatagrams: 0, txDatagrams: 0, rxShort: 0, rxBadHeader: 0, rxTagged: 0, rxUnknownVni: 0, rxUnknownPeer: 0, txDropped: 0 };
    /** Peer endpoint → its links (one per bridge linked to it). */
    #links = new Map();
    #inFlight = 0;
    #closed = false;
    constructor(socket, local) {
        this.socket = socket;
        this.local = local;
        socket.on('message', (msg, rinfo) => this.#receive(msg, { address: rinfo.address, port: rinfo.port }));
        // A send to a peer that is not there comes back as an ICMP error on some systems: not fatal.
        socket.on('error', () => { });
    }
    static async bind(local) {
        const socket = createSocket({ type: isIP(local.address) === 6 ? 'udp6' : 'udp4' });
        await new Promise((resolve, reject) => {
            socket.once('error', reject);
            socket.bind(local.port, local.address, () => {
                socket.off('error', reject);
                resolve();
            });
        });
        return new Vtep(socket, { address: local.address, port: socket.address().port });
    }
    links() {
        return [...this.#links.values()].flatMap((s) => [...s]);
    }
    /** Record a link; its VNIs must not overlap another link's to the same peer. */
    add(link) {
        const k = key(link.remote);
        const set = this.#links.get(k) ?? new Set();
        for (const other of set) {
            if (Math.abs(other.vni - link.vni) <= VLAN_MAX) {
                throw new XenError('EEXIST', `VNIs ${link.vni}..${link.vni + VLAN_MAX} overlap those of the link of bridge ${other.bridge} to the same peer`);
            }
        }
        set.add(link);
        this.#links.set(k, set);
    }
    remove(link) {
        const k = key(link.remote);
        const set = this.#links.get(k);
        if (set?.delete(link) && set.size === 0)
            this.#links.delete(k);
    }
    get empty() {
        return this.#links.size === 0;
    }
    send(datagram, to) {
        if (this.#closed || this.#inFlight >= MAX_IN_FLIGHT || datagram.length > UDP_MAX_PAYLOAD) {
            this.counters.txDropped++;
            return false;
        }
        this.#inFlight++;
        this.socket.send(datagram, to.port, to.address, (err) => {
            this.#inFlight--;
            if (err)
                this.counters.txDropped++;
            else
                this.counters.txDatagrams++;
        });
        return true;
    }
    #receive(msg, from) {
        this.counters.rxDatagrams++;
        const links = this.#links.get(key(from));
        if (!links) {
            this.counters.rxUnknownPeer++;
            return;
        }
        const r = vxlanDecap(msg);
        if (typeof r === 'string') {
            this.counters[r === 'short' ? 'rxShort' : r === 'badHeader' ? 'rxBadHeader' : 'rxTagged']++;
            return;
        }
        for (const link of links)
            if (link.receive(r.vni, r.frame))
                return;
        this.counters.rxUnknownVni++;
    }
    close() {
        if (this.#closed)
            return;
        this.#closed = true;
        for (const l of this.links())
            l.unlink();
        this.socket.close();
    }
}
//# sourceMappingURL=vxlan.js.map