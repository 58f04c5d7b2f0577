// The xenstore ring transport, both ends, including peers that break the protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { setImmediate as tick } from 'node:timers/promises';
import { XENSTORE_CONNECTED, XENSTORE_ERROR_PROTO, XENSTORE_ERROR_RINGIDX, XENSTORE_RECONNECT, XENSTORE_RING_SIZE, XS_INTF_CONNECTION, XS_INTF_ERROR, XS_INTF_REQ_CONS, XS_INTF_REQ_PROD, XS_INTF_RSP_CONS, XS_INTF_RSP_PROD, XS_GET_DOMAIN_PATH, XS_INTF_SERVER_FEATURES, XS_READ, } from '../../../../src/abi/xs_wire.js';
import { PAGE_SIZE } from '../../../../src/abi/xen.js';
import { isXenError } from '../../../../src/errors.js';
import { XsFrameReader, encodeRequest } from '../../../../src/xenstore/common/frames.js';
import { Xenstored } from '../../../../src/xenstore/server/daemon.js';
import { XenstoreRingClient } from '../../../../src/xenstore/client/ring.js';
import { SERVER_FEATURES, serveRing } from '../../../../src/xenstore/server/ring.js';
import { portPair } from '../../../support/xenstore.js';
/** A ring page as frame 1 of a 3-frame buffer, with sentinels around it to catch stray writes. */
function framedPage() {
    const sab = new SharedArrayBuffer(3 * PAGE_SIZE);
    const all = new Uint8Array(sab);
    all.fill(0xa5, 0, PAGE_SIZE);
    all.fill(0xa5, 2 * PAGE_SIZE);
    const page = all.subarray(PAGE_SIZE, 2 * PAGE_SIZE);
    const outside = () => all.subarray(0, PAGE_SIZE).every((b) => b === 0xa5) && all.subarray(2 * PAGE_SIZE).every((b) => b === 0xa5);
    return { page, outside };
}
function word(page, off) {
    return new Uint32Array(page.buffer, page.byteOffset + off, 1);
}
/** A stand-in for xenstored's connection: records what it gets, optionally echoes it. */
class FakeSink {
    echo;
    received = [];
    resets = 0;
    closes = 0;
    send;
    constructor(echo) {
        this.echo = echo;
    }
    receive(bytes) {
        this.received.push(bytes);
        if (this.echo)
            this.send?.(bytes);
    }
    reset() {
        this.resets++;
    }
    close() {
        this.closes++;
    }
    get bytes() {
        return this.received.reduce((n, b) => n + b.byteLength, 0);
    }
}
function setup(echo = true, initialIndex) {
    const { page, outside } = framedPage();
    if (initialIndex !== undefined) {
        for (const off of [XS_INTF_REQ_CONS, XS_INTF_REQ_PROD, XS_INTF_RSP_CONS, XS_INTF_RSP_PROD])
            word(page, off)[0] = initialIndex;
    }
    const [guestPort, dom0Port] = portPair();
    const sink = new FakeSink(echo);
    const server = serveRing({ page, evtchn: dom0Port }, sink);
    sink.send = server.send;
    const client = new XenstoreRingClient({ page, evtchn: guestPort });
    const got = [];
    let closed;
    client.start((b) => got.push(b), (e) => { closed = e; });
    return { page, outside, sink, server, client, got, guestPort, dom0Port, closedErr: () => closed };
}
async function until(cond, what) {
    // Bounded by turns, not time: every step of the protocol takes a few event-loop turns.
    for (let i = 0; i < 20000; i++) {
        if (cond())
            return;
        await tick();
    }
    assert.fail(`never happened: ${what}`);
}
function pattern(n, seed = 7) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++)
        b[i] = (i * 31 + seed) & 0xff;
    return b;
}
const concat = (bs) => Uint8Array.from(bs.flatMap((b) => [...b]));
test('the server advertises reconnection and error reporting before using the ring', () => {
    const { page } = setup();
    assert.equal(word(page, XS_INTF_SERVER_FEATURES)[0], SERVER_FEATURES);
    assert.equal(SERVER_FEATURES, 3);
});
test('bytes cross both rings in order, more than a ring at a time, with wraparound', async () => {
    const r = setup(true);
    const data = pattern(10 * XENSTORE_RING_SIZE + 123);
    // Written in odd-sized pieces so packets straddle the ring's end.
    for (let at = 0; at < data.length; at += 777)
        r.client.send(data.subarray(at, at + 777));
    await until(() => r.got.reduce((n, b) => n + b.byteLength, 0) >= data.length, 'echo of every byte');
    assert.deepEqual(concat(r.got), data);
    assert.deepEqual(concat(r.sink.received), data);
    assert.ok(r.outside(), 'nothing written outside the page');
});
test('indices that start near 2^32 wrap correctly (no end assumes they start at zero)', async () => {
    const r = setup(true, 0xffffff00);
    const data = pattern(3000, 3);
    r.client.send(data);
    await until(() => r.got.reduce((n, b) => n + b.byteLength, 0) >= data.length, 'echo across the wrap');
    assert.deepEqual(concat(r.got), data);
    assert.ok(word(r.page, XS_INTF_REQ_PROD)[0] < 0x1000, 'req_prod wrapped');
});
test('replies wait (flow control) while the guest does not make room, then all arrive', async () => {
    const { page } = framedPage();
    const [guestPort, dom0Port] = portPair();
    const sink = new FakeSink(false);
    const server = serveRing({ page, evtchn: dom0Port }, sink);
    const reply = pattern(5000, 9);
    const backlog = server.send(reply);
    assert.equal(backlog, 5000 - XENSTORE_RING_SIZE, 'one ring of bytes written, the rest held');
    assert.equal(word(page, XS_INTF_RSP_PROD)[0], XENSTORE_RING_SIZE);
    const client = new XenstoreRingClient({ page, evtchn: guestPort });
    const got = [];
    client.start((b) => got.push(b), () => undefined);
    await until(() => got.reduce((n, b) => n + b.byteLength, 0) >= reply.length, 'held replies delivered');
    assert.deepEqual(concat(got), reply);
    assert.equal(server.send(new Uint8Array(0)), 0, 'backlog drained');
});
test('a guest claiming more than 1024 outstanding request bytes breaks its ring, and only its ring', async () => {
    const r = setup(false);
    const prod = word(r.page, XS_INTF_REQ_PROD);
    const cons = word(r.page, XS_INTF_REQ_CONS)[0];
    prod[0] = cons + XENSTORE_RING_SIZE + 1;
    r.guestPort.notify();
    await until(() => word(r.page, XS_INTF_ERROR)[0] !== 0, 'error recorded');
    assert.equal(word(r.page, XS_INTF_ERROR)[0], XENSTORE_ERROR_RINGIDX);
    assert.equal(r.sink.bytes, 0, 'nothing read from a corrupt ring');
    assert.equal(r.sink.resets, 1, "the connection's requests, watches and transactions are dropped");
    // The guest sees the error and fails its connection with a typed error.
    await until(() => r.closedErr() !== undefined, 'client closed');
    assert.ok(isXenError(r.closedErr(), 'EIO'));
    assert.match(r.closedErr().message, /XENSTORE_ERROR_RINGIDX/);
    assert.ok(r.outside());
});
test('a guest that corrupts rsp_cons breaks its ring when xenstored next writes', async () => {
    const r = setup(false);
    word(r.page, XS_INTF_RSP_CONS)[0] = 0x80000000;
    assert.equal(r.server.send(pattern(10)), 0);
    assert.equal(word(r.page, XS_INTF_ERROR)[0], XENSTORE_ERROR_RINGIDX);
    assert.equal(r.server.send(pattern(10)), 0, 'a broken ring takes nothing more');
    assert.ok(r.outside());
});
test('reconnection resets the ring and revives a broken one', async () => {
    const r = setup(false);
    word(r.page, XS_INTF_REQ_PROD)[0] = 0xdeadbeef;
    r.guestPort.notify();
    await until(() => word(r.page, XS_INTF_ERROR)[0] === XENSTORE_ERROR_RINGIDX, 'ring broken');
    // A fresh guest kernel (say, after kexec) takes over the page and asks for a reset.
    r.client.close();
    const fresh = new XenstoreRingClient({ page: r.page, evtchn: r.guestPort });
    const got = [];
    fresh.start((b) => got.push(b), () => undefined);
    const done = fresh.reconnect();
    assert.equal(word(r.page, XS_INTF_CONNECTION)[0], XENSTORE_RECONNECT);
    await done;
    assert.equal(word(r.page, XS_INTF_CONNECTION)[0], XENSTORE_CONNECTED);
    assert.equal(word(r.page, XS_INTF_ERROR)[0], 0);
    assert.equal(word(r.page, XS_INTF_REQ_PROD)[0], 0);
    assert.equal(r.sink.resets, 2);
    fresh.send(pattern(100));
    await until(() => r.sink.bytes === 100, 'requests flow again');
    assert.deepEqual(concat(r.sink.received), pattern(100));
});
test('a connection state already set to reconnect is waited for before use', async () => {
    const { page } = framedPage();
    const [guestPort, dom0Port] = portPair();
    word(page, XS_INTF_CONNECTION)[0] = XENSTORE_RECONNECT;
    const client = new XenstoreRingClient({ page, evtchn: guestPort });
    assert.throws(() => client.send(pattern(4)), (e) => isXenError(e, 'EAGAIN'));
    const sink = new FakeSink(false);
    serveRing({ page, evtchn: dom0Port }, sink);
    await until(() => word(page, XS_INTF_CONNECTION)[0] === XENSTORE_CONNECTED, 'server completed the reset');
    await until(() => { try {
        client.send(pattern(4));
        return true;
    }
    catch {
        return false;
    } }, 'client usable');
    await until(() => sink.bytes === 4, 'request delivered');
});
test('torn packets arrive as a byte stream: the split is invisible to the sink', async () => {
    const r = setup(false);
    const pkt = pattern(40, 1);
    r.client.send(pkt.subarray(0, 7));
    await until(() => r.sink.bytes === 7, 'first piece');
    r.client.send(pkt.subarray(7));
    await until(() => r.sink.bytes === 40, 'rest');
    assert.deepEqual(concat(r.sink.received), pkt);
});
test('xenstored closing the connection records the reason for the guest', async () => {
    const r = setup(false);
    r.server.close(XENSTORE_ERROR_PROTO);
    assert.equal(word(r.page, XS_INTF_ERROR)[0], XENSTORE_ERROR_PROTO);
    await until(() => r.closedErr() !== undefined, 'guest noticed');
    assert.match(r.closedErr().message, /XENSTORE_ERROR_PROTO/);
    assert.throws(() => r.client.send(pattern(1)), (e) => isXenError(e, 'ENOTCONN'));
});
test('a client refuses a server that claims more than 1024 reply bytes', async () => {
    const r = setup(false);
    word(r.page, XS_INTF_RSP_PROD)[0] = word(r.page, XS_INTF_RSP_CONS)[0] + 5000;
    r.dom0Port.notify();
    await until(() => r.closedErr() !== undefined, 'client gave up');
    assert.ok(isXenError(r.closedErr(), 'EIO'));
    assert.equal(r.got.length, 0);
});
test('random index garbage from the guest never throws, never reads or writes outside the page', async () => {
    let seed = 12345;
    const rnd = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed;
    };
    for (let round = 0; round < 200; round++) {
        const r = setup(round % 2 === 0);
        for (let step = 0; step < 10; step++) {
            const off = [XS_INTF_REQ_PROD, XS_INTF_REQ_CONS, XS_INTF_RSP_CONS, XS_INTF_RSP_PROD, XS_INTF_CONNECTION][rnd() % 5];
            word(r.page, off)[0] = rnd() % 3 === 0 ? rnd() : word(r.page, off)[0] + (rnd() % 2100);
            r.guestPort.notify();
            await tick();
            await tick();
            r.server.send(pattern(rnd() % 3000));
        }
        assert.ok(r.sink.bytes <= 10 * 16 * XENSTORE_RING_SIZE);
        assert.ok(r.outside());
        r.server.close(0);
    }
});
// ---- against xenstored itself ----
async function guestOfXenstored(domid) {
    const xenstored = new Xenstored();
    const { page, outside } = framedPage();
    const [guestPort, dom0Port] = portPair();
    xenstored.introduceDomain(domid, { page, evtchn: dom0Port });
    const ring = new XenstoreRingClient({ page, evtchn: guestPort });
    const replies = [];
    const frames = new XsFrameReader((h, p) => replies.push({ type: h.type, reqId: h.reqId, body: p.toString('latin1') }));
    let closed;
    ring.start((b) => frames.push(b), (e) => { closed = e; });
    return { xenstored, page, outside, ring, replies, guestPort, closedErr: () => closed };
}
test('xenstored answers a request torn into pieces across the ring wrap only once it is whole', async () => {
    const g = await guestOfXenstored(3);
    // Move the indices so the packet straddles the end of the ring.
    const filler = encodeRequest(XS_READ, 1, 0, ['/local/domain/3/' + 'x'.repeat(990)]);
    g.ring.send(filler);
    await until(() => g.replies.length === 1, 'filler answered');
    const pkt = encodeRequest(XS_GET_DOMAIN_PATH, 77, 0, ['3']);
    for (const cut of [3, 11, 17]) {
        g.ring.send(pkt.subarray(0, cut));
        await tick();
        await tick();
        assert.equal(g.replies.length, 1, `no reply to ${cut} bytes of a packet`);
        g.ring.send(pkt.subarray(cut));
        await until(() => g.replies.length === 2, 'reply to the whole packet');
        assert.deepEqual(g.replies.pop(), { type: XS_GET_DOMAIN_PATH, reqId: 77, body: '/local/domain/3\0' });
    }
    assert.ok(g.outside());
    await g.xenstored.close();
});
test('xenstored stops a ring with garbage indices, and a reconnect brings the guest back', async () => {
    const g = await guestOfXenstored(4);
    word(g.page, XS_INTF_REQ_PROD)[0] = word(g.page, XS_INTF_REQ_CONS)[0] + 4000;
    g.guestPort.notify();
    await until(() => g.closedErr() !== undefined, 'guest told');
    assert.equal(word(g.page, XS_INTF_ERROR)[0], XENSTORE_ERROR_RINGIDX);
    const fresh = new XenstoreRingClient({ page: g.page, evtchn: g.guestPort });
    const got = [];
    fresh.start((b) => got.push(b), () => undefined);
    await fresh.reconnect();
    fresh.send(encodeRequest(XS_GET_DOMAIN_PATH, 5, 0, ['4']));
    await until(() => got.length > 0, 'answered after reconnect');
    assert.equal(Buffer.from(concat(got)).subarray(16).toString('latin1'), '/local/domain/4\0');
    assert.ok(g.outside());
    await g.xenstored.close();
});
//# sourceMappingURL=ring.test.js.map