import { NET_FRAME_PLAIN } from '../abi/netif.js';
import { parseMac } from './addr.js';
import { BufferPool } from './bufferpool.js';
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
/** Decode the header; undefined for a frame too short to hold one. */
export function parseEthernet(frame) {
    if (frame.length < 14)
        return undefined;
    let ethertype = (frame[12] << 8) | frame[13];
    let vlan;
    let off = 14;
    if (ethertype === ETHERTYPE_VLAN) {
        if (frame.length < 18)
            return undefined;
        vlan = ((frame[14] << 8) | frame[15]) & 0xfff;
        ethertype = (frame[16] << 8) | frame[17];
        off = 18;
    }
    return { dst: frame.subarray(0, 6), src: frame.subarray(6, 12), vlan, ethertype, payloadOffset: off };
}
export function isBroadcastOrMulticast(mac) {
    return (mac[0] & 1) === 1;
}
export function sameMac(a, b) {
    for (let i = 0; i < 6; i++)
        if (a[i] !== b[i])
            return false;
    return true;
}
/** One interface's Ethernet layer: header writing, VLAN filtering and dispatch by ethertype. */
export class Ethernet {
    net;
    vlan;
    mac;
    /** Bytes of Ethernet header in front of every payload this interface sends. */
    hlen;
    counters = { rxFrames: 0, rxDropped: 0, txFrames: 0, txErrors: 0 };
    #pool = new BufferPool();
    #handlers = new Map();
    constructor(net, vlan) {
        this.net = net;
        this.vlan = vlan;
        this.mac = parseMac(net.mac);
        this.hlen = vlan === undefined ? 14 : 18;
    }
    on(ethertype, fn) {
        this.#handlers.set(ethertype, fn);
    }
    /** A zeroed frame with `payloadLen` bytes after the Ethernet header. */
    alloc(payloadLen) {
        return this.#pool.take(this.hlen + payloadLen).fill(0);
    }
    /** As alloc(), not zeroed: for a caller that writes every byte (TCP). */
    allocRaw(payloadLen) {
        return this.#pool.take(this.hlen + payloadLen);
    }
    transmit(frame, dst, ethertype, info = NET_FRAME_PLAIN) {
        frame.set(dst, 0);
        frame.set(this.mac, 6);
        let off = 12;
        if (this.vlan !== undefined) {
            frame[12] = ETHERTYPE_VLAN >> 8;
            frame[13] = ETHERTYPE_VLAN & 255;
            frame[14] = this.vlan >> 8;
            frame[15] = this.vlan & 255;
            off = 16;
        }
        frame[off] = ethertype >> 8;
        frame[off + 1] = ethertype & 255;
        this.counters.txFrames++;
        // Once the device has consumed the frame (its write resolved), the frame is free again.
        this.net.write(frame, info).then(() => this.#pool.give(frame), () => { this.counters.txErrors++; });
    }
    input(frame, info) {
        const h = parseEthernet(frame);
        if (!h || h.vlan !== this.vlan || (!isBroadcastOrMulticast(h.dst) && !sameMac(h.dst, this.mac))) {
            this.counters.rxDropped++;
            return;
        }
        const fn = this.#handlers.get(h.ethertype);
        if (!fn) {
            this.counters.rxDropped++;
            return;
        }
        this.counters.rxFrames++;
        fn(frame, h.payloadOffset, h.src, info);
    }
}
//# sourceMappingURL=ethernet.js.map