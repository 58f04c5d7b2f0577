import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collect, runPromise, runUntil, stackPair } from '../../support/tcpip-link.js';
import { rng } from '../../support/random.js';
function pattern(n, seed = 3) {
    const r = rng(seed);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++)
        b[i] = Math.floor(r() * 256);
    return b;
}
test('ping over ARP, then a TCP connection carries bytes both ways and closes in order', async () => {
    const { clock, a, b } = stackPair();
    const rtt = await runPromise(clock, a.icmp.ping('10.0.0.2'));
    assert.ok(rtt >= 0);
    let server;
    b.tcp.listen(80, (s) => {
        server = collect(s);
        s.write('hello from b');
        s.end();
    });
    const c = await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
    const client = collect(c);
    c.end('hello from a');
    assert.ok(await runUntil(clock, () => client.ended() && (server?.ended() ?? false)));
    assert.equal(client.bytes().toString(), 'hello from b');
    assert.equal(server.bytes().toString(), 'hello from a');
    assert.ok(await runUntil(clock, () => a.tcpLayer.connectionCount === 0 && b.tcpLayer.connectionCount === 0));
});
test('2 MiB each way over a link with loss, duplication and reordering arrive intact', async () => {
    const { clock, link, a, b } = stackPair({ seed: 5, loss: 0.02, duplicate: 0.02, delayMs: 2, jitterMs: 3 });
    const up = pattern(2 << 20, 11);
    const down = pattern(2 << 20, 12);
    let got;
    b.tcp.listen(5001, (s) => {
        got = collect(s);
        s.end(down);
    });
    const c = await runPromise(clock, a.tcp.connect('10.0.0.2', 5001));
    const back = collect(c);
    c.end(up);
    assert.ok(await runUntil(clock, () => back.ended() && (got?.ended() ?? false), 3_600_000));
    assert.ok(link.dropped > 10, `the link dropped ${link.dropped} frames`);
    assert.ok(got.bytes().equals(up));
    assert.ok(back.bytes().equals(down));
});
//# sourceMappingURL=stack.test.js.map