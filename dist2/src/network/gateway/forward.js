// Host port forwards (QEMU's hostfwd): a host socket on ADDRESS:PORT (127.0.0.1 unless told
// otherwise) whose connections (TCP) or datagrams (UDP, one flow per host peer) the gateway
// carries to a guest's port through its own stack, from the gateway's address. The guest's
// address is looked up when a connection arrives (its DHCP lease may come later than the
// forward). Bounded: connections per forward, UDP flows per forward with idle timeouts.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { XenError } from '../../errors.js';
import { formatIpv4 } from '../../tcpip/addr.js';
import { FlowTable } from './flowtable.js';
import { splice } from './splice.js';
export const FORWARD_DEFAULTS = { maxConnections: 1024, maxUdpFlows: 256, udpIdleMs: 60_000 };
/** A forward, listening once open() resolves. */
export class HostForward {
    spec;
    stack;
    target;
    limits;
    localUdp;
    counters = { accepted: 0, refused: 0, datagrams: 0 };
    /** `localUdp`: the UDP ports of the gateway's own address in use by the gateway (not NAT'd). */
    constructor(spec, stack, target, limits, localUdp) {
        this.spec = spec;
        this.stack = stack;
        this.target = target;
        this.limits = limits;
        this.localUdp = localUdp;
    }
}
/** Bind errors as the user should see them. */
function bindError(spec, e) {
    const where = `${spec.hostAddress}:${spec.hostPort}`;
    if (e.code === 'EADDRINUSE')
        return new XenError('EADDRINUSE', `host port ${where} (${spec.proto}) is in use`);
    if (e.code === 'EACCES')
        return new XenError('EACCES', `no permission to listen on ${where} (ports below 1024 need root)`);
    if (e.code === 'EADDRNOTAVAIL')
        return new XenError('EADDRNOTAVAIL', `${spec.hostAddress} is not an address of this host`);
    return new XenError('EIO', `listening on ${where}: ${e.message}`);
}
export class TcpForward extends HostForward {
    #server;
    open() {
        const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (s) => this.#accept(s));
        server.maxConnections = this.limits.maxConnections;
        this.#server = server;
        return new Promise((resolve, reject) => {
            server.once('error', (e) => reject(bindError(this.spec, e)));
            server.listen({ host: this.spec.hostAddress, port: this.spec.hostPort, exclusive: true }, () => {
                server.removeAllListeners('error');
                server.on('error', () => { });
                resolve();
            });
        });
    }
    get boundPort() {
        const a = this.#server?.address();
        return a && typeof a === 'object' ? a.port : this.spec.hostPort;
    }
    #accept(s) {
        s.on('error', () => { });
        s.setNoDelay(true);
        const ip = this.target();
        if (ip === undefined) {
            this.counters.refused++;
            s.resetAndDestroy();
            return;
        }
        this.stack.tcp.connect(formatIpv4(ip), this.spec.guestPort, { noDelay: true }).then((g) => {
            if (s.destroyed) {
                g.reset();
                return;
            }
            this.counters.accepted++;
            splice(s, g, () => { });
        }, () => {
            this.counters.refused++;
            s.resetAndDestroy();
        });
    }
    close() {
        this.#server?.close();
        this.#server = undefined;
    }
}
export class UdpForward extends HostForward {
    #socket;
    /** By host peer ADDRESS:PORT: the port of the gateway's address its datagrams come from. */
    #flows = new FlowTable(this.limits.maxUdpFlows, this.limits.udpIdleMs, (port) => {
        this.stack.udpLayer.unbind(port);
        this.localUdp.delete(port);
    });
    open() {
        const sock = createSocket('udp4');
        this.#socket = sock;
        sock.on('message', (msg, rinfo) => this.#fromHost(msg, rinfo.address, rinfo.port));
        return new Promise((resolve, reject) => {
            sock.once('error', (e) => reject(bindError(this.spec, e)));
            sock.bind({ address: this.spec.hostAddress, port: this.spec.hostPort, exclusive: true }, () => {
                sock.removeAllListeners('error');
                sock.on('error', () => { });
                resolve();
            });
        });
    }
    get boundPort() {
        return this.#socket ? this.#socket.address().port : this.spec.hostPort;
    }
    #fromHost(msg, address, peerPort) {
        const ip = this.target();
        if (ip === undefined)
            return void this.counters.refused++;
        const key = `${address}:${peerPort}`;
        let port = this.#flows.touch(key);
        if (port === undefined) {
            port = this.stack.udpLayer.bindRaw(0, (payload, src, srcPort) => {
                if (src !== this.target() || srcPort !== this.spec.guestPort || !this.#flows.refresh(key, port))
                    return;
                // A copy: dgram sends after its address lookup, and `payload` views a frame the stack reuses.
                this.#socket?.send(Buffer.from(payload), peerPort, address);
            });
            this.localUdp.add(port);
            this.#flows.add(key, port);
        }
        this.counters.datagrams++;
        try {
            this.stack.udpLayer.sendTo(port, ip, this.spec.guestPort, msg);
        }
        catch {
            // Larger than one datagram can be: dropped.
        }
    }
    close() {
        this.#flows.clear();
        this.#socket?.close();
        this.#socket = undefined;
    }
}
export function hostForward(spec, stack, target, limits, localUdp) {
    return spec.proto === 'tcp' ? new TcpForward(spec, stack, target, limits, localUdp) : new UdpForward(spec, stack, target, limits, localUdp);
}
//# sourceMappingURL=forward.js.map