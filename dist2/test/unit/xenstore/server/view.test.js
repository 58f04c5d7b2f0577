// Transactions as cxenstored 4.17 runs them (xenstored_transaction.c): a node is read as it was
// at the transaction's first access to it, every node read (found or missing, ancestors of a
// missing node included) is checked at commit, watch events leave in first-access order, and
// a node created and removed inside the transaction fires nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XS_DIRECTORY, XS_MKDIR, XS_READ, XS_RM, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH, XS_WRITE, } from '../../../../src/abi/xs_wire.js';
import { Xenstored } from '../../../../src/xenstore/server/daemon.js';
import { Peer } from '../../../support/xenstore.js';
function pair() {
    const xs = new Xenstored();
    return [new Peer(xs, 0), new Peer(xs, 0)];
}
function start(p) {
    const r = p.req(XS_TRANSACTION_START, '\0');
    return Number.parseInt(r.split(' ')[1], 10);
}
test('a transaction reads a node as it is at its first access, not at TRANSACTION_START', () => {
    const [a, b] = pair();
    a.req(XS_WRITE, '/t/v\0old');
    const tx = start(a);
    b.req(XS_WRITE, '/t/v\0new');
    assert.equal(a.req(XS_READ, '/t/v\0', tx), `${XS_READ} new`);
    b.req(XS_WRITE, '/t/v\0newer');
    assert.equal(a.req(XS_READ, '/t/v\0', tx), `${XS_READ} new`, 'later reads repeat the first');
    assert.equal(a.req(XS_TRANSACTION_END, 'T\0', tx), 'ERROR EAGAIN\0');
});
test('a node the transaction found missing and another client then created fails the commit', () => {
    const [a, b] = pair();
    a.req(XS_MKDIR, '/t\0');
    const tx = start(a);
    assert.equal(a.req(XS_READ, '/t/lock\0', tx), 'ERROR ENOENT\0');
    b.req(XS_WRITE, '/t/lock\0b');
    a.req(XS_WRITE, '/t/lock\0a', tx);
    assert.equal(a.req(XS_TRANSACTION_END, 'T\0', tx), 'ERROR EAGAIN\0');
    assert.equal(a.req(XS_READ, '/t/lock\0'), `${XS_READ} b`);
});
test('the missing ancestors of a missing node are read too, and conflict when created', () => {
    const [a, b] = pair();
    a.req(XS_MKDIR, '/t/x\0');
    const tx = start(a);
    assert.equal(a.req(XS_READ, '/t/x/y/z\0', tx), 'ERROR ENOENT\0');
    // Neither /t/x/y/z itself nor anything else the transaction touches besides /t/x/y.
    b.req(XS_MKDIR, '/t/x/y\0');
    a.req(XS_WRITE, '/t/other\0v', tx);
    assert.equal(a.req(XS_TRANSACTION_END, 'T\0', tx), 'ERROR EAGAIN\0');
});
test('watch events of a commit leave in the order the transaction first accessed the nodes', () => {
    const [a, w] = pair();
    a.req(XS_WRITE, '/t/a\0');
    a.req(XS_WRITE, '/t/b\0');
    w.req(XS_WATCH, '/t\0tok\0');
    w.takeEvents();
    const tx = start(a);
    a.req(XS_READ, '/t/a\0', tx);
    a.req(XS_WRITE, '/t/b\0one', tx);
    a.req(XS_WRITE, '/t/a\0one', tx);
    assert.equal(a.req(XS_TRANSACTION_END, 'T\0', tx), `${XS_TRANSACTION_END} OK\0`);
    assert.deepEqual(w.takeEvents(), ['/t/a\0tok\0', '/t/b\0tok\0']);
});
test('a node created and removed inside one transaction fires no watch event', () => {
    const [a, w] = pair();
    a.req(XS_MKDIR, '/t\0');
    w.req(XS_WATCH, '/t\0tok\0');
    w.takeEvents();
    const tx = start(a);
    a.req(XS_WRITE, '/t/tmp\0x', tx);
    a.req(XS_RM, '/t/tmp\0', tx);
    assert.equal(a.req(XS_TRANSACTION_END, 'T\0', tx), `${XS_TRANSACTION_END} OK\0`);
    // /t itself changed (its child list came and went), but cxenstored fires for /t/tmp only,
    // and not at all once it no longer exists.
    assert.deepEqual(w.takeEvents(), []);
});
test('RM in a transaction whose parent lists a child removed meanwhile answers EIO, as cxenstored', () => {
    const [a, b] = pair();
    a.req(XS_WRITE, '/t/p/c1\0');
    a.req(XS_WRITE, '/t/p/c2\0');
    const tx = start(a);
    assert.equal(a.req(XS_DIRECTORY, '/t/p\0', tx), `${XS_DIRECTORY} c1\0c2\0`);
    b.req(XS_RM, '/t/p/c2\0');
    assert.equal(a.req(XS_RM, '/t/p\0', tx), 'ERROR EIO\0');
    // What went before the missing child is gone from the transaction's view, as in cxenstored.
    assert.equal(a.req(XS_DIRECTORY, '/t/p\0', tx), `${XS_DIRECTORY} c2\0`);
    assert.equal(a.req(XS_READ, '/t/p/c1\0', tx), 'ERROR ENOENT\0');
});
test('UNWATCH of a path no watch can have answers ENOENT, as cxenstored', () => {
    const [a] = pair();
    assert.equal(a.req(XS_UNWATCH, '/t//x\0tok\0'), 'ERROR ENOENT\0');
});
test('a transaction that creates a child its older copy of the parent lists sees it twice, as cxenstored (and cannot commit)', () => {
    const [a, b] = pair();
    a.req(XS_WRITE, '/t/p/c\0');
    const tx = start(a);
    assert.equal(a.req(XS_DIRECTORY, '/t/p\0', tx), `${XS_DIRECTORY} c\0`);
    b.req(XS_RM, '/t/p/c\0');
    a.req(XS_WRITE, '/t/p/c\0again', tx);
    assert.equal(a.req(XS_DIRECTORY, '/t/p\0', tx), `${XS_DIRECTORY} c\0c\0`);
    // RM walks into the second entry, which is gone by then.
    assert.equal(a.req(XS_RM, '/t/p\0', tx), 'ERROR EIO\0');
    assert.equal(a.req(XS_TRANSACTION_END, 'T\0', tx), 'ERROR EAGAIN\0');
    assert.equal(a.req(XS_READ, '/t/p/c\0'), 'ERROR ENOENT\0');
});
//# sourceMappingURL=view.test.js.map