import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TYPE, ZoneError, parseZone } from '../../../src/tcpip/dns-zone.js';
test('dns zone: records from the command line, names relative to the origin, a made-up SOA', () => {
    const z = parseZone('zone=Example.TEST. ttl=60 records=@/NS/ns,ns/A/10.0.2.15,www/A/10.0.2.15,@/MX/10/mail,mail.example.test./A/10.0.2.16,@/TXT/hi%20there,ftp/CNAME/www');
    assert.equal(z.origin, 'example.test');
    assert.equal(z.ttl, 60);
    assert.deepEqual([...z.nodes.keys()].sort(), ['example.test', 'ftp.example.test', 'mail.example.test', 'ns.example.test', 'www.example.test']);
    assert.deepEqual(z.nodes.get('www.example.test')[0].data.a, Uint8Array.of(10, 0, 2, 15));
    assert.equal(new TextDecoder().decode(z.nodes.get('example.test').find((r) => r.type === TYPE.TXT).data.text), 'hi there');
    assert.equal(z.soa.data.host, 'ns.example.test');
});
test('dns zone: a bad zone fails at boot with ZoneError, bounded', () => {
    const bad = [
        '', 'zone=', 'zone=-bad..name', 'zone=a.test ttl=-1', 'zone=a.test ttl=99999999999',
        'zone=a.test records=www/A/10.0.0.256', 'zone=a.test records=www/A', 'zone=a.test records=www/AAAA/::1',
        'zone=a.test records=other.test./A/10.0.0.1', 'zone=a.test records=www/CNAME/x,www/A/10.0.0.1',
        'zone=a.test records=@/MX/70000/mail', 'zone=a.test records=@/TXT/%E0%A4%A', `zone=a.test records=@/TXT/${'x'.repeat(256)}`,
        `zone=a.test records=${Array.from({ length: 257 }, (_, i) => `h${i}/A/10.0.0.1`).join(',')}`,
        `zone=${'a'.repeat(64)}.test`,
    ];
    for (const cmdline of bad)
        assert.throws(() => parseZone(cmdline), ZoneError, cmdline.slice(0, 60));
});
//# sourceMappingURL=dns-zone.test.js.map