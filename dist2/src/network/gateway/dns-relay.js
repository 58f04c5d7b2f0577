// The gateway's DNS relay (slirp's 10.0.2.3): queries to port 53 of the relay's address go to
// the host's resolver (or the configured upstream) from one host UDP socket, each under a fresh
// message id, and answers come back to the guest that asked. Bounded: queries in flight, their
// lifetime, and the sizes of queries and answers.
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
export const DNS_PORT = 53;
const MIN_MESSAGE = 12;
/** EDNS answers over UDP larger than this are not relayed. */
const MAX_MESSAGE = 4096;
export const DNS_RELAY_DEFAULTS = { maxPending: 256, timeoutMs: 5000 };
export class DnsRelay {
    stack;
    upstream;
    limits;
    counters = { queries: 0, answers: 0, dropped: 0 };
    #pending = new Map();
    #socket;
    #nextId;
    constructor(stack, upstream, limits = DNS_RELAY_DEFAULTS) {
        this.stack = stack;
        this.upstream = upstream;
        this.limits = limits;
        this.#nextId = Math.floor(Math.random() * 0x10000);
        stack.udpLayer.bindRaw(DNS_PORT, (msg, src, srcPort) => this.#query(msg, src, srcPort));
    }
    get pending() {
        return this.#pending.size;
    }
    #sock() {
        if (this.#socket)
            return this.#socket;
        const s = createSocket({ type: isIPv6(this.upstream.address) ? 'udp6' : 'udp4' });
        s.on('message', (msg, rinfo) => {
            if (rinfo.port === this.upstream.port && rinfo.address === this.upstream.address)
                this.#answer(msg);
        });
        s.on('error', () => this.#closeSocket());
        s.unref();
        this.#socket = s;
        return s;
    }
    #closeSocket() {
        this.#socket?.close();
        this.#socket = undefined;
    }
    #query(msg, src, srcPort) {
        // A query (QR clear) of sane size, from a unicast sender.
        if (msg.length < MIN_MESSAGE || msg.length > MAX_MESSAGE || (msg[2] & 0x80) !== 0 || srcPort === 0) {
            this.counters.dropped++;
            return;
        }
        if (this.#pending.size >= this.limits.maxPending) {
            this.counters.dropped++;
            return;
        }
        let id = this.#nextId;
        for (let i = 0; this.#pending.has(id); i++) {
            if (i > 0x10000)
                return void this.counters.dropped++;
            id = (id + 1) & 0xffff;
        }
        this.#nextId = (id + 1) & 0xffff;
        const timer = setTimeout(() => {
            this.#pending.delete(id);
            this.counters.dropped++;
        }, this.limits.timeoutMs).unref();
        this.#pending.set(id, { guest: src, guestPort: srcPort, id: (msg[0] << 8) | msg[1], timer });
        const out = Buffer.from(msg);
        out[0] = id >> 8;
        out[1] = id & 255;
        this.counters.queries++;
        this.#sock().send(out, this.upstream.port, this.upstream.address);
    }
    #answer(msg) {
        if (msg.length < MIN_MESSAGE || msg.length > MAX_MESSAGE || (msg[2] & 0x80) === 0)
            return;
        const id = (msg[0] << 8) | msg[1];
        const p = this.#pending.get(id);
        if (!p)
            return;
        this.#pending.delete(id);
        clearTimeout(p.timer);
        const out = new Uint8Array(msg);
        out[0] = p.id >> 8;
        out[1] = p.id & 255;
        this.counters.answers++;
        this.stack.udpLayer.sendTo(DNS_PORT, p.guest, p.guestPort, out);
    }
    close() {
        for (const p of this.#pending.values())
            clearTimeout(p.timer);
        this.#pending.clear();
        this.#closeSocket();
        this.stack.udpLayer.unbind(DNS_PORT);
    }
}
//# sourceMappingURL=dns-relay.js.map