// An authoritative DNS server's answers (RFC 1035) for one zone: query bytes in, answer bytes
// out, for a guest to serve over UDP (examples/dns). A query is parsed within
// bounds: a 12-byte header, exactly one question whose name is plain labels (no compression
// pointers: a question has nothing to point back to), at most 255 bytes; anything else gets
// FORMERR, NOTIMP or REFUSED, and responses (QR set) get nothing, so two servers cannot be set
// to answer each other forever. An answer fits 512 bytes (RFC 1035's UDP limit, no EDNS), else
// it is cut and marked TC.
import { TYPE, within } from './dns-zone.js';
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
const CLASS_IN = 1;
const QTYPE_ANY = 255;
const UDP_MAX = 512;
const MAX_NAME = 255;
const MAX_CNAME_CHAIN = 8;
const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
/** The question at offset 12, or the reason it is unusable. */
function parseQuestion(q) {
    let o = 12;
    const labels = [];
    for (;;) {
        if (o >= q.length)
            return 'formerr';
        const len = q[o];
        if (len === 0) {
            o++;
            break;
        }
        if (len > 63)
            return 'formerr'; // a compression pointer or a reserved label type
        if (o + 1 + len > q.length || o + 1 + len - 12 > MAX_NAME)
            return 'formerr';
        labels.push(String.fromCharCode(...q.subarray(o + 1, o + 1 + len)).toLowerCase());
        o += 1 + len;
    }
    if (o + 4 > q.length)
        return 'formerr';
    return { raw: q.subarray(12, o + 4), name: labels.join('.'), qtype: (q[o] << 8) | q[o + 1], qclass: (q[o + 2] << 8) | q[o + 3] };
}
/** Writes a message; names are spelt out except the question's name, which is a pointer to it. */
class Writer {
    qname;
    buf = new Uint8Array(UDP_MAX);
    len = 0;
    overflow = false;
    constructor(qname) {
        this.qname = qname;
    }
    bytes(b) {
        if (this.len + b.length > UDP_MAX) {
            this.overflow = true;
            return;
        }
        this.buf.set(b, this.len);
        this.len += b.length;
    }
    u16(v) {
        this.bytes([v >> 8, v & 255]);
    }
    u32(v) {
        this.bytes([v >>> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255]);
    }
    name(n) {
        if (n === this.qname)
            return this.u16(0xc00c);
        for (const l of n.split('.'))
            this.bytes([l.length, ...Array.from(l, (c) => c.charCodeAt(0))]);
        this.bytes([0]);
    }
    /** Append one record; false (and the message left as it was) when it does not fit. */
    rr(r, zone) {
        const mark = this.len;
        this.name(r.name);
        this.u16(r.type);
        this.u16(CLASS_IN);
        this.u32(r.ttl);
        const lenAt = this.len;
        this.u16(0);
        const start = this.len;
        const d = r.data;
        if (r.type === TYPE.A)
            this.bytes(d.a);
        else if (r.type === TYPE.MX) {
            this.u16(d.pref);
            this.name(d.host);
        }
        else if (r.type === TYPE.TXT)
            this.bytes([d.text.length, ...d.text]);
        else if (r.type === TYPE.SOA) {
            this.name(d.host);
            this.name(`hostmaster.${zone.origin}`);
            for (const v of [1, 3600, 600, 86400, zone.ttl])
                this.u32(v); // serial refresh retry expire minimum
        }
        else
            this.name(d.host);
        if (this.overflow) {
            this.len = mark;
            return false;
        }
        const rdlen = this.len - start;
        this.buf[lenAt] = rdlen >> 8;
        this.buf[lenAt + 1] = rdlen & 255;
        return true;
    }
}
/** The records answering `qtype` at `name`, following CNAMEs inside the zone. */
function lookup(zone, name, qtype) {
    const answers = [];
    let at = name;
    for (let hop = 0; hop <= MAX_CNAME_CHAIN; hop++) {
        const node = zone.nodes.get(at) ?? (at === zone.origin ? [] : undefined);
        if (!node) {
            // An empty non-terminal (a name with names below it) exists, with no records.
            const exists = [...zone.nodes.keys()].some((k) => k.endsWith(`.${at}`));
            return { answers, exists: exists || hop > 0 };
        }
        const cname = node.find((r) => r.type === TYPE.CNAME);
        if (cname && qtype !== TYPE.CNAME && qtype !== QTYPE_ANY) {
            answers.push(cname);
            at = cname.data.host;
            if (!within(at, zone.origin))
                break;
            continue;
        }
        answers.push(...(qtype === QTYPE_ANY ? node : node.filter((r) => r.type === qtype)));
        if (at === zone.origin && (qtype === TYPE.SOA || qtype === QTYPE_ANY))
            answers.push(zone.soa);
        break;
    }
    return { answers, exists: true };
}
/** The answer to a query, or undefined when it gets none (not a query, or too short to answer). */
export function answerQuery(query, zone) {
    if (query.length < 12)
        return undefined;
    const flags = (query[2] << 8) | query[3];
    if (flags & FLAG_QR)
        return undefined;
    const opcode = (flags >> 11) & 15;
    const qdcount = (query[4] << 8) | query[5];
    const q = qdcount === 1 ? parseQuestion(query) : 'formerr';
    const w = new Writer(q === 'formerr' ? '' : q.name);
    const header = (rcode, aa, counts) => {
        w.buf[0] = query[0];
        w.buf[1] = query[1];
        const f = FLAG_QR | (opcode << 11) | (aa ? FLAG_AA : 0) | (flags & FLAG_RD) | rcode;
        w.buf[2] = f >> 8;
        w.buf[3] = f & 255;
        counts.forEach((c, i) => { w.buf[4 + 2 * i] = c >> 8; w.buf[5 + 2 * i] = c & 255; });
    };
    w.len = 12;
    if (q === 'formerr') {
        header(opcode === 0 ? RCODE.FORMERR : RCODE.NOTIMP, false, [0, 0, 0, 0]);
        return w.buf.slice(0, 12);
    }
    w.bytes(q.raw);
    if (opcode !== 0) {
        header(RCODE.NOTIMP, false, [1, 0, 0, 0]);
        return w.buf.slice(0, w.len);
    }
    if ((q.qclass !== CLASS_IN && q.qclass !== QTYPE_ANY) || !within(q.name, zone.origin) || q.qtype === 251 || q.qtype === 252) {
        // Not ours, not the Internet class, or a zone transfer (not over UDP).
        header(RCODE.REFUSED, false, [1, 0, 0, 0]);
        return w.buf.slice(0, w.len);
    }
    const { answers, exists } = lookup(zone, q.name, q.qtype);
    let an = 0;
    let ns = 0;
    let ar = 0;
    let tc = false;
    for (const r of answers) {
        if (w.rr(r, zone))
            an++;
        else
            tc = true;
    }
    if (answers.length === 0 && !tc && w.rr(zone.soa, zone))
        ns++; // NXDOMAIN or NODATA: the SOA for negative caching (RFC 2308)
    // Addresses of the hosts named in the answer, when they are ours (glue, for MX and NS).
    for (const r of answers) {
        if ((r.type !== TYPE.MX && r.type !== TYPE.NS) || tc)
            continue;
        for (const g of zone.nodes.get(r.data.host) ?? [])
            if (g.type === TYPE.A && w.rr(g, zone))
                ar++;
    }
    header(exists ? RCODE.NOERROR : RCODE.NXDOMAIN, true, [1, an, ns, ar]);
    if (tc)
        w.buf[2] = w.buf[2] | (FLAG_TC >> 8);
    return w.buf.slice(0, w.len);
}
//# sourceMappingURL=dns-server.js.map