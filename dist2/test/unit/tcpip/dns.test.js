import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TcpipError, Timeout } from '../../../src/tcpip/errors.js';
import { readName } from '../../../src/tcpip/dns.js';
import { runPromise, stackPair } from '../../support/tcpip-link.js';
function answer(q, edit = () => { }) {
    // Echo the header and question, then a CNAME to alias.test and an A record for it.
    const qEnd = 12 + q.subarray(12).indexOf(0) + 1 + 4;
    const b = [...q.subarray(0, qEnd)];
    b[2] = 0x81;
    b[3] = 0x80;
    b[7] = 2;
    const alias = [5, ...Buffer.from('alias'), 4, ...Buffer.from('test'), 0];
    b.push(0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, alias.length, ...alias);
    const aliasOff = qEnd + 12;
    b.push(0xc0, aliasOff, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 9, 8, 7);
    edit(b);
    return Uint8Array.from(b);
}
test('DNS: forged and malformed answers are ignored, a CNAME chain resolves, NXDOMAIN and silence fail typed', async () => {
    const { clock, a, b } = stackPair();
    a.configure({ ip: '10.0.0.1/24', dns: ['10.0.0.2'] });
    let mode = 'good';
    const srv = b.udp.bind(53, (q, from) => {
        if (mode === 'silent')
            return;
        if (mode === 'nx') {
            const r = [...q];
            r[2] = 0x81;
            r[3] = 0x83;
            srv.send(Uint8Array.from(r), from.addr, from.port);
            return;
        }
        srv.send(answer(q, (r) => { r[0] ^= 0xff; }), from.addr, from.port); // wrong id
        srv.send(answer(q, (r) => { r[r.length - 17] = r.length; }), from.addr, from.port); // pointer forwards
        srv.send(answer(q).subarray(0, 40), from.addr, from.port); // truncated
        srv.send(answer(q), from.addr, from.port);
    });
    assert.deepEqual(await runPromise(clock, a.dns.resolve('www.example.test')), ['10.9.8.7']);
    assert.deepEqual(await runPromise(clock, a.dns.resolve('10.1.2.3')), ['10.1.2.3']);
    mode = 'nx';
    await assert.rejects(runPromise(clock, a.dns.resolve('nope.test')), (e) => e instanceof TcpipError && e.code === 'ENOTFOUND');
    mode = 'silent';
    await assert.rejects(runPromise(clock, a.dns.resolve('quiet.test')), Timeout);
    // Cached: answered without the (now silent) server until the TTL passes.
    assert.deepEqual(await runPromise(clock, a.dns.resolve('WWW.example.test.')), ['10.9.8.7']);
    await assert.rejects(a.dns.resolve('bad..name'), TcpipError);
});
test('DNS names: compression loops and overlong names are refused', () => {
    assert.equal(readName(Uint8Array.of(0xc0, 0), 0), undefined);
    assert.equal(readName(Uint8Array.of(1, 97, 0xc0, 0), 0), undefined);
    const long = new Uint8Array(300);
    for (let i = 0; i < 290; i += 2) {
        long[i] = 1;
        long[i + 1] = 97;
    }
    assert.equal(readName(long, 0), undefined);
    assert.deepEqual(readName(Uint8Array.of(1, 97, 0, 0xc0, 0), 3), { name: 'a', end: 5 });
});
//# sourceMappingURL=dns.test.js.map