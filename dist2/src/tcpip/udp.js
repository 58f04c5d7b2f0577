// UDP (RFC 768): port bindings, checksums (offloaded when the vif allows), ICMP port
// unreachable for datagrams nobody is bound to.
import { NET_FRAME_PLAIN } from '../abi/netif.js';
import { formatIpv4, parseIpv4 } from './addr.js';
import { fillL4Checksum, pseudoHeaderSum, verify } from './checksum.js';
import { TcpipError } from './errors.js';
import { UNREACH_PORT } from './icmp.js';
import { PROTO_UDP, IPV4_HLEN } from './ipv4.js';
const UDP_HLEN = 8;
const MAX_PAYLOAD = 65535 - IPV4_HLEN - UDP_HLEN;
const EPHEMERAL_LOW = 49152;
export class Udp {
    ip;
    icmp;
    random;
    #ports = new Map();
    rxBad = 0;
    rxNoPort = 0;
    constructor(ip, icmp, random) {
        this.ip = ip;
        this.icmp = icmp;
        this.random = random;
        ip.on(PROTO_UDP, (p) => this.input(p));
    }
    /** Bind `port` (0: any free ephemeral port) and hear its datagrams with their sender. */
    bind(port, handler) {
        const bound = this.bindRaw(port, (payload, src, srcPort) => handler(payload, { addr: formatIpv4(src), port: srcPort }));
        return {
            port: bound,
            send: (data, addr, dport) => this.sendTo(bound, parseIpv4(addr), checkPort(dport), data),
            close: () => this.unbind(bound),
        };
    }
    bindRaw(port, handler) {
        if (port === 0)
            port = this.#ephemeral();
        checkPort(port);
        if (this.#ports.has(port))
            throw new TcpipError('EADDRINUSE', `UDP port ${port} is in use`);
        this.#ports.set(port, handler);
        return port;
    }
    unbind(port) {
        this.#ports.delete(port);
    }
    #ephemeral() {
        for (let i = 0; i < 1000; i++) {
            const p = EPHEMERAL_LOW + Math.floor(this.random() * (65536 - EPHEMERAL_LOW));
            if (!this.#ports.has(p))
                return p;
        }
        throw new TcpipError('EMFILE', 'no free UDP port');
    }
    /** Send a datagram; `src` overrides our address (DHCP sends from 0.0.0.0). Returns false without a route. */
    sendTo(srcPort, dst, dstPort, data, src = this.ip.config.address) {
        if (data.length > MAX_PAYLOAD)
            throw new TcpipError('EINVAL', `UDP payload of ${data.length} bytes is over ${MAX_PAYLOAD}`);
        const len = UDP_HLEN + data.length;
        const frame = this.ip.alloc(len);
        const o = this.ip.l4Offset;
        frame[o] = srcPort >> 8;
        frame[o + 1] = srcPort;
        frame[o + 2] = dstPort >> 8;
        frame[o + 3] = dstPort;
        frame[o + 4] = len >> 8;
        frame[o + 5] = len;
        frame.set(data, o + UDP_HLEN);
        // Offload only what goes out in one frame: fragments cannot be completed by the peer.
        const blank = this.ip.eth.net.offloads.csum && IPV4_HLEN + len <= this.ip.mtu;
        fillL4Checksum(frame, o, len, o + 6, src, dst, PROTO_UDP, blank);
        if (!blank && frame[o + 6] === 0 && frame[o + 7] === 0)
            frame[o + 6] = frame[o + 7] = 0xff;
        return this.ip.output(frame, dst, PROTO_UDP, { info: blank ? { csumBlank: true, dataValidated: false } : NET_FRAME_PLAIN }, src);
    }
    input(p) {
        const b = p.payload;
        if (b.length < UDP_HLEN)
            return void this.rxBad++;
        const len = (b[4] << 8) | b[5];
        if (len < UDP_HLEN || len > b.length)
            return void this.rxBad++;
        const hasSum = b[6] !== 0 || b[7] !== 0;
        if (hasSum && !p.info.csumBlank && !p.info.dataValidated &&
            !verify(b, 0, len, pseudoHeaderSum(p.src, p.dst, PROTO_UDP, len)))
            return void this.rxBad++;
        const dport = (b[2] << 8) | b[3];
        const handler = this.#ports.get(dport);
        if (!handler) {
            this.rxNoPort++;
            if (this.ip.config.address !== 0 && p.dst === this.ip.config.address)
                this.icmp.unreachable(p, UNREACH_PORT);
            return;
        }
        handler(b.subarray(UDP_HLEN, len), p.src, (b[0] << 8) | b[1], p);
    }
}
function checkPort(port) {
    if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new TcpipError('EINVAL', `bad port ${port}`);
    return port;
}
//# sourceMappingURL=udp.js.map