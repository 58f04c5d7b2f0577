// dom0's gateway on a bridge, QEMU user networking's shape (slirp, gvisor-tap-vsock): a port on
// the bridge's untagged segment that is the subnet's router at .2 (ARP, ICMP echo, DHCP server),
// its DNS relay at .3, the NAT for guest-initiated TCP and UDP to host sockets, and the far end
// of host port forwards. Everything speaks through src/tcpip stacks ("personas") that share the
// port and its MAC; this module reads just enough of each frame to hand it to the right one.
//
// The subnet is a /24 (10.0.2.0/24 by default): gateway .2, DNS .3, DHCP leases from .15.
// The gateway's own address is the host's loopback for NAT (slirp's convention): a guest that
// connects to 10.0.2.2:PORT reaches 127.0.0.1:PORT on the host.
import { getServers } from 'node:dns';
import { IPV4_BROADCAST, formatIpv4, parseIpv4, prefixMask, readIpv4 } from '../../tcpip/addr.js';
import { pseudoHeaderSum, verify } from '../../tcpip/checksum.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, parseEthernet } from '../../tcpip/ethernet.js';
import { XenError } from '../../errors.js';
import { DHCP_SERVER_PORT, DhcpServer } from './dhcpd.js';
import { DNS_PORT, DNS_RELAY_DEFAULTS, DnsRelay } from './dns-relay.js';
import { FORWARD_DEFAULTS, hostForward } from './forward.js';
import { TCP_NAT_DEFAULTS, TcpNat } from './nat-tcp.js';
import { UDP_NAT_DEFAULTS, UdpNat } from './nat-udp.js';
import { Persona, unrefClock } from './persona.js';
import { GatewayPort } from './port.js';
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const TCP_SYN = 0x02;
const TCP_SYN_ACK_RST_FIN = 0x17;
/** slirp's subnet and its gateway's MAC (52:55 then the address). */
export const GATEWAY_DEFAULT_SUBNET = '10.0.2.0/24';
const DEFAULT_MAC = '52:55:0a:00:02:02';
const GATEWAY_HOST = 2;
const DNS_HOST = 3;
const FIRST_LEASE = 15;
const LEASES = 240;
export const GATEWAY_LIMITS = {
    maxPersonas: 256, personaIdleMs: 60_000, tcp: TCP_NAT_DEFAULTS, udp: UDP_NAT_DEFAULTS, dns: DNS_RELAY_DEFAULTS, forward: FORWARD_DEFAULTS,
};
export class Gateway {
    bridge;
    port;
    address;
    dnsAddress;
    limits;
    main;
    dnsPersona;
    dhcp;
    dns;
    tcpNat;
    udpNat;
    #network;
    #netmask;
    #clock;
    #nat = new Map();
    #personas = new Map();
    #forwards = new Set();
    /** UDP ports of the gateway's address its own services use (DHCP, forwards' flows): never NAT'd. */
    #localUdp = new Set([DHCP_SERVER_PORT]);
    #closed = false;
    /** Frames the demultiplexer dropped (not for the gateway, malformed, bad checksum). */
    dropped = 0;
    constructor(bridge, opts) {
        this.bridge = bridge;
        const [net, len] = (opts.subnet ?? GATEWAY_DEFAULT_SUBNET).split('/');
        this.#network = parseIpv4(net ?? '');
        if (len !== '24' || (this.#network & 0xff) !== 0)
            throw new XenError('EINVAL', `a gateway's subnet is a /24 such as ${GATEWAY_DEFAULT_SUBNET}, not '${opts.subnet}'`);
        this.#netmask = prefixMask(24);
        this.address = this.#network + GATEWAY_HOST;
        this.dnsAddress = this.#network + DNS_HOST;
        this.limits = { ...GATEWAY_LIMITS, ...opts.limits };
        this.#clock = opts.clock ?? unrefClock;
        this.#nat.set(this.address, '127.0.0.1');
        for (const [from, to] of Object.entries(opts.nat ?? {}))
            this.#nat.set(parseIpv4(from), to);
        this.port = new GatewayPort(`gw.${bridge}`, opts.mac ?? DEFAULT_MAC, opts.mtu ?? 1500, (f, i) => this.#input(f, i));
        const onConn = (p, s) => this.tcpNat.accepted(p, s);
        this.main = new Persona(this.port, this.address, this.#netmask, this.#clock, onConn);
        this.dnsPersona = new Persona(this.port, this.dnsAddress, this.#netmask, this.#clock, onConn);
        this.dhcp = new DhcpServer(this.main.stack, {
            server: this.address, netmask: this.#netmask, dns: this.dnsAddress, first: this.#network + FIRST_LEASE, size: LEASES,
            leaseS: opts.leaseSeconds ?? 3600,
        }, () => this.#clock.now(), (ip, mac) => this.main.learn(ip, mac));
        this.dns = new DnsRelay(this.dnsPersona.stack, opts.dnsUpstream ?? hostResolver(), this.limits.dns);
        const hostAddress = (dst) => this.#nat.get(dst) ?? formatIpv4(dst);
        this.tcpNat = new TcpNat({
            persona: (dst) => this.#persona(dst),
            idle: (p) => this.#idle(p),
            hostAddress,
        }, this.limits.tcp);
        this.udpNat = new UdpNat(this.main.stack, hostAddress, this.limits.udp);
    }
    /** Plug a gateway into `bridge` of `sw` (its untagged segment). */
    static attach(sw, bridge, opts = {}) {
        const gw = new Gateway(bridge, opts);
        gw.port.switchPort = sw.plugInternal(bridge, gw.port, {}, () => gw.close());
        return gw;
    }
    get closed() {
        return this.#closed;
    }
    /** The address leased to the client with this MAC. */
    leaseFor(mac) {
        return this.dhcp.leaseFor(mac);
    }
    /** Open a host port forward to whatever address `target` names when a connection comes. */
    async forward(spec, target) {
        if (this.#closed)
            throw new XenError('ENODEV', `the gateway of ${this.bridge} is closed`);
        const f = hostForward(spec, this.main.stack, target, this.limits.forward, this.#localUdp);
        await f.open();
        this.#forwards.add(f);
        return f;
    }
    unforward(f) {
        if (this.#forwards.delete(f))
            f.close();
    }
    #inSubnet(a) {
        return ((a ^ this.#network) & this.#netmask) === 0;
    }
    #local(a) {
        return a === this.address ? this.main : a === this.dnsAddress ? this.dnsPersona : undefined;
    }
    #persona(dst) {
        if (dst === this.address)
            return this.main;
        let p = this.#personas.get(dst);
        if (p)
            return p;
        if (this.#personas.size >= this.limits.maxPersonas) {
            const idle = [...this.#personas.values()].find((x) => x.flows === 0);
            if (!idle)
                return undefined;
            this.#drop(idle);
        }
        p = new Persona(this.port, dst, 0, this.#clock, (q, s) => this.tcpNat.accepted(q, s));
        this.#personas.set(dst, p);
        return p;
    }
    #idle(p) {
        if (p === this.main)
            return;
        this.#clock.setTimer(this.limits.personaIdleMs, () => {
            if (p.flows === 0 && this.#personas.get(p.address) === p)
                this.#drop(p);
        });
    }
    #drop(p) {
        this.#personas.delete(p.address);
        p.stop();
    }
    #input(frame, info) {
        const h = parseEthernet(frame);
        if (!h || h.vlan !== undefined)
            return void this.dropped++;
        const o = h.payloadOffset;
        if (h.ethertype === ETHERTYPE_ARP) {
            const p = frame.length >= o + 28 ? this.#local(readIpv4(frame, o + 24)) : undefined;
            if (p)
                p.feed(frame, info);
            else
                this.dropped++;
            return;
        }
        if (h.ethertype !== ETHERTYPE_IPV4 || frame.length < o + 20 || frame[o] >> 4 !== 4)
            return void this.dropped++;
        const ihl = (frame[o] & 15) * 4;
        const total = (frame[o + 2] << 8) | frame[o + 3];
        if (ihl < 20 || total < ihl || o + total > frame.length)
            return void this.dropped++;
        const src = readIpv4(frame, o + 12);
        const dst = readIpv4(frame, o + 16);
        // Broadcasts (DHCP) are the router's; everything else must come from the subnet.
        if (dst === IPV4_BROADCAST || dst === ((this.#network | 0xff) >>> 0))
            return this.main.feed(frame, info);
        if (!this.#inSubnet(src) || src === this.address || src === this.dnsAddress)
            return void this.dropped++;
        const local = this.#local(dst);
        if (!local && this.#inSubnet(dst))
            return void this.dropped++; // another host of the segment
        if (local === this.dnsPersona)
            return local.feed(frame, info);
        const proto = frame[o + 9];
        const l4 = o + ihl;
        const l4len = total - ihl;
        const whole = (((frame[o + 6] << 8) | frame[o + 7]) & 0x3fff) === 0;
        const checked = info.csumBlank || info.dataValidated;
        if (whole && proto === PROTO_TCP && l4len >= 20 && (frame[l4 + 13] & TCP_SYN_ACK_RST_FIN) === TCP_SYN) {
            if (!checked && !verify(frame, l4, l4len, pseudoHeaderSum(src, dst, PROTO_TCP, l4len)))
                return void this.dropped++;
            const seq = ((frame[l4 + 4] << 24) | (frame[l4 + 5] << 16) | (frame[l4 + 6] << 8) | frame[l4 + 7]) >>> 0;
            return this.tcpNat.syn({
                frame, info, src, srcMac: h.src, dst, srcPort: (frame[l4] << 8) | frame[l4 + 1], dstPort: (frame[l4 + 2] << 8) | frame[l4 + 3], seq,
            });
        }
        if (whole && proto === PROTO_UDP && l4len >= 8) {
            const dstPort = (frame[l4 + 2] << 8) | frame[l4 + 3];
            if (!(local === this.main && this.#localUdp.has(dstPort))) {
                const len = (frame[l4 + 4] << 8) | frame[l4 + 5];
                const hasSum = frame[l4 + 6] !== 0 || frame[l4 + 7] !== 0;
                if (len < 8 || len > l4len || (hasSum && !checked && !verify(frame, l4, len, pseudoHeaderSum(src, dst, PROTO_UDP, len))))
                    return void this.dropped++;
                const srcPort = (frame[l4] << 8) | frame[l4 + 1];
                if (srcPort === 0 || dstPort === 0)
                    return void this.dropped++;
                this.main.learn(src, h.src);
                return this.udpNat.input(src, srcPort, dst, dstPort, frame.subarray(l4 + 8, l4 + len));
            }
        }
        if (local)
            return local.feed(frame, info);
        const p = proto === PROTO_TCP ? this.#personas.get(dst) : undefined;
        if (p)
            p.feed(frame, info);
        else
            this.dropped++;
    }
    /** Close forwards and flows, stop the stacks; the port comes out of its bridge. */
    close() {
        if (this.#closed)
            return;
        this.#closed = true;
        for (const f of this.#forwards)
            f.close();
        this.#forwards.clear();
        this.tcpNat.close();
        this.udpNat.close();
        this.dns.close();
        for (const p of [...this.#personas.values()])
            this.#drop(p);
        this.main.stop();
        this.dnsPersona.stop();
        this.port.switchPort?.unplug();
        this.port.switchPort = undefined;
    }
}
/** The host's first resolver (from /etc/resolv.conf, as Node reads it). */
export function hostResolver() {
    const first = getServers()[0] ?? '127.0.0.1';
    const m = /^\[(.+)\]:(\d+)$/.exec(first) ?? /^([0-9.]+):(\d+)$/.exec(first);
    return m ? { address: m[1], port: Number(m[2]) } : { address: first, port: DNS_PORT };
}
//# sourceMappingURL=gateway.js.map