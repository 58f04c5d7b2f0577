import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RCODE, answerQuery as answer } from '../../../src/tcpip/dns-server.js';
import { TYPE, parseZone } from '../../../src/tcpip/dns-zone.js';
import { rng } from '../../support/random.js';
const zone = parseZone('zone=example.test ttl=300 records=@/NS/ns,ns/A/10.0.2.15,@/A/10.0.2.15,www/A/10.0.2.15,' +
    'mail/A/10.0.2.16,@/MX/10/mail,@/TXT/hello,ftp/CNAME/www,loop1/CNAME/loop2,loop2/CNAME/loop1,out/CNAME/elsewhere.org.,a.b.deep/A/10.0.0.9');
function query(name, qtype, o = {}) {
    const labels = name.split('.').filter((l) => l !== '');
    const q = [(o.id ?? 0x1234) >> 8, (o.id ?? 0x1234) & 255, (o.flags ?? 0x0100) >> 8, (o.flags ?? 0x0100) & 255, 0, o.qdcount ?? 1, 0, 0, 0, 0, 0, 0];
    for (const l of labels)
        q.push(l.length, ...Array.from(l, (c) => c.charCodeAt(0)));
    q.push(0, qtype >> 8, qtype & 255, (o.qclass ?? 1) >> 8, (o.qclass ?? 1) & 255);
    return Uint8Array.from(q);
}
/** Header fields and the records' types and first RDATA bytes. */
function parse(r) {
    const u16 = (o) => (r[o] << 8) | r[o + 1];
    const skipName = (o) => {
        for (;;) {
            const l = r[o];
            if (l === 0)
                return o + 1;
            if (l >= 0xc0)
                return o + 2;
            o += 1 + l;
        }
    };
    const counts = [u16(4), u16(6), u16(8), u16(10)];
    let o = 12;
    for (let i = 0; i < counts[0]; i++)
        o = skipName(o) + 4;
    const rrs = [];
    for (let i = 0; i < counts[1] + counts[2] + counts[3]; i++) {
        o = skipName(o);
        const len = u16(o + 8);
        rrs.push({ type: u16(o), rdata: r.subarray(o + 10, o + 10 + len) });
        o += 10 + len;
    }
    assert.equal(o, r.length, 'the message ends where its records do');
    return { id: u16(0), qr: (r[2] & 0x80) !== 0, aa: (r[2] & 0x04) !== 0, tc: (r[2] & 0x02) !== 0, rd: (r[2] & 0x01) !== 0, rcode: r[3] & 15, counts, rrs };
}
test('dns server: A, MX with glue, TXT, CNAME chased, NODATA and NXDOMAIN with the SOA, names compared case-blind', () => {
    let r = parse(answer(query('WWW.Example.Test', TYPE.A), zone));
    assert.deepEqual([r.id, r.qr, r.aa, r.rd, r.rcode], [0x1234, true, true, true, RCODE.NOERROR]);
    assert.deepEqual(r.counts, [1, 1, 0, 0]);
    assert.deepEqual(r.rrs[0].rdata, Uint8Array.of(10, 0, 2, 15));
    r = parse(answer(query('example.test', TYPE.MX), zone));
    assert.deepEqual(r.counts, [1, 1, 0, 1], 'the MX and its host\'s address');
    r = parse(answer(query('ftp.example.test', TYPE.A), zone));
    assert.deepEqual(r.rrs.map((x) => x.type), [TYPE.CNAME, TYPE.A]);
    r = parse(answer(query('example.test', TYPE.TXT), zone));
    assert.equal(new TextDecoder().decode(r.rrs[0].rdata.subarray(1)), 'hello');
    r = parse(answer(query('www.example.test', TYPE.MX), zone));
    assert.deepEqual([r.rcode, r.counts[1], r.counts[2], r.rrs[0].type], [RCODE.NOERROR, 0, 1, TYPE.SOA], 'NODATA');
    r = parse(answer(query('b.deep.example.test', TYPE.A), zone));
    assert.deepEqual([r.rcode, r.counts[1]], [RCODE.NOERROR, 0], 'an empty non-terminal exists');
    r = parse(answer(query('nope.example.test', TYPE.A), zone));
    assert.deepEqual([r.rcode, r.aa, r.counts[2], r.rrs[0].type], [RCODE.NXDOMAIN, true, 1, TYPE.SOA]);
    r = parse(answer(query('example.test', TYPE.SOA), zone));
    assert.deepEqual(r.rrs.map((x) => x.type), [TYPE.SOA]);
    r = parse(answer(query('example.test', 255), zone));
    assert.deepEqual(r.rrs.slice(0, r.counts[1]).map((x) => x.type).sort((a, b) => a - b), [TYPE.A, TYPE.NS, TYPE.SOA, TYPE.MX, TYPE.TXT]);
    r = parse(answer(query('loop1.example.test', TYPE.A), zone));
    assert.ok(r.counts[1] <= 9 && r.rrs.every((x) => x.type === TYPE.CNAME), 'a CNAME loop ends');
    r = parse(answer(query('out.example.test', TYPE.A), zone));
    assert.deepEqual(r.rrs.map((x) => x.type), [TYPE.CNAME], 'a CNAME out of the zone is not followed');
});
test('dns server: hostile and odd queries get FORMERR, NOTIMP or REFUSED, and responses or runts nothing', () => {
    assert.equal(answer(new Uint8Array(11), zone), undefined, 'shorter than a header');
    assert.equal(answer(query('www.example.test', TYPE.A, { flags: 0x8100 }), zone), undefined, 'a response is never answered');
    const rc = (q) => parse(answer(q, zone)).rcode;
    assert.equal(rc(query('www.example.test', TYPE.A, { qdcount: 0 })), RCODE.FORMERR);
    assert.equal(rc(query('www.example.test', TYPE.A, { qdcount: 2 })), RCODE.FORMERR);
    const ptr = query('www.example.test', TYPE.A);
    ptr[12] = 0xc0;
    ptr[13] = 12; // a question that points at itself
    assert.equal(rc(ptr), RCODE.FORMERR);
    assert.equal(rc(query('www.example.test', TYPE.A).subarray(0, 20)), RCODE.FORMERR, 'a name cut short');
    assert.equal(rc(query('www.example.test', TYPE.A).subarray(0, 32)), RCODE.FORMERR, 'no room for type and class');
    const long = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.');
    assert.equal(rc(query(long, TYPE.A)), RCODE.FORMERR, 'a name over 255 bytes');
    assert.equal(rc(query('www.example.test', TYPE.A, { flags: 0x2800 })), RCODE.NOTIMP, 'opcode UPDATE');
    assert.equal(rc(query('www.example.test', TYPE.A, { qclass: 3 })), RCODE.REFUSED, 'class CHAOS');
    assert.equal(rc(query('www.example.org', TYPE.A)), RCODE.REFUSED, 'outside the zone');
    assert.equal(rc(query('example.test', 252)), RCODE.REFUSED, 'AXFR over UDP');
    assert.equal(parse(answer(query('www.example.org', TYPE.A), zone)).aa, false);
});
test('dns server: a bounded seeded fuzz never throws, never answers more than 512 bytes, never answers a response', () => {
    const r = rng(53);
    const base = query('www.example.test', TYPE.A);
    for (let i = 0; i < 20_000; i++) {
        let q;
        if (i % 2 === 0) {
            q = Uint8Array.from({ length: Math.floor(r() * 80) }, () => Math.floor(r() * 256));
        }
        else {
            q = base.slice();
            for (let k = 0; k < 3; k++)
                q[Math.floor(r() * q.length)] = Math.floor(r() * 256);
        }
        const a = answer(q, zone);
        if (!a)
            continue;
        assert.ok(a.length >= 12 && a.length <= 512);
        assert.ok((a[2] & 0x80) !== 0);
        assert.equal(q[2] & 0x80, 0, 'only queries are answered');
        assert.deepEqual(a.subarray(0, 2), q.subarray(0, 2), 'the id is echoed');
    }
});
test('dns server: an answer too big for 512 bytes is cut at a record and marked TC', () => {
    const many = parseZone(`zone=big.test records=${Array.from({ length: 60 }, (_, i) => `@/A/10.0.0.${i}`).join(',')}`);
    const a = answer(query('big.test', TYPE.A), many);
    const r = parse(a);
    assert.ok(a.length <= 512);
    assert.equal(r.tc, true);
    assert.ok(r.counts[1] > 20 && r.counts[1] < 60, `${r.counts[1]} records fit`);
});
//# sourceMappingURL=dns-server.test.js.map