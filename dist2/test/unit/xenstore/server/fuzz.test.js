// Random and mutated packets (fixed seed, bounded in count and time): xenstored never throws,
// never answers with an internal error, keeps its store consistent, and other connections
// carry on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { XS_CONTROL, XS_MKDIR, XS_READ, XS_SET_PERMS, XS_TYPE_COUNT, XS_WRITE } from '../../../../src/abi/xs_wire.js';
import { Xenstored } from '../../../../src/xenstore/server/daemon.js';
import { Peer, SocketPeer, packet, show, startDaemon } from '../../../support/xenstore.js';
import { rng } from '../../../support/random.js';
const WORDS = [
    '/', '/a', '/a/b', '/a/b/c', 'rel', 'rel/x', '/local/domain/5/data/f', '/local/domain/5', '/tool/xenstored',
    '@introduceDomain', '@releaseDomain', '@x', '', '//', '/a/', '/bad char', '/\xff', 'x'.repeat(2100),
    '0', '5', '7', '-1', 'abc', 'T', 'F', 'n0', 'r5', 'b7', 'w-1', 'r0x10', 'check', 'quota', 'help', 'log', 'set',
    'nodes', '1', '4096', 'tok', '',
];
function fuzzer(seed) {
    const r = rng(seed);
    const pick = (a) => a[Math.floor(r() * a.length)];
    const int = (n) => Math.floor(r() * n);
    const wellFormed = () => {
        const parts = Array.from({ length: int(5) }, () => pick(WORDS));
        let body = parts.join('\0');
        if (r() < 0.7)
            body += '\0';
        if (r() < 0.3)
            body += pick(WORDS);
        const tx = r() < 0.7 ? 0 : pick([1, 2, 3, int(0xffffffff)]);
        return packet(r() < 0.95 ? int(XS_TYPE_COUNT + 2) : int(0xffffffff), body.slice(0, 4096), tx, int(0xffffffff));
    };
    return () => {
        const roll = r();
        if (roll < 0.6)
            return wellFormed();
        if (roll < 0.85) {
            // Mutate a good packet: flip bytes, cut it, or pad it (the length field stays).
            const p = Buffer.from(wellFormed());
            const k = int(4);
            if (k === 0)
                for (let i = 0; i < 1 + int(4); i++)
                    p[int(p.length)] = int(256);
            if (k === 1)
                return p.subarray(0, int(p.length));
            if (k === 2)
                return Buffer.concat([p, Buffer.from(Array.from({ length: int(40) }, () => int(256)))]);
            if (k === 3)
                p.writeUInt32LE(int(4097), 12);
            return p;
        }
        if (roll < 0.99)
            return Buffer.from(Array.from({ length: int(64) }, () => int(256)));
        // Rarely: a length over the limit, which must cost the sender its connection.
        const h = packet(XS_READ, '/a\0');
        h.writeUInt32LE(4097 + int(1 << 20), 12);
        return h;
    };
}
test('in-process fuzz: dom0 and a guest, 20000 packets or 3 s', () => {
    const lines = [];
    const xs = new Xenstored({ log: (l) => lines.push(l) });
    const d0 = new Peer(xs, 0);
    d0.req(XS_MKDIR, '/local/domain/5/data\0');
    d0.req(XS_SET_PERMS, '/local/domain/5/data\0n5\0');
    d0.req(XS_WRITE, '/keep\0me');
    const next = fuzzer(0x5eed);
    const chunker = rng(42);
    let peers = [new Peer(xs, 0), new Peer(xs, 5)];
    const stop = Date.now() + 3000;
    let sent = 0;
    for (; sent < 20000 && Date.now() < stop; sent++) {
        const i = sent % peers.length;
        if (peers[i].conn.closed)
            peers[i] = new Peer(xs, i === 0 ? 0 : 5);
        const p = peers[i];
        const bytes = next();
        // Random chunking, as a stream transport delivers.
        for (let off = 0; off < bytes.length;) {
            const n = 1 + Math.floor(chunker() * bytes.length);
            assert.doesNotThrow(() => p.conn.receive(bytes.subarray(off, off + n)));
            off += n;
        }
        p.framer.msgs.length = 0;
    }
    assert.ok(sent > 1000, `only ${sent} packets in the time allowed`);
    assert.deepEqual(lines.filter((l) => l.includes('internal error')), []);
    const fresh = new Peer(xs, 0);
    assert.equal(fresh.req(XS_CONTROL, 'check\0'), '0 OK\0');
    assert.equal(fresh.req(XS_READ, '/keep\0').slice(0, 2), '2 ');
});
test('socket fuzz: hostile connections while a bystander works, 3 x 1500 packets or 3 s', async () => {
    const lines = [];
    const d = await startDaemon({ log: (l) => lines.push(l) });
    try {
        const bystander = await SocketPeer.open(d.path);
        const stop = Date.now() + 3000;
        const hostile = async (seed) => {
            const next = fuzzer(seed);
            let peer = await SocketPeer.open(d.path);
            for (let i = 0; i < 1500 && Date.now() < stop; i++) {
                if (peer.closed)
                    peer = await SocketPeer.open(d.path);
                peer.write(next());
                peer.framer.msgs.length = 0;
                if (i % 50 === 0)
                    await new Promise((r) => setImmediate(r));
            }
            peer.close();
        };
        const work = (async () => {
            for (let i = 0; Date.now() < stop && i < 2000; i++) {
                assert.equal(show(await bystander.req(XS_WRITE, `/bystander/k\0${i}`)), '11 OK\0');
                assert.equal(show(await bystander.req(XS_READ, '/bystander/k\0')), `2 ${i}`);
            }
        })();
        await Promise.all([hostile(1), hostile(2), hostile(3), work]);
        assert.equal(show(await bystander.req(XS_CONTROL, 'check\0')), '0 OK\0');
        assert.deepEqual(lines.filter((l) => l.includes('internal error')), []);
        bystander.close();
    }
    finally {
        await d.stop();
    }
});
//# sourceMappingURL=fuzz.test.js.map