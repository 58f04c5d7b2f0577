// Wire behaviour of every message type, with the reply payloads Debian's cxenstored 4.17 gives
// for the same requests (recorded side by side with xspeer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XS_CONTROL, XS_DIRECTORY, XS_DIRECTORY_PART, XS_GET_DOMAIN_PATH, XS_GET_PERMS, XS_INTRODUCE, XS_IS_DOMAIN_INTRODUCED, XS_MKDIR, XS_READ, XS_RELEASE, XS_RESET_WATCHES, XS_RESUME, XS_RM, XS_SET_PERMS, XS_SET_TARGET, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH, XS_WRITE, } from '../../../../src/abi/xs_wire.js';
import { Xenstored } from '../../../../src/xenstore/server/daemon.js';
import { Peer, packet, show } from '../../../support/xenstore.js';
function dom0() {
    const xs = new Xenstored();
    return { xs, c: new Peer(xs, 0) };
}
test('initial tree is cxenstored\'s: /tool/xenstored', () => {
    const { c } = dom0();
    assert.equal(c.req(XS_DIRECTORY, '/\0'), '1 tool\0');
    assert.equal(c.req(XS_DIRECTORY, '/tool\0'), '1 xenstored\0');
    assert.equal(c.req(XS_READ, '/tool/xenstored\0'), '2 ');
    assert.equal(c.req(XS_GET_PERMS, '/\0'), '3 n0\0');
});
test('read, write, mkdir, directory, rm: replies as cxenstored', () => {
    const { c } = dom0();
    assert.equal(c.req(XS_RM, '/vec\0'), '13 OK\0');
    assert.equal(c.req(XS_WRITE, '/vec/a\0hello'), '11 OK\0');
    assert.equal(c.req(XS_READ, '/vec/a\0'), '2 hello');
    assert.equal(c.req(XS_READ, '/vec/nope\0'), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_WRITE, '/vec/empty\0'), '11 OK\0');
    assert.equal(c.req(XS_READ, '/vec/empty\0'), '2 ');
    assert.equal(c.req(XS_MKDIR, '/vec/dir\0'), '12 OK\0');
    assert.equal(c.req(XS_MKDIR, '/vec/dir\0'), '12 OK\0', 'mkdir of an existing node is fine');
    // Insertion order, as cxenstored (oxenstored sorts).
    assert.equal(c.req(XS_DIRECTORY, '/vec\0'), '1 a\0empty\0dir\0');
    assert.equal(c.req(XS_DIRECTORY, '/vec/a\0'), '1 ');
    assert.equal(c.req(XS_DIRECTORY, '/vec/nope\0'), 'ERROR ENOENT\0');
    // Values are bytes: NULs inside are kept.
    assert.equal(c.req(XS_WRITE, '/vec/bin\0v\0w\0'), '11 OK\0');
    assert.equal(c.req(XS_READ, '/vec/bin\0'), '2 v\0w\0');
    assert.equal(c.req(XS_RM, '/vec\0'), '13 OK\0');
    assert.equal(c.req(XS_RM, '/vec\0'), '13 OK\0', 'rm of a missing node whose parent exists is fine');
    assert.equal(c.req(XS_RM, '/vec/deeper\0'), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_RM, '/\0'), 'ERROR EINVAL\0');
});
test('write creates missing ancestors, which inherit the permissions of the nearest existing one', () => {
    const { c } = dom0();
    assert.equal(c.req(XS_WRITE, '/p\0'), '11 OK\0');
    assert.equal(c.req(XS_SET_PERMS, '/p\0n0\0r5\0'), '14 OK\0');
    assert.equal(c.req(XS_WRITE, '/p/q/r/s\0x'), '11 OK\0');
    assert.equal(c.req(XS_GET_PERMS, '/p/q\0'), '3 n0\0r5\0');
    assert.equal(c.req(XS_GET_PERMS, '/p/q/r/s\0'), '3 n0\0r5\0');
    assert.equal(c.req(XS_READ, '/p/q\0'), '2 ');
});
test('permissions: GET_PERMS/SET_PERMS syntax as libxenstore parses it', () => {
    const { c } = dom0();
    c.req(XS_WRITE, '/t/a\0v');
    assert.equal(c.req(XS_GET_PERMS, '/t/a\0'), '3 n0\0');
    assert.equal(c.req(XS_SET_PERMS, '/t/a\0n0\0r5\0'), '14 OK\0');
    assert.equal(c.req(XS_GET_PERMS, '/t/a\0'), '3 n0\0r5\0');
    // strtol base 0: hex, octal, negative (printed signed), leading blanks.
    assert.equal(c.req(XS_SET_PERMS, '/t/a\0r0x10\0'), '14 OK\0');
    assert.equal(c.req(XS_GET_PERMS, '/t/a\0'), '3 r16\0');
    assert.equal(c.req(XS_SET_PERMS, '/t/a\0r010\0w-1\0'), '14 OK\0');
    assert.equal(c.req(XS_GET_PERMS, '/t/a\0'), '3 r8\0w-1\0');
    assert.equal(c.req(XS_SET_PERMS, '/t/a\0n 5\0'), '14 OK\0');
    assert.equal(c.req(XS_GET_PERMS, '/t/a\0'), '3 n5\0');
    for (const bad of ['/t/a\0x1\0', '/t/a\0r\0', '/t/a\0', '/t/a\0r1', '/t/a\0n5 \0']) {
        assert.equal(c.req(XS_SET_PERMS, bad), 'ERROR EINVAL\0', JSON.stringify(bad));
    }
    assert.equal(c.req(XS_SET_PERMS, '/t/a\0n32752\0'), 'ERROR ENOENT\0', 'owner must be a real domain');
    assert.equal(c.req(XS_SET_PERMS, '/nonexist/x\0n0\0'), 'ERROR ENOENT\0');
    // Special nodes: SET_PERMS yes, GET_PERMS no (cxenstored).
    assert.equal(c.req(XS_SET_PERMS, '@releaseDomain\0n0\0r5\0'), '14 OK\0');
    assert.equal(c.req(XS_GET_PERMS, '@releaseDomain\0'), 'ERROR EINVAL\0');
    assert.equal(c.req(XS_SET_PERMS, '@foo\0n0\0'), 'ERROR ENOENT\0');
});
test('paths: validation, relative paths, length limit', () => {
    const { c } = dom0();
    assert.equal(c.req(XS_WRITE, 'rel/x\0r'), '11 OK\0');
    assert.equal(c.req(XS_READ, '/local/domain/0/rel/x\0'), '2 r');
    assert.equal(c.req(XS_READ, 'rel/x\0'), '2 r');
    for (const bad of ['/vec//a\0', '/t/\0', '\0', '/a b\0', '/a.b\0', '/a\xff\0', '@introduceDomain\0']) {
        assert.equal(c.req(XS_READ, bad), 'ERROR EINVAL\0', JSON.stringify(bad));
    }
    assert.equal(c.req(XS_READ, '/vec/a'), 'ERROR EINVAL\0', 'path without NUL');
    assert.equal(c.req(XS_READ, '/vec/a\0x\0'), 'ERROR EINVAL\0', 'two arguments');
    assert.equal(c.req(XS_WRITE, '/t/b'), 'ERROR EINVAL\0', 'WRITE without NUL');
    assert.equal(c.req(XS_READ, '/\0'), '2 ');
    // path-max (2048) counts below /local/domain/<id>/, for dom0 too.
    assert.equal(c.req(XS_WRITE, `/${'a'.repeat(2047)}\0v`), '11 OK\0');
    assert.equal(c.req(XS_WRITE, `/${'a'.repeat(2048)}\0v`), 'ERROR EINVAL\0');
    assert.equal(c.req(XS_WRITE, `/local/domain/0/${'a'.repeat(2048)}\0v`), '11 OK\0');
    assert.equal(c.req(XS_WRITE, `/local/domain/0/${'a'.repeat(2049)}\0v`), 'ERROR EINVAL\0');
});
test('unknown types answer ENOSYS; the connection carries on', () => {
    const { c } = dom0();
    for (const type of [15, 16, 20, 23, 99, 0xffff, 0x10002])
        assert.equal(c.req(type, 'x\0'), 'ERROR ENOSYS\0');
    assert.equal(c.req(XS_READ, '/tool/xenstored\0'), '2 ');
});
test('req_id and tx_id are echoed', () => {
    const { c } = dom0();
    c.conn.receive(packet(XS_READ, '/tool\0', 0, 0xdeadbeef));
    const [m] = c.drain();
    assert.equal(m.reqId, 0xdeadbeef);
    const tx = c.req(XS_TRANSACTION_START, '\0').slice(2, -1);
    c.conn.receive(packet(XS_READ, '/nope\0', Number(tx), 77));
    const [e] = c.drain();
    assert.deepEqual([e.reqId, e.txId, show(e)], [77, Number(tx), 'ERROR ENOENT\0']);
});
test('transactions: isolation, commit, abort, conflict, bad ids', () => {
    const { xs, c } = dom0();
    const other = new Peer(xs, 0);
    c.req(XS_WRITE, '/vec/a\0hello');
    assert.equal(c.req(XS_TRANSACTION_START, '\0'), '6 1\0');
    assert.equal(c.req(XS_WRITE, '/vec/t1\0in-tx', 1), '11 OK\0');
    assert.equal(c.req(XS_READ, '/vec/t1\0', 1), '2 in-tx');
    assert.equal(c.req(XS_READ, '/vec/t1\0'), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_TRANSACTION_START, '\0', 1), 'ERROR EBUSY\0');
    assert.equal(c.req(XS_TRANSACTION_END, 'T', 1), 'ERROR EINVAL\0', 'argument without NUL');
    assert.equal(c.req(XS_TRANSACTION_END, 'X\0', 1), 'ERROR EINVAL\0');
    assert.equal(c.req(XS_TRANSACTION_END, 'T\0', 1), '7 OK\0');
    assert.equal(c.req(XS_READ, '/vec/t1\0'), '2 in-tx');
    assert.equal(c.req(XS_TRANSACTION_END, 'T\0', 1), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_TRANSACTION_END, 'T\0'), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_TRANSACTION_START, 'garbage'), '6 2\0', 'payload ignored');
    c.req(XS_WRITE, '/vec/t2\0x', 2);
    assert.equal(c.req(XS_TRANSACTION_END, 'F\0', 2), '7 OK\0');
    assert.equal(c.req(XS_READ, '/vec/t2\0'), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_READ, '/vec/a\0', 4242), 'ERROR ENOENT\0', 'unknown tx: ENOENT as cxenstored (oxenstored: EIO)');
    assert.equal(c.req(XS_TRANSACTION_START, '\0'), '6 3\0');
    assert.equal(c.req(XS_READ, '/vec/a\0', 3), '2 hello');
    assert.equal(c.req(XS_WRITE, '/vec/c\0x', 3), '11 OK\0');
    assert.equal(other.req(XS_WRITE, '/vec/a\0changed'), '11 OK\0');
    assert.equal(c.req(XS_READ, '/vec/a\0', 3), '2 hello', 'a node reads as at the first access');
    assert.equal(c.req(XS_TRANSACTION_END, 'T\0', 3), 'ERROR EAGAIN\0');
    assert.equal(c.req(XS_READ, '/vec/c\0'), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_TRANSACTION_END, 'F\0', 3), 'ERROR ENOENT\0', 'a failed commit ends the transaction');
});
test('only WATCH and UNWATCH ignore an unknown tx_id', () => {
    const { c } = dom0();
    c.req(XS_WRITE, '/t/a\0v');
    assert.equal(c.req(XS_WATCH, '/t\0k\0', 5), '4 OK\0');
    assert.equal(c.req(XS_UNWATCH, '/t\0k\0', 5), '5 OK\0');
    for (const [type, p] of [[XS_DIRECTORY, '/t\0'], [XS_RELEASE, '77\0'], [XS_GET_DOMAIN_PATH, '0\0'],
        [XS_WRITE, '/t/b\0'], [XS_IS_DOMAIN_INTRODUCED, '0\0'], [XS_RESET_WATCHES, ''], [XS_CONTROL, 'check\0'],
        [XS_DIRECTORY_PART, '/t\x000\0']]) {
        assert.equal(c.req(type, p, 5), 'ERROR ENOENT\0', `type ${type}`);
    }
});
test('watches: OK then initial event, node and children, EEXIST, UNWATCH, relative paths', () => {
    const { xs, c } = dom0();
    const w = new Peer(xs, 0);
    const r = w.send(XS_WATCH, '/vec\0tok1\0');
    assert.deepEqual(r.map(show), ['4 OK\0']);
    assert.deepEqual(w.takeEvents(), ['/vec\0tok1\0']);
    c.req(XS_WRITE, '/vec/b\0B');
    assert.deepEqual(w.takeEvents(), ['/vec/b\0tok1\0']);
    assert.equal(w.req(XS_WATCH, '/vec\0tok1\0'), 'ERROR EEXIST\0');
    assert.equal(w.req(XS_WATCH, '/vec\0tok1\0extra\0'), 'ERROR EINVAL\0');
    assert.equal(w.req(XS_WATCH, '/vec\0tok'), 'ERROR EINVAL\0');
    assert.equal(w.req(XS_WATCH, '/vec\0\0'), '4 OK\0', 'empty token');
    w.takeEvents();
    assert.equal(w.req(XS_UNWATCH, '/vec\0tok1\0'), '5 OK\0');
    assert.equal(w.req(XS_UNWATCH, '/vec\0tok1\0'), 'ERROR ENOENT\0');
    assert.equal(w.req(XS_UNWATCH, '/vec\0\0'), '5 OK\0');
    // Relative watches report relative paths.
    assert.equal(w.req(XS_WATCH, 'rel\0t6\0'), '4 OK\0');
    assert.equal(w.req(XS_WATCH, '/local/domain/0/rel\0t5\0'), '4 OK\0');
    assert.deepEqual(w.takeEvents(), ['rel\0t6\0', '/local/domain/0/rel\0t5\0']);
    c.req(XS_WRITE, 'rel/q\x001');
    assert.deepEqual(w.takeEvents(), ['rel/q\0t6\0', '/local/domain/0/rel/q\0t5\0']);
    // A write by the watcher itself: the event comes before its reply (cxenstored order).
    const own = w.send(XS_WRITE, 'rel/own\0');
    assert.deepEqual(own.map(show), ['11 OK\0']);
    assert.equal(w.events.length, 2);
});
test('watches: one token on several paths gives one event per change, as cxenstored', () => {
    const { xs, c } = dom0();
    const w = new Peer(xs, 0);
    assert.equal(w.req(XS_WATCH, '/same\0t\0'), '4 OK\0');
    assert.equal(w.req(XS_WATCH, '/same/a\0t\0'), '4 OK\0');
    assert.equal(w.req(XS_WATCH, '/same/a\0u\0'), '4 OK\0');
    w.takeEvents();
    // Both t watches see /same/a/b as "/same/a/b\0t\0": cxenstored drops the identical second.
    c.req(XS_WRITE, '/same/a/b\0x');
    assert.deepEqual(w.takeEvents(), ['/same/a/b\0t\0', '/same/a/b\0u\0']);
    // A second change is a new event.
    c.req(XS_WRITE, '/same/a/b\0y');
    assert.deepEqual(w.takeEvents(), ['/same/a/b\0t\0', '/same/a/b\0u\0']);
});
test('watches: removing a subtree fires descendants with their path, ancestors once', () => {
    const { xs, c } = dom0();
    const w = new Peer(xs, 0);
    for (const p of ['/r/a/b/c\x001', '/r/a/b/d\x002', '/r/a/e\x003', '/r/x\x004'])
        c.req(XS_WRITE, p);
    for (const p of ['/r\0t1\0', '/r/a/b/c\0t2\0', '/r/a/b\0t3\0', '/r/zz\0t4\0'])
        w.req(XS_WATCH, p);
    w.takeEvents();
    c.req(XS_RM, '/r/a\0');
    assert.deepEqual(w.takeEvents(), ['/r/a/b/c\0t2\0', '/r/a/b\0t3\0', '/r/a\0t1\0']);
    c.req(XS_MKDIR, '/r/new/deep\0');
    assert.deepEqual(w.takeEvents(), ['/r/new/deep\0t1\0'], 'only the named node fires, not created ancestors');
    c.req(XS_RM, '/r/nonexist\0');
    assert.deepEqual(w.takeEvents(), []);
    c.req(XS_SET_PERMS, '/r/x\0n0\0r1\0');
    assert.deepEqual(w.takeEvents(), ['/r/x\0t1\0']);
    assert.equal(w.req(XS_RESET_WATCHES, ''), '21 OK\0');
    c.req(XS_WRITE, '/r/x\0');
    assert.deepEqual(w.takeEvents(), []);
});
test('transaction changes fire at commit, once per node, in order; none on abort', () => {
    const { xs, c } = dom0();
    const w = new Peer(xs, 0);
    c.req(XS_WRITE, '/r/x\0');
    w.req(XS_WATCH, '/r\0tt\0');
    w.takeEvents();
    c.req(XS_TRANSACTION_START, '\0');
    c.req(XS_WRITE, '/r/tx1\0a', 1);
    c.req(XS_WRITE, '/r/tx2\0a', 1);
    c.req(XS_WRITE, '/r/tx1\0b', 1);
    c.req(XS_RM, '/r/x\0', 1);
    assert.deepEqual(w.takeEvents(), []);
    c.req(XS_TRANSACTION_END, 'T\0', 1);
    assert.deepEqual(w.takeEvents(), ['/r/tx1\0tt\0', '/r/tx2\0tt\0', '/r/x\0tt\0']);
    c.req(XS_TRANSACTION_START, '\0');
    c.req(XS_WRITE, '/r/tx3\0a', 2);
    c.req(XS_TRANSACTION_END, 'F\0', 2);
    assert.deepEqual(w.takeEvents(), []);
});
test('DIRECTORY over 4096 bytes is E2BIG; DIRECTORY_PART pages it as cxenstored', () => {
    const { c } = dom0();
    for (let i = 0; i < 1000; i++)
        c.req(XS_WRITE, `/vec/big/entry${String(i).padStart(4, '0')}\0`);
    assert.equal(c.req(XS_DIRECTORY, '/vec/big\0'), 'ERROR E2BIG\0');
    const names = [];
    let gen;
    for (let off = 0, rounds = 0; rounds < 10; rounds++) {
        const [m] = c.send(XS_DIRECTORY_PART, `/vec/big\0${off}\0`);
        const s = m.payload.toString('latin1');
        assert.ok(m.payload.length <= 4096);
        const parts = s.split('\0');
        gen ??= parts[0];
        assert.equal(parts[0], gen, 'generation is stable while the node does not change');
        const chunk = parts.slice(1, -1);
        const last = s.endsWith('\0\0');
        names.push(...chunk.filter((n) => n !== ''));
        off += chunk.filter((n) => n !== '').reduce((a, n) => a + n.length + 1, 0);
        if (last)
            break;
    }
    assert.equal(names.length, 1000);
    assert.equal(names[999], 'entry0999');
    c.req(XS_WRITE, '/d/v\0');
    const g = c.req(XS_DIRECTORY_PART, '/d\x000\0').slice(3).split('\0')[0];
    assert.equal(c.req(XS_DIRECTORY_PART, '/d\x000\0'), `22 ${g}\0v\0\0`);
    assert.equal(c.req(XS_DIRECTORY_PART, '/d\x001\0'), `22 ${g}\0\0\0`, 'offset inside a name');
    assert.equal(c.req(XS_DIRECTORY_PART, '/d\x00999\0'), `22 ${g}\0\0`);
    assert.equal(c.req(XS_DIRECTORY_PART, '/d\0abc\0'), `22 ${g}\0v\0\0`);
    assert.equal(c.req(XS_DIRECTORY_PART, '/d\0'), 'ERROR EINVAL\0');
    assert.equal(c.req(XS_DIRECTORY_PART, '/d\x000\0x\0'), 'ERROR EINVAL\0');
    assert.equal(c.req(XS_DIRECTORY_PART, '/nope\x000\0'), 'ERROR ENOENT\0');
});
test('domain messages: GET_DOMAIN_PATH, IS_DOMAIN_INTRODUCED, INTRODUCE, RELEASE, RESUME, SET_TARGET', () => {
    const { xs, c } = dom0();
    const w = new Peer(xs, 0);
    for (const [arg, want] of [['0', '0'], ['7', '7'], ['abc', '0'], ['-1', '4294967295'], ['12x', '12'], ['', '0']]) {
        assert.equal(c.req(XS_GET_DOMAIN_PATH, `${arg}\0`), `10 /local/domain/${want}\0`);
    }
    assert.equal(c.req(XS_GET_DOMAIN_PATH, '0'), 'ERROR EINVAL\0');
    for (const [arg, want] of [['0', 'T'], ['7', 'F'], ['abc', 'T'], ['32752', 'T'], ['-1', 'F']]) {
        assert.equal(c.req(XS_IS_DOMAIN_INTRODUCED, `${arg}\0`), `17 ${want}\0`);
    }
    w.req(XS_WATCH, '@introduceDomain\0i\0');
    w.req(XS_WATCH, '@releaseDomain\0r\0');
    assert.deepEqual(w.takeEvents(), ['@introduceDomain\0i\0', '@releaseDomain\0r\0']);
    assert.equal(c.req(XS_INTRODUCE, '9\x00100\x005\0'), '8 OK\0');
    assert.deepEqual(w.takeEvents(), ['@introduceDomain\0i\0']);
    assert.equal(c.req(XS_INTRODUCE, '9\x00100\x006\0'), '8 OK\0', 'again: no event');
    assert.deepEqual(w.takeEvents(), []);
    assert.equal(c.req(XS_INTRODUCE, '9\x00100\x000\0'), 'ERROR EINVAL\0');
    assert.equal(c.req(XS_INTRODUCE, '10\x00100\0'), 'ERROR EINVAL\0');
    assert.equal(c.req(XS_INTRODUCE, '11\0abc\x007\0'), '8 OK\0');
    assert.equal(c.req(XS_INTRODUCE, '12\x00100\0-3\0'), '8 OK\0');
    assert.equal(c.req(XS_INTRODUCE, '13\x001\x001\0x\0'), '8 OK\0', 'extra arguments are ignored');
    assert.equal(c.req(XS_INTRODUCE, '0\x00100\x005\0'), '8 OK\0');
    assert.equal(c.req(XS_IS_DOMAIN_INTRODUCED, '9\0'), '17 T\0');
    w.takeEvents();
    assert.equal(c.req(XS_RELEASE, '9\0'), '9 OK\0');
    assert.deepEqual(w.takeEvents(), ['@releaseDomain\0r\0']);
    assert.equal(c.req(XS_RELEASE, '9\0'), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_RELEASE, '0\0'), 'ERROR EINVAL\0');
    assert.equal(c.req(XS_RELEASE, 'abc\0'), 'ERROR EINVAL\0');
    assert.equal(c.req(XS_RELEASE, '11'), 'ERROR EINVAL\0');
    assert.equal(c.req(XS_RESUME, '11\0'), '18 OK\0');
    assert.equal(c.req(XS_RESUME, '77\0'), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_RESUME, '0\0'), 'ERROR EINVAL\0');
    assert.equal(c.req(XS_SET_TARGET, '11\x0012\0'), '19 OK\0');
    assert.equal(c.req(XS_SET_TARGET, '11\x0077\0'), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_SET_TARGET, '77\x0011\0'), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_SET_TARGET, '11\0'), 'ERROR EINVAL\0');
});
test('CONTROL: help, quota, check, log, print as cxenstored', () => {
    const lines = [];
    const xs = new Xenstored({ log: (l) => lines.push(l) });
    const c = new Peer(xs, 0);
    assert.equal(c.req(XS_CONTROL, 'help\0'), '0 check\t\nlog\ton|off\nprint\t<string>\nquota\t[set <name> <val>|<domid>]\nhelp\t\n\0');
    const q = c.req(XS_CONTROL, 'quota\0');
    assert.match(q, /^0 Quota settings:\nnodes {12}: {5}1000 Nodes per domain\nwatches {10}: {6}128 Watches per domain\n/);
    assert.match(q, /transaction-nodes: {5}1024 Max\. number of accessed nodes per transaction\n/);
    assert.match(q, /path-max {9}: {5}2048 Max\. length of a node path\n/);
    assert.equal(c.req(XS_CONTROL, 'quota\x000\0'), '0 Domain 0:\nnodes           :        3\nwatches         :        0\ntransactions    :        0\noutstanding     :        0\n\0');
    assert.equal(c.req(XS_CONTROL, 'quota\x005\0'), 'ERROR ENOENT\0');
    assert.equal(c.req(XS_CONTROL, 'quota\0set\0nodes\x00500\0'), '0 OK\0');
    assert.match(c.req(XS_CONTROL, 'quota\0'), /nodes {12}: {6}500 /);
    for (const bad of ['quota\0set\0nodes\0abc\0', 'quota\0set\0nodes\0-5\0', 'quota\0set\0bogus\x005\0',
        'quota\0set\0nodes\0', 'check\0extra\0', 'help\0x\0', 'print\0', 'log\0maybe\0', 'bogus\0', '', 'help']) {
        assert.equal(c.req(XS_CONTROL, bad), 'ERROR EINVAL\0', JSON.stringify(bad));
    }
    assert.equal(c.req(XS_CONTROL, 'check\0'), '0 OK\0');
    assert.equal(c.req(XS_CONTROL, 'print\0hello\0'), '0 OK\0');
    assert.ok(lines.includes('control: hello'));
    assert.equal(c.req(XS_CONTROL, 'log\0on\0'), '0 OK\0');
    c.req(XS_READ, '/tool\0');
    assert.ok(lines.some((l) => l.startsWith('IN d0') && l.includes('READ')));
    assert.equal(c.req(XS_CONTROL, 'log\0off\0'), '0 OK\0');
});
test('a watch event that would not fit a packet is not sent', () => {
    const { xs, c } = dom0();
    const w = new Peer(xs, 0);
    const token = 't'.repeat(4096 - '/big'.length - 2 - 10);
    w.req(XS_WATCH, `/big\0${token}\0`);
    assert.equal(w.takeEvents().length, 1);
    c.req(XS_WRITE, '/big/0123456789\0');
    assert.deepEqual(w.takeEvents(), []);
});
//# sourceMappingURL=protocol.test.js.map