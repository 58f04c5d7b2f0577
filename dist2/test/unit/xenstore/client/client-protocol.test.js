// The client library against a scripted xenstored: framing, req_id matching, late and forged
// replies, watch routing, and what a broken or closed connection does to calls in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { XS_DIRECTORY, XS_DIRECTORY_PART, XS_ERROR, XS_READ, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_WATCH, XS_WATCH_EVENT, XS_WRITE, readSockmsg, } from '../../../../src/abi/xs_wire.js';
import { isXenError } from '../../../../src/errors.js';
import { encodeRequest } from '../../../../src/xenstore/common/frames.js';
import { XenstoreClient, localDomainPath } from '../../../../src/xenstore/client/client.js';
/** A transport whose far end is the test: it sees each request and answers as it likes. */
class Scripted {
    requests = [];
    onData;
    onClose;
    closed = false;
    answer;
    start(onData, onClose) {
        this.onData = onData;
        this.onClose = onClose;
    }
    send(bytes) {
        const h = readSockmsg(bytes);
        const payload = Buffer.from(bytes.subarray(16, 16 + h.len)).toString('latin1');
        const r = { ...h, parts: payload.split('\0') };
        this.requests.push(r);
        this.answer?.(r);
    }
    close() {
        this.closed = true;
    }
    /** Send a reply packet (split into two chunks at `splitAt` to test reassembly). */
    reply(type, reqId, payload, txId = 0, splitAt) {
        const p = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
        const b = Buffer.concat([Buffer.alloc(16), p]);
        b.writeUInt32LE(type, 0);
        b.writeUInt32LE(reqId, 4);
        b.writeUInt32LE(txId, 8);
        b.writeUInt32LE(p.length, 12);
        if (splitAt === undefined)
            this.onData(b);
        else {
            this.onData(b.subarray(0, splitAt));
            this.onData(b.subarray(splitAt));
        }
    }
}
function setup() {
    const t = new Scripted();
    return { t, xs: new XenstoreClient(t) };
}
test('requests are framed as xsd_sockmsg with NUL-terminated arguments (WRITE values raw)', () => {
    const b = encodeRequest(XS_WRITE, 7, 3, ['/a/b', 'val'], true);
    assert.deepEqual([...b.subarray(0, 16)], [11, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 8, 0, 0, 0]);
    assert.equal(b.subarray(16).toString('latin1'), '/a/b\0val');
    assert.equal(encodeRequest(XS_READ, 1, 0, ['/x']).subarray(16).toString('latin1'), '/x\0');
    assert.throws(() => encodeRequest(XS_WRITE, 1, 0, ['/x', 'v'.repeat(4096)], true), (e) => isXenError(e, 'E2BIG'));
});
test('pipelined replies are matched by req_id, in any order and any chunking', async () => {
    const { t, xs } = setup();
    const reads = ['/a', '/b', '/c'].map((p) => xs.read(p));
    assert.equal(t.requests.length, 3, 'all three in flight at once');
    const ids = t.requests.map((r) => r.reqId);
    assert.equal(new Set(ids).size, 3);
    t.reply(XS_READ, ids[2], 'C', 0, 5);
    t.reply(XS_READ, ids[0], 'A', 0, 17);
    t.reply(XS_READ, ids[1], 'B');
    assert.deepEqual(await Promise.all(reads), ['A', 'B', 'C']);
});
test('late, unknown and duplicate replies are ignored; the connection carries on', async () => {
    const { t, xs } = setup();
    const p = xs.read('/a');
    const id = t.requests[0].reqId;
    t.reply(XS_READ, id + 1000, 'stray');
    t.reply(XS_WATCH_EVENT, 0, '/x\0nobody-watches-this\0');
    t.reply(XS_READ, id, 'A');
    t.reply(XS_READ, id, 'duplicate');
    assert.equal(await p, 'A');
    const q = xs.read('/b');
    t.reply(XS_READ, t.requests[1].reqId, 'B');
    assert.equal(await q, 'B');
});
test('ERROR replies become XenErrors with the errno name; ENOENT is catchable or avoidable', async () => {
    const { t, xs } = setup();
    t.answer = (r) => t.reply(XS_ERROR, r.reqId, 'ENOENT\0');
    await assert.rejects(xs.read('/missing'), (e) => isXenError(e, 'ENOENT') && /XS_READ \/missing/.test(e.message));
    assert.equal(await xs.readOptional('/missing'), undefined);
    assert.equal(await xs.exists('/missing'), false);
    t.answer = (r) => t.reply(XS_ERROR, r.reqId, 'EQUOTA\0');
    await assert.rejects(xs.write('/q', 'v'), (e) => isXenError(e, 'EIO') && /EQUOTA/.test(e.message));
});
test('a reply of the wrong type fails that call only', async () => {
    const { t, xs } = setup();
    t.answer = (r) => t.reply(r.type === XS_READ ? XS_DIRECTORY : r.type, r.reqId, 'x');
    await assert.rejects(xs.read('/a'), (e) => isXenError(e, 'EIO'));
});
test('a closed connection rejects every call in flight and every later call with ENOTCONN', async () => {
    const { t, xs } = setup();
    const inflight = [xs.read('/a'), xs.write('/b', 'v'), xs.directory('/c')];
    const w = xs.watch('/w');
    let closedWith;
    xs.onClose((e) => { closedWith = e; });
    t.onClose(Object.assign(new Error('gone'), { errno: 'ENOTCONN' }));
    for (const p of inflight)
        await assert.rejects(p, (e) => isXenError(e, 'ENOTCONN'));
    await assert.rejects(w, (e) => isXenError(e, 'ENOTCONN'));
    await assert.rejects(xs.read('/later'), (e) => isXenError(e, 'ENOTCONN'));
    assert.ok(closedWith);
    assert.equal(xs.closed, true);
});
test('a payload over 4096 bytes from xenstored breaks the connection, typed', async () => {
    const { t, xs } = setup();
    const p = xs.read('/a');
    const b = Buffer.alloc(16);
    b.writeUInt32LE(XS_READ, 0);
    b.writeUInt32LE(t.requests[0].reqId, 4);
    b.writeUInt32LE(5000, 12);
    t.onData(b);
    await assert.rejects(p, (e) => isXenError(e, 'ENOTCONN') && /5000-byte/.test(e.message));
    assert.equal(t.closed, true);
});
test('watch events are routed by token to iterators and callbacks', async () => {
    const { t, xs } = setup();
    t.answer = (r) => {
        if (r.type === XS_WATCH)
            t.reply(XS_WATCH, r.reqId, 'OK\0');
    };
    const it = await xs.watch('/a', 'tok-a');
    const got = [];
    await xs.watch('/b', (ev) => got.push(`${ev.path} ${ev.token}`), 'tok-b');
    await assert.rejects(xs.watch('/c', 'tok-a'), (e) => isXenError(e, 'EEXIST'));
    t.reply(XS_WATCH_EVENT, 0, '/b/1\0tok-b\0');
    t.reply(XS_WATCH_EVENT, 0, '/a/1\0tok-a\0');
    t.reply(XS_WATCH_EVENT, 0, '/a/2\0tok-a\0');
    assert.deepEqual(got, ['/b/1 tok-b']);
    assert.deepEqual((await it.next()).value, { path: '/a/1', token: 'tok-a' });
    assert.deepEqual((await it.next()).value, { path: '/a/2', token: 'tok-a' });
    const unwatched = it.unwatch();
    const unw = t.requests.at(-1);
    assert.deepEqual(unw.parts.slice(0, 2), ['/a', 'tok-a']);
    t.reply(unw.type, unw.reqId, 'OK\0');
    await unwatched;
    assert.equal((await it.next()).done, true);
});
test('a throwing watch callback does not corrupt the reply stream', async () => {
    const { t, xs } = setup();
    t.answer = (r) => {
        if (r.type === XS_WATCH)
            t.reply(XS_WATCH, r.reqId, 'OK\0');
    };
    await xs.watch('/b', () => { throw new Error('callback bug'); }, 'tok');
    // The bug is rethrown on its own turn, as an EventEmitter listener's would be: catch it here
    // instead of letting the test runner's handler see it.
    const runner = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const reported = new Promise((resolve) => process.once('uncaughtException', resolve)).finally(() => {
        for (const l of runner)
            process.on('uncaughtException', l);
    });
    const p = xs.read('/x');
    const id = t.requests.at(-1).reqId;
    // One chunk: the event, then the reply.
    const ev = Buffer.from('/b\0tok\0', 'latin1');
    const rep = Buffer.from('V', 'latin1');
    const pkt = (type, reqId, body) => {
        const h = Buffer.alloc(16);
        h.writeUInt32LE(type, 0);
        h.writeUInt32LE(reqId, 4);
        h.writeUInt32LE(body.length, 12);
        return Buffer.concat([h, body]);
    };
    t.onData(Buffer.concat([pkt(XS_WATCH_EVENT, 0, ev), pkt(XS_READ, id, rep)]));
    assert.equal(await p, 'V');
    assert.match(String(await reported), /callback bug/);
});
test('transactions retry on EAGAIN at commit, abort when the body throws, and give up after maxAttempts', async () => {
    const { t, xs } = setup();
    let commits = 0;
    let nextTx = 40;
    t.answer = (r) => {
        if (r.type === XS_TRANSACTION_START)
            t.reply(r.type, r.reqId, `${++nextTx}\0`);
        else if (r.type === XS_TRANSACTION_END && r.parts[0] === 'T') {
            t.reply(++commits < 3 ? XS_ERROR : r.type, r.reqId, commits < 3 ? 'EAGAIN\0' : 'OK\0', r.txId);
        }
        else
            t.reply(r.type, r.reqId, 'OK\0', r.txId);
    };
    let runs = 0;
    const result = await xs.transaction(async (tx) => {
        runs++;
        await tx.write('/k', String(runs));
        return runs;
    });
    assert.equal(result, 3);
    const writes = t.requests.filter((r) => r.type === XS_WRITE);
    assert.deepEqual(writes.map((r) => r.txId), [41, 42, 43], 'each attempt in its own transaction');
    await assert.rejects(xs.transaction(async () => { throw new Error('body failed'); }), /body failed/);
    const abort = t.requests.at(-1);
    assert.equal(abort.type, XS_TRANSACTION_END);
    assert.equal(abort.parts[0], 'F');
    commits = -100; // every commit conflicts from now on
    await assert.rejects(xs.transaction(async () => 1, { maxAttempts: 4 }), (e) => isXenError(e, 'EAGAIN'));
});
test('directory falls back to DIRECTORY_PART when the list is too big for one packet', async () => {
    const { t, xs } = setup();
    const names = Array.from({ length: 600 }, (_, i) => `child-number-${i}`);
    const all = Buffer.from(`${names.join('\0')}\0\0`, 'latin1');
    let gen = 1;
    t.answer = (r) => {
        if (r.type === XS_DIRECTORY) {
            t.reply(XS_ERROR, r.reqId, 'E2BIG\0');
            return;
        }
        const off = Number(r.parts[1]);
        // The node changes once while the first listing is under way: the client must restart.
        if (off > 0 && gen === 1)
            gen = 2;
        const chunk = all.subarray(off, off + 2000);
        t.reply(XS_DIRECTORY_PART, r.reqId, Buffer.concat([Buffer.from(`${gen}\0`), chunk]));
    };
    assert.deepEqual(await xs.directory('/big'), names);
    assert.ok(t.requests.filter((r) => r.type === XS_DIRECTORY_PART && r.parts[1] === '0').length >= 2, 'restarted');
});
test('localDomainPath builds /local/domain/<domid> paths and refuses non-domains', () => {
    assert.equal(localDomainPath(0), '/local/domain/0');
    assert.equal(localDomainPath(7, 'device', 'vbd', '51712'), '/local/domain/7/device/vbd/51712');
    assert.throws(() => localDomainPath(0x7ff0), (e) => isXenError(e, 'EINVAL'));
    assert.throws(() => localDomainPath(-1), (e) => isXenError(e, 'EINVAL'));
});
test('arguments with NUL bytes are refused before anything is sent', async () => {
    const { t, xs } = setup();
    await assert.rejects(xs.read('/a\0b'), (e) => isXenError(e, 'EINVAL'));
    assert.equal(t.requests.length, 0);
});
//# sourceMappingURL=client-protocol.test.js.map