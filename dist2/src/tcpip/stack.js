import { formatIpv4, parseIpv4 } from './addr.js';
import { Arp } from './arp.js';
import { realClock } from './clock.js';
import { parseStaticConfig } from './config.js';
import { DhcpClient } from './dhcp.js';
import { DnsResolver } from './dns.js';
import { Timeout } from './errors.js';
import { Ethernet } from './ethernet.js';
import { Icmp } from './icmp.js';
import { Ipv4Layer } from './ipv4.js';
import { Tcp } from './tcp/tcp.js';
import { Udp } from './udp.js';
function cryptoRandom() {
    const a = new Uint32Array(1);
    globalThis.crypto.getRandomValues(a);
    return a[0] / 0x100000000;
}
export class TcpipStack {
    net;
    clock;
    random;
    eth;
    arp;
    ip;
    icmpLayer;
    udpLayer;
    tcpLayer;
    resolver;
    #dhcp;
    #stopListening;
    tcp = {
        listen: (port, onConn, opts) => this.tcpLayer.listen(port, onConn, opts),
        connect: (addr, port, opts) => this.tcpLayer.connect(addr, port, opts),
    };
    udp = {
        bind: (port, handler) => this.udpLayer.bind(port, handler),
    };
    dns = {
        resolve: (name) => this.resolver.resolve(name),
    };
    icmp = {
        ping: (addr, timeoutMs) => this.icmpLayer.ping(parseIpv4(addr), timeoutMs),
    };
    constructor(net, opts = {}) {
        this.net = net;
        this.clock = opts.clock ?? realClock;
        this.random = opts.random ?? cryptoRandom;
        this.eth = new Ethernet(net, opts.vlan);
        this.arp = new Arp(this.eth, this.clock, () => this.ip.config.address, opts.arp);
        this.ip = new Ipv4Layer(this.eth, this.arp, this.clock, opts.reassembly);
        this.icmpLayer = new Icmp(this.ip, this.clock);
        this.udpLayer = new Udp(this.ip, this.icmpLayer, this.random);
        this.tcpLayer = new Tcp(this.ip, this.icmpLayer, this.clock, this.random, opts.tcp);
        this.resolver = new DnsResolver(this.udpLayer, this.clock, this.random);
        this.#stopListening = net.listen((frame, info) => this.eth.input(frame, info));
    }
    get address() {
        const c = this.ip.config;
        if (c.address === 0)
            return undefined;
        return {
            address: formatIpv4(c.address), netmask: formatIpv4(c.netmask),
            gateway: c.gateway === undefined ? undefined : formatIpv4(c.gateway),
            dns: this.resolver.servers.map(formatIpv4),
        };
    }
    /** Use a static address (xl's ip=); announces it with a gratuitous ARP. */
    configure(c) {
        const s = typeof c.ip === 'string' ? parseStaticConfig(c) : c;
        this.#setAddress(s.address, s.netmask, s.gateway, s.dns);
    }
    #setAddress(address, netmask, gateway, dns) {
        const changed = address !== this.ip.config.address;
        if (changed && this.ip.config.address !== 0)
            this.tcpLayer.abortAll('the interface address changed');
        this.ip.config = { address, netmask, gateway };
        this.resolver.servers = [...dns];
        if (changed) {
            this.arp.flush();
            this.arp.announce();
        }
    }
    /** Gratuitous ARP on demand (after resume or migration). */
    announce() {
        this.arp.announce();
    }
    /** Configure by DHCP; resolves with the first lease, rejects with Timeout after `timeoutMs`. */
    dhcp(timeoutMs = 60_000) {
        return new Promise((resolve, reject) => {
            let first = true;
            const timer = this.clock.setTimer(timeoutMs, () => {
                if (first)
                    reject(new Timeout(`no DHCP lease in ${timeoutMs} ms`));
            });
            this.#dhcp?.stop();
            this.#dhcp = new DhcpClient(this.udpLayer, this.ip, this.clock, this.random, (lease) => {
                if (lease)
                    this.#setAddress(lease.address, lease.netmask, lease.gateway, lease.dns);
                else
                    this.#setAddress(0, 0, undefined, []);
                if (lease && first) {
                    first = false;
                    timer.cancel();
                    resolve(lease);
                }
            });
            this.#dhcp.start();
        });
    }
    /** Stop: reset every connection and stop listening to the device. */
    stop() {
        this.#dhcp?.stop();
        this.tcpLayer.abortAll('the stack stopped');
        this.arp.flush();
        this.ip.reassembly.clear();
        this.#stopListening();
    }
}
/** Build a stack on `net` (configure it with configure() or dhcp()). */
export function createStack(net, opts) {
    return new TcpipStack(net, opts);
}
//# sourceMappingURL=stack.js.map