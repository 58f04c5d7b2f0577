// A DNS stub resolver (RFC 1035) for A records over UDP: a random id and source port per
// query, answers accepted only from the server asked and only when they echo the question,
// names decoded with compression pointers that must point backwards (no loops), a bounded
// cache honouring TTLs, CNAME chains followed within one answer.
import { formatIpv4, parseIpv4, readIpv4 } from './addr.js';
import { TcpipError, Timeout } from './errors.js';
const TYPE_A = 1;
const TYPE_CNAME = 5;
const CLASS_IN = 1;
const CACHE_ENTRIES = 256;
const MAX_TTL_S = 86400;
export class DnsResolver {
    udp;
    clock;
    random;
    servers = [];
    #cache = new Map();
    opts;
    constructor(udp, clock, random, opts = {}) {
        this.udp = udp;
        this.clock = clock;
        this.random = random;
        this.opts = { timeoutMs: 2000, attempts: 3, ...opts };
    }
    /** The IPv4 addresses of `name` (a dotted address resolves to itself). */
    async resolve(name) {
        try {
            return [formatIpv4(parseIpv4(name))];
        }
        catch { /* a name, not an address */ }
        const qname = normalize(name);
        const hit = this.#cache.get(qname);
        if (hit && hit.expires > this.clock.now())
            return hit.addrs;
        if (this.servers.length === 0)
            throw new TcpipError('EHOSTUNREACH', 'no DNS server configured');
        for (let attempt = 0; attempt < this.opts.attempts; attempt++) {
            const server = this.servers[attempt % this.servers.length];
            const r = await this.#query(server, qname);
            if (r === undefined)
                continue;
            this.#cache.delete(qname);
            if (this.#cache.size >= CACHE_ENTRIES)
                this.#cache.delete(this.#cache.keys().next().value);
            this.#cache.set(qname, { addrs: r.addrs, expires: this.clock.now() + r.ttl * 1000 });
            if (r.addrs.length === 0)
                throw new TcpipError('ENOTFOUND', `${name} has no IPv4 address`);
            return r.addrs;
        }
        throw new Timeout(`no DNS answer for ${name}`);
    }
    #query(server, qname) {
        const id = Math.floor(this.random() * 0x10000);
        const q = encodeQuery(id, qname);
        return new Promise((resolve, reject) => {
            let port = 0;
            const timer = this.clock.setTimer(this.opts.timeoutMs, () => {
                this.udp.unbind(port);
                resolve(undefined);
            });
            port = this.udp.bindRaw(0, (msg, src, srcPort) => {
                if (src !== server || srcPort !== 53)
                    return;
                const r = parseAnswer(msg, id, qname);
                if (r === 'ignore')
                    return;
                timer.cancel();
                this.udp.unbind(port);
                if (r === 'nxdomain')
                    reject(new TcpipError('ENOTFOUND', `${qname} does not exist`));
                else
                    resolve(r);
            });
            this.udp.sendTo(port, server, 53, q);
        });
    }
}
function normalize(name) {
    const n = name.endsWith('.') ? name.slice(0, -1) : name;
    if (n.length === 0 || n.length > 253)
        throw new TcpipError('EINVAL', `bad DNS name ${JSON.stringify(name)}`);
    for (const l of n.split('.')) {
        if (l.length === 0 || l.length > 63 || !/^[A-Za-z0-9_-]+$/.test(l))
            throw new TcpipError('EINVAL', `bad DNS name ${JSON.stringify(name)}`);
    }
    return n.toLowerCase();
}
export function encodeQuery(id, qname) {
    const labels = qname.split('.');
    const b = new Uint8Array(12 + qname.length + 2 + 4);
    b[0] = id >> 8;
    b[1] = id & 255;
    b[2] = 0x01; // RD
    b[5] = 1; // QDCOUNT
    let o = 12;
    for (const l of labels) {
        b[o++] = l.length;
        for (let i = 0; i < l.length; i++)
            b[o++] = l.charCodeAt(i);
    }
    b[o++] = 0;
    b[o + 1] = TYPE_A;
    b[o + 3] = CLASS_IN;
    return b;
}
/** Read a possibly compressed name at `off`; returns it and where the field ends, or undefined. */
export function readName(b, off) {
    const labels = [];
    let end = -1;
    let o = off;
    let len = 0;
    for (;;) {
        if (o >= b.length)
            return undefined;
        const l = b[o];
        if (l === 0) {
            if (end === -1)
                end = o + 1;
            break;
        }
        if ((l & 0xc0) === 0xc0) {
            if (o + 1 >= b.length)
                return undefined;
            const ptr = ((l & 0x3f) << 8) | b[o + 1];
            if (ptr >= o)
                return undefined; // only backwards: no loops
            if (end === -1)
                end = o + 2;
            o = ptr;
            continue;
        }
        if (l > 63 || o + 1 + l > b.length)
            return undefined;
        len += l + 1;
        if (len > 255)
            return undefined;
        labels.push(String.fromCharCode(...b.subarray(o + 1, o + 1 + l)).toLowerCase());
        o += 1 + l;
    }
    return { name: labels.join('.'), end };
}
function parseAnswer(b, id, qname) {
    if (b.length < 12 || ((b[0] << 8) | b[1]) !== id || (b[2] & 0x80) === 0)
        return 'ignore';
    const qd = (b[4] << 8) | b[5];
    const an = (b[6] << 8) | b[7];
    if (qd !== 1)
        return 'ignore';
    const q = readName(b, 12);
    if (!q || q.name !== qname || q.end + 4 > b.length)
        return 'ignore';
    const rcode = b[3] & 15;
    if (rcode === 3)
        return 'nxdomain';
    if (rcode !== 0)
        return 'ignore';
    let o = q.end + 4;
    const names = new Set([qname]);
    const addrs = [];
    let ttl = MAX_TTL_S;
    for (let i = 0; i < an && i < 64; i++) {
        const n = readName(b, o);
        if (!n || n.end + 10 > b.length)
            return 'ignore';
        o = n.end;
        const type = (b[o] << 8) | b[o + 1];
        const cls = (b[o + 2] << 8) | b[o + 3];
        const rttl = readIpv4(b, o + 4);
        const rdlen = (b[o + 8] << 8) | b[o + 9];
        o += 10;
        if (o + rdlen > b.length)
            return 'ignore';
        if (cls === CLASS_IN && names.has(n.name)) {
            if (type === TYPE_A && rdlen === 4) {
                addrs.push(formatIpv4(readIpv4(b, o)));
                ttl = Math.min(ttl, rttl);
            }
            else if (type === TYPE_CNAME) {
                const t = readName(b, o);
                if (t)
                    names.add(t.name);
            }
        }
        o += rdlen;
    }
    return { addrs, ttl: Math.max(0, Math.min(ttl, MAX_TTL_S)) };
}
//# sourceMappingURL=dns.js.map