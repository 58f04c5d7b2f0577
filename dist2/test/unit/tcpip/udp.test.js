import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TcpipError } from '../../../src/tcpip/errors.js';
import { PROTO_UDP } from '../../../src/tcpip/ipv4.js';
import { ipv4Frame, runUntil, stackPair } from '../../support/tcpip-link.js';
test('UDP: echo between two stacks with the sender seen; bad checksums and lengths dropped; ports exclusive', async () => {
    const { clock, link, a, b } = stackPair({ offloads: { csum: true } });
    const echo = b.udp.bind(7, (m, from) => echo.send(m, from.addr, from.port));
    const got = [];
    const c = a.udp.bind(0, (m, from) => got.push(`${from.addr}:${from.port} ${Buffer.from(m).toString()}`));
    c.send(new TextEncoder().encode('ping'), '10.0.0.2', 7);
    assert.ok(await runUntil(clock, () => got.length === 1, 1000));
    assert.deepEqual(got, ['10.0.0.2:7 ping']);
    assert.throws(() => b.udp.bind(7, () => { }), TcpipError);
    const u = new Uint8Array(12);
    u[1] = 99;
    u[3] = 7;
    u[5] = 12;
    u[6] = 0x12;
    u[7] = 0x34; // a checksum that cannot be right
    const before = b.udpLayer.rxBad;
    link.b.deliver(ipv4Frame('10.0.0.1', '10.0.0.2', PROTO_UDP, u));
    u[5] = 40;
    u[6] = 0;
    u[7] = 0; // length past the datagram
    link.b.deliver(ipv4Frame('10.0.0.1', '10.0.0.2', PROTO_UDP, u));
    assert.equal(b.udpLayer.rxBad, before + 2);
});
//# sourceMappingURL=udp.test.js.map