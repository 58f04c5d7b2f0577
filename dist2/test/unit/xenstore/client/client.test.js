// The client library against the real xenstored, over each transport: in-process (dom0 code in
// the host), the Unix socket (dom0 tools), and a guest's ring page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import { PAGE_SIZE } from '../../../../src/abi/xen.js';
import { XS_INTF_ERROR, XENSTORE_ERROR_PROTO } from '../../../../src/abi/xs_wire.js';
import { isXenError } from '../../../../src/errors.js';
import { connectLocal } from '../../../../src/xenstore/client/transport.js';
import { XenstoreClient, localDomainPath } from '../../../../src/xenstore/client/client.js';
import { Xenstored } from '../../../../src/xenstore/server/daemon.js';
import { XenstoreRingClient } from '../../../../src/xenstore/client/ring.js';
import { portPair } from '../../../support/xenstore.js';
const unhandled = [];
process.on('unhandledRejection', (e) => unhandled.push(e));
const GUEST = 5;
async function harness(kind) {
    const xenstored = new Xenstored();
    const dom0 = new XenstoreClient(connectLocal(xenstored, 0));
    const dir = mkdtempSync(join(tmpdir(), 'xenode-xs-client-'));
    const socket = join(dir, 'xenstored.sock');
    let open;
    let base = `/test-${kind}`;
    if (kind === 'in-process')
        open = async () => new XenstoreClient(connectLocal(xenstored, 0));
    else if (kind === 'socket') {
        await xenstored.listen(socket);
        open = () => XenstoreClient.connect(socket);
    }
    else {
        // The toolstack's part: the guest's home, then its introduction with the ring page.
        base = localDomainPath(GUEST, 'test');
        await dom0.mkdir(localDomainPath(GUEST));
        await dom0.setPerms(localDomainPath(GUEST), [{ domid: GUEST, perm: 'n' }]);
        let first = true;
        open = async () => {
            // One guest ring; a second connection of the same guest is not a thing, so later
            // "connections" are dom0's (which may write the guest's nodes too).
            if (!first)
                return new XenstoreClient(connectLocal(xenstored, 0));
            first = false;
            const page = new Uint8Array(new SharedArrayBuffer(PAGE_SIZE));
            const [guestPort, dom0Port] = portPair();
            xenstored.introduceDomain(GUEST, { page, evtchn: dom0Port });
            return XenstoreClient.overRing({ page, evtchn: guestPort });
        };
    }
    return {
        xenstored, dom0, open, base,
        done: async () => {
            dom0.close();
            await xenstored.close();
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
for (const kind of ['in-process', 'socket', 'ring']) {
    describe(`client over ${kind}`, () => {
        let h;
        let xs;
        before(async () => {
            h = await harness(kind);
            xs = await h.open();
        });
        after(async () => {
            xs.close();
            await h.done();
        });
        test('read, write, mkdir, directory, rm; ENOENT is a typed, catchable error', async () => {
            const p = `${h.base}/basic`;
            await xs.write(`${p}/a`, 'hello');
            await xs.write(`${p}/bin`, Uint8Array.from([0, 1, 0xff]));
            await xs.mkdir(`${p}/empty`);
            assert.equal(await xs.read(`${p}/a`), 'hello');
            assert.deepEqual([...(await xs.readBytes(`${p}/bin`))], [0, 1, 0xff]);
            assert.equal(await xs.read(`${p}/empty`), '');
            assert.deepEqual(await xs.directory(p), ['a', 'bin', 'empty']);
            await assert.rejects(xs.read(`${p}/missing`), (e) => isXenError(e, 'ENOENT'));
            assert.equal(await xs.readOptional(`${p}/missing`), undefined);
            assert.equal(await xs.exists(`${p}/a`), true);
            await xs.rm(p);
            assert.equal(await xs.exists(`${p}/a`), false);
            await assert.rejects(xs.directory(p), (e) => isXenError(e, 'ENOENT'));
        });
        test('many requests in flight at once are answered each to its caller', async () => {
            const p = `${h.base}/pipe`;
            const n = 300;
            await Promise.all(Array.from({ length: n }, (_, i) => xs.write(`${p}/k${i}`, `v${i}`)));
            const mixed = await Promise.all(Array.from({ length: n }, (_, i) => (i % 3 === 0 ? xs.readOptional(`${p}/none${i}`) : xs.read(`${p}/k${i}`))));
            mixed.forEach((v, i) => assert.equal(v, i % 3 === 0 ? undefined : `v${i}`));
            assert.equal((await xs.directory(p)).length, n);
            await xs.rm(p);
        });
        test('permissions read back as written', async () => {
            const p = `${h.base}/perms`;
            await xs.write(p, '');
            const owner = kind === 'ring' ? GUEST : 0;
            await xs.setPerms(p, [{ domid: owner, perm: 'r' }, { domid: 7, perm: 'b' }]);
            assert.deepEqual(await xs.getPerms(p), [{ domid: owner, perm: 'r' }, { domid: 7, perm: 'b' }]);
            await assert.rejects(xs.setPerms(p, []), (e) => isXenError(e, 'EINVAL'));
        });
        test('a transaction that conflicts is retried, one that throws is aborted', async () => {
            const p = `${h.base}/tx`;
            await xs.write(p, '0');
            const other = await h.open();
            let runs = 0;
            const result = await xs.transaction(async (tx) => {
                runs++;
                const v = Number(await tx.read(p));
                // Someone else changes the node under the first attempt: its commit must fail (EAGAIN).
                if (runs === 1)
                    await other.write(p, '10');
                await tx.write(p, String(v + 1));
                return v + 1;
            });
            assert.equal(runs, 2);
            assert.equal(result, 11);
            assert.equal(await xs.read(p), '11');
            await assert.rejects(xs.transaction(async (tx) => {
                await tx.write(p, 'never');
                throw new Error('changed my mind');
            }), /changed my mind/);
            assert.equal(await xs.read(p), '11');
            if (other !== xs)
                other.close();
        });
        test('watches: the first event at once, then one per change, by iterator and by callback', async () => {
            const p = `${h.base}/watched`;
            await xs.mkdir(p);
            const w = await xs.watch(p);
            const seen = [];
            const cb = await xs.watch(`${p}/b`, (ev) => seen.push(ev));
            assert.deepEqual((await w.next()).value?.path, p);
            await xs.write(`${p}/a`, '1');
            assert.equal((await w.next()).value?.path, `${p}/a`);
            await xs.write(`${p}/b`, '2');
            assert.equal((await w.next()).value?.path, `${p}/b`);
            assert.deepEqual(seen.map((e) => e.path), [`${p}/b`, `${p}/b`]);
            assert.equal(seen[0].token, cb.token);
            await cb.unwatch();
            await xs.write(`${p}/b`, '3');
            assert.equal((await w.next()).value?.path, `${p}/b`);
            assert.equal(seen.length, 2, 'no events after unwatch');
            // Leaving a for-await loop unwatches.
            await xs.write(`${p}/c`, '4');
            for await (const ev of w) {
                assert.equal(ev.path, `${p}/c`);
                break;
            }
            assert.equal((await w.next()).done, true);
        });
        test('wait() resolves when the value arrives and times out with ETIMEDOUT', async () => {
            const p = `${h.base}/state`;
            const other = await h.open();
            const ready = xs.wait(p, (v) => v === '4');
            await other.write(p, '1');
            await other.write(p, '4');
            assert.equal(await ready, '4');
            await assert.rejects(xs.wait(p, (v) => v === 'never', { timeout: 20 }), (e) => isXenError(e, 'ETIMEDOUT'));
            if (other !== xs)
                other.close();
        });
        test('a large directory is read with DIRECTORY_PART', async () => {
            const p = `${h.base}/big`;
            const names = Array.from({ length: 200 }, (_, i) => `a-rather-long-child-name-${i}`);
            // Written by dom0: a guest's node-size quota would not allow a directory this large.
            await Promise.all(names.map((n) => h.dom0.write(`${p}/${n}`, '')));
            assert.deepEqual(await xs.directory(p), names);
            await xs.rm(p);
        });
    });
}
test('dom0 operations: domain path, introduce, release', async () => {
    const h = await harness('in-process');
    const xs = h.dom0;
    assert.equal(await xs.getDomainPath(9), '/local/domain/9');
    assert.equal(await xs.isIntroduced(9), false);
    await xs.introduce(9, 1234, 3);
    assert.equal(await xs.isIntroduced(9), true);
    const released = await xs.watch('@releaseDomain');
    assert.equal((await released.next()).value?.path, '@releaseDomain', 'the first event, at once');
    await xs.release(9);
    assert.equal((await released.next()).value?.path, '@releaseDomain');
    await released.unwatch();
    assert.equal(await xs.isIntroduced(9), false);
    assert.match(await xs.control('help'), /quota/);
    await h.done();
});
test('a connection closed by this end rejects calls in flight and later, and ends watches', async () => {
    const h = await harness('socket');
    const xs = await h.open();
    await xs.mkdir('/c');
    const w = await xs.watch('/c');
    await w.next();
    const inflight = Array.from({ length: 50 }, (_, i) => xs.read(`/c/${i}`));
    const waiting = w.next();
    xs.close();
    for (const p of inflight)
        await assert.rejects(p, (e) => isXenError(e, 'ENOTCONN'));
    await assert.rejects(waiting, (e) => isXenError(e, 'ENOTCONN'));
    await assert.rejects(xs.write('/c/x', 'y'), (e) => isXenError(e, 'ENOTCONN'));
    await h.done();
});
test('xenstored going away mid-request fails every call with ENOTCONN (socket and in-process)', async () => {
    for (const kind of ['socket', 'in-process']) {
        const h = await harness(kind);
        const xs = await h.open();
        await xs.write('/x', '1');
        let closed;
        xs.onClose((e) => { closed = e; });
        const w = await xs.watch('/x');
        await w.next();
        const waiting = assert.rejects(w.next(), (e) => isXenError(e, 'ENOTCONN'));
        // Over the socket the request is still on its way when xenstored goes (in-process,
        // xenstored answers before it returns, so there is nothing in flight to lose).
        const pending = kind === 'socket' ? assert.rejects(xs.read('/x'), (e) => isXenError(e, 'ENOTCONN')) : undefined;
        await h.xenstored.close();
        await pending;
        await waiting;
        await assert.rejects(xs.read('/x'), (e) => isXenError(e, 'ENOTCONN'));
        assert.ok(isXenError(closed, 'ENOTCONN'));
        await h.done();
    }
});
test('a guest that violates the protocol is cut off with XENSTORE_ERROR_PROTO; its calls fail, dom0 carries on', async () => {
    const xenstored = new Xenstored();
    const dom0 = new XenstoreClient(connectLocal(xenstored, 0));
    await dom0.mkdir(localDomainPath(GUEST));
    await dom0.setPerms(localDomainPath(GUEST), [{ domid: GUEST, perm: 'n' }]);
    const page = new Uint8Array(new SharedArrayBuffer(PAGE_SIZE));
    const [guestPort, dom0Port] = portPair();
    xenstored.introduceDomain(GUEST, { page, evtchn: dom0Port });
    const ring = new XenstoreRingClient({ page, evtchn: guestPort });
    const guest = new XenstoreClient(ring);
    assert.equal(await guest.read(localDomainPath(GUEST)), '');
    // A header claiming a 5000-byte payload, written below the client library, then a request.
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(2, 0);
    bad.writeUInt32LE(5000, 12);
    ring.send(bad);
    const pending = guest.read(localDomainPath(GUEST));
    await assert.rejects(pending, (e) => isXenError(e, 'ENOTCONN') && /XENSTORE_ERROR_PROTO/.test(e.message));
    assert.equal(new Uint32Array(page.buffer, XS_INTF_ERROR, 1)[0], XENSTORE_ERROR_PROTO);
    await assert.rejects(guest.read('/'), (e) => isXenError(e, 'ENOTCONN'));
    assert.equal(await dom0.read(localDomainPath(GUEST)), '');
    dom0.close();
    await xenstored.close();
});
test('no unhandled rejections', () => {
    assert.deepEqual(unhandled, []);
});
//# sourceMappingURL=client.test.js.map