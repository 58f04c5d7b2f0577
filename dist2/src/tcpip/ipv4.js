import { IPV4_BROADCAST, MAC_BROADCAST, formatIpv4, isMulticast, readIpv4, writeIpv4 } from './addr.js';
import { finish, sumBytes, verify } from './checksum.js';
import { NoRoute } from './errors.js';
import { ETHERTYPE_IPV4 } from './ethernet.js';
import { Reassembly } from './reassembly.js';
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const IPV4_HLEN = 20;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const PMTU_ENTRIES = 256;
const MIN_MTU = 576;
export class Ipv4Layer {
    eth;
    arp;
    config = { address: 0, netmask: 0, gateway: undefined };
    reassembly;
    counters = {
        rxPackets: 0, rxBadHeader: 0, rxNotForUs: 0, rxNoProtocol: 0, txPackets: 0, txFragments: 0, txNoRoute: 0,
    };
    #handlers = new Map();
    #pmtu = new Map();
    #id = 0;
    /** Called for a datagram to a protocol nobody handles (ICMP answers protocol unreachable). */
    onUnknownProtocol = () => { };
    constructor(eth, arp, clock, reassembly = {}) {
        this.eth = eth;
        this.arp = arp;
        this.reassembly = new Reassembly(clock, reassembly);
        eth.on(ETHERTYPE_IPV4, (frame, off, _src, info) => this.input(frame, off, info));
    }
    get mtu() {
        return this.eth.net.mtu;
    }
    /** Where an L4 header starts in a frame from alloc(). */
    get l4Offset() {
        return this.eth.hlen + IPV4_HLEN;
    }
    on(proto, fn) {
        this.#handlers.set(proto, fn);
    }
    /** A zeroed frame with room for `l4len` bytes at l4Offset. */
    alloc(l4len) {
        return this.eth.alloc(IPV4_HLEN + l4len);
    }
    /** As alloc(), not zeroed: the caller writes all of its L4 bytes. */
    allocRaw(l4len) {
        return this.eth.allocRaw(IPV4_HLEN + l4len);
    }
    isLocalBroadcast(a) {
        const { address, netmask } = this.config;
        return a === IPV4_BROADCAST || (address !== 0 && netmask !== 0xffffffff && a === ((address | ~netmask) >>> 0));
    }
    /** The next hop for `dst`, or undefined when there is none. */
    nextHop(dst) {
        const { address, netmask, gateway } = this.config;
        if (this.isLocalBroadcast(dst))
            return dst;
        if (address === 0)
            return undefined;
        if (((dst ^ address) & netmask) === 0)
            return dst;
        return gateway;
    }
    /** Throws NoRoute when `dst` is unreachable from here (no address, off-subnet without a gateway). */
    checkRoute(dst) {
        if (this.nextHop(dst) === undefined)
            throw new NoRoute(`no route to ${formatIpv4(dst)}`);
    }
    /** The path MTU towards `dst`. */
    pathMtu(dst) {
        return this.#pmtu.get(dst) ?? this.mtu;
    }
    /** ICMP said packets to `dst` must be at most `mtu` bytes. */
    lowerPathMtu(dst, mtu) {
        const m = Math.max(MIN_MTU, Math.min(mtu, this.mtu));
        if (m >= this.pathMtu(dst))
            return;
        this.#pmtu.delete(dst);
        if (this.#pmtu.size >= PMTU_ENTRIES)
            this.#pmtu.delete(this.#pmtu.keys().next().value);
        this.#pmtu.set(dst, m);
    }
    /**
     * Send the L4 bytes at l4Offset of `frame` (from alloc) to `dst`. Returns false (and counts)
     * when there is no route; larger-than-MTU datagrams are fragmented unless `df`.
     */
    output(frame, dst, proto, opts = {}, src = this.config.address) {
        const hop = this.nextHop(dst);
        if (hop === undefined) {
            this.counters.txNoRoute++;
            return false;
        }
        const l4len = frame.length - this.l4Offset;
        const id = (this.#id = (this.#id + 1) & 0xffff);
        const ttl = opts.ttl ?? 64;
        const broadcast = this.isLocalBroadcast(dst);
        if (IPV4_HLEN + l4len <= this.mtu || opts.info?.gso) {
            this.#header(frame, this.eth.hlen, IPV4_HLEN + l4len, id, opts.df ? FLAG_DF : 0, ttl, proto, src, dst);
            this.counters.txPackets++;
            this.#emit(frame, hop, broadcast, opts.info);
            return true;
        }
        if (opts.df)
            return false;
        const chunk = (this.mtu - IPV4_HLEN) & ~7;
        for (let at = 0; at < l4len; at += chunk) {
            const len = Math.min(chunk, l4len - at);
            const f = this.alloc(len);
            f.set(frame.subarray(this.l4Offset + at, this.l4Offset + at + len), this.l4Offset);
            this.#header(f, this.eth.hlen, IPV4_HLEN + len, id, (at >> 3) | (at + len < l4len ? FLAG_MF : 0), ttl, proto, src, dst);
            this.counters.txFragments++;
            this.#emit(f, hop, broadcast, undefined);
        }
        this.counters.txPackets++;
        return true;
    }
    #emit(frame, hop, broadcast, info) {
        if (broadcast)
            this.eth.transmit(frame, MAC_BROADCAST, ETHERTYPE_IPV4, info);
        else
            this.arp.send(hop, frame, ETHERTYPE_IPV4, info);
    }
    #header(b, o, total, id, frag, ttl, proto, src, dst) {
        b[o] = 0x45;
        b[o + 1] = 0;
        b[o + 2] = total >> 8;
        b[o + 3] = total;
        b[o + 4] = id >> 8;
        b[o + 5] = id;
        b[o + 6] = frag >> 8;
        b[o + 7] = frag;
        b[o + 8] = ttl;
        b[o + 9] = proto;
        b[o + 10] = 0;
        b[o + 11] = 0;
        writeIpv4(b, o + 12, src);
        writeIpv4(b, o + 16, dst);
        const c = finish(sumBytes(b, o, IPV4_HLEN));
        b[o + 10] = c >> 8;
        b[o + 11] = c;
    }
    input(frame, o, info) {
        const avail = frame.length - o;
        if (avail < IPV4_HLEN || frame[o] >> 4 !== 4)
            return void this.counters.rxBadHeader++;
        const ihl = (frame[o] & 15) * 4;
        const total = (frame[o + 2] << 8) | frame[o + 3];
        if (ihl < IPV4_HLEN || ihl > avail || total < ihl || total > avail)
            return void this.counters.rxBadHeader++;
        if (!verify(frame, o, ihl))
            return void this.counters.rxBadHeader++;
        const end = o + total; // Ethernet padding after the datagram is not payload
        const src = readIpv4(frame, o + 12);
        const dst = readIpv4(frame, o + 16);
        const { address } = this.config;
        if (isMulticast(src) || src === IPV4_BROADCAST)
            return void this.counters.rxBadHeader++;
        // Without an address (DHCP in progress) every datagram is looked at: UDP decides.
        if (address !== 0 && dst !== address && !this.isLocalBroadcast(dst))
            return void this.counters.rxNotForUs++;
        const proto = frame[o + 9];
        const fragField = (frame[o + 6] << 8) | frame[o + 7];
        let payload = frame.subarray(o + ihl, end);
        const quote = frame.subarray(o, Math.min(end, o + ihl + 8));
        if (fragField & (FLAG_MF | 0x1fff)) {
            const whole = this.reassembly.add(`${src}:${dst}:${proto}:${(frame[o + 4] << 8) | frame[o + 5]}`, (fragField & 0x1fff) * 8, (fragField & FLAG_MF) !== 0, payload);
            if (!whole)
                return;
            payload = whole;
        }
        this.counters.rxPackets++;
        const p = { src, dst, proto, ttl: frame[o + 8], quote, payload, info };
        const fn = this.#handlers.get(proto);
        if (fn)
            fn(p);
        else {
            this.counters.rxNoProtocol++;
            this.onUnknownProtocol(p);
        }
    }
}
//# sourceMappingURL=ipv4.js.map