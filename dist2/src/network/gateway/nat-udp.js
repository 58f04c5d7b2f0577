// NAT of guest-initiated UDP: a flow table keyed by the guest's address and port and the
// destination's, each flow a host UDP socket that hears only from that destination (endpoint-
// dependent filtering, as slirp and gvisor-tap-vsock do it). Flows end after an idle time; the
// table is bounded, the least recently used flow going first when it is full.
import { createSocket } from 'node:dgram';
import { FlowTable } from './flowtable.js';
export const UDP_NAT_DEFAULTS = { maxFlows: 1024, idleMs: 60_000 };
export class UdpNat {
    reply;
    hostAddress;
    counters = { flows: 0, toHost: 0, toGuest: 0 };
    #flows;
    /**
     * `reply` is the stack that sends answers to guests (from the destination's address);
     * `hostAddress` maps a destination to where it is on the host.
     */
    constructor(reply, hostAddress, limits = UDP_NAT_DEFAULTS) {
        this.reply = reply;
        this.hostAddress = hostAddress;
        this.#flows = new FlowTable(limits.maxFlows, limits.idleMs, (s) => s.close());
    }
    get size() {
        return this.#flows.size;
    }
    /** Flows that had to go to make room for new ones. */
    get evicted() {
        return this.#flows.evicted;
    }
    /** A datagram from a guest (its payload valid during the call). */
    input(src, srcPort, dst, dstPort, payload) {
        const key = `${src}:${srcPort}>${dst}:${dstPort}`;
        const socket = this.#flows.touch(key) ?? this.#open(key, src, srcPort, dst, dstPort);
        this.counters.toHost++;
        // A copy: dgram sends after its address lookup, when the frame `payload` views is reused.
        socket.send(Buffer.from(payload), dstPort, this.hostAddress(dst));
    }
    #open(key, src, srcPort, dst, dstPort) {
        const socket = createSocket('udp4');
        const host = this.hostAddress(dst);
        socket.on('message', (msg, rinfo) => {
            if (rinfo.address !== host || rinfo.port !== dstPort || !this.#flows.refresh(key, socket))
                return;
            this.counters.toGuest++;
            try {
                this.reply.udpLayer.sendTo(dstPort, src, srcPort, msg, dst);
            }
            catch {
                // Too large for one datagram: the host's answer costs only itself.
            }
        });
        socket.on('error', () => this.#flows.end(key, socket));
        socket.unref();
        this.counters.flows++;
        return this.#flows.add(key, socket);
    }
    close() {
        this.#flows.clear();
    }
}
//# sourceMappingURL=nat-udp.js.map