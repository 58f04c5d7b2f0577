// What guests may do: permissions, SET_TARGET, watch filtering, quotas, domain introduction
// (with and without a ring) and release.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import {
  XS_CONTROL, XS_DIRECTORY, XS_GET_DOMAIN_PATH, XS_GET_PERMS, XS_INTRODUCE, XS_IS_DOMAIN_INTRODUCED, XS_MKDIR, XS_READ,
  XS_RELEASE, XS_RM, XS_SET_PERMS, XS_SET_TARGET, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_WATCH, XS_WRITE,
} from '../../../../src/abi/xs_wire.js';
import { PAGE_SIZE } from '../../../../src/abi/xen.js';
import { Xenstored, type XenstoredOptions } from '../../../../src/xenstore/server/daemon.js';
import { XenstoreRingClient } from '../../../../src/xenstore/client/ring.js';
import { W_REQ_CONS, W_REQ_PROD } from '../../../../src/xenstore/common/ring.js';
import type { DomainRing } from '../../../../src/xenstore/common/ring.js';
import { Framer, Peer, packet, show, portPair } from '../../../support/xenstore.js';

/** dom0 lays out /local/domain/<id> as xl does: dom0-owned, readable by the guest, with guest-owned data/. */
function host(opts: XenstoredOptions = {}, guests = [5, 6]): { xs: Xenstored; d0: Peer } {
  const xs = new Xenstored(opts);
  const d0 = new Peer(xs, 0);
  for (const id of guests) {
    assert.equal(d0.req(XS_INTRODUCE, `${id}\x00100\x001\0`), '8 OK\0');
    d0.req(XS_MKDIR, `/local/domain/${id}\0`);
    d0.req(XS_SET_PERMS, `/local/domain/${id}\0n0\0r${id}\0`);
    d0.req(XS_MKDIR, `/local/domain/${id}/data\0`);
    d0.req(XS_SET_PERMS, `/local/domain/${id}/data\0n${id}\0`);
  }
  return { xs, d0 };
}

test('a guest reads and writes only what its permissions allow', () => {
  const { xs, d0 } = host();
  const g = new Peer(xs, 5);
  assert.equal(g.req(XS_READ, '/local/domain/5\0'), '2 ');
  assert.equal(g.req(XS_DIRECTORY, '/local/domain/5\0'), '1 data\0');
  assert.equal(g.req(XS_WRITE, '/local/domain/5/foo\0x'), 'ERROR EACCES\0', 'no write on the nearest ancestor');
  assert.equal(g.req(XS_WRITE, 'data/x\x001'), '11 OK\0', 'relative to /local/domain/5');
  assert.equal(g.req(XS_GET_PERMS, 'data/x\0'), '3 n5\0');
  assert.equal(g.req(XS_READ, '/tool\0'), 'ERROR EACCES\0');
  assert.equal(g.req(XS_READ, '/nope\0'), 'ERROR EACCES\0', 'nothing learnt about unreadable places');
  assert.equal(g.req(XS_READ, '/local/domain/5/missing\0'), 'ERROR ENOENT\0');
  assert.equal(g.req(XS_READ, '/local/domain/6/data\0'), 'ERROR EACCES\0');
  assert.equal(g.req(XS_SET_PERMS, 'data/x\0n5\0r6\0'), '14 OK\0');
  assert.equal(g.req(XS_SET_PERMS, 'data/x\0n6\0'), 'ERROR EPERM\0', 'only the privileged give nodes away');
  assert.equal(g.req(XS_SET_PERMS, '/local/domain/5\0n5\0'), 'ERROR EACCES\0');
  const g6 = new Peer(xs, 6);
  assert.equal(g6.req(XS_READ, '/local/domain/5/data/x\0'), '2 1', 'ACL entry r6');
  assert.equal(g6.req(XS_WRITE, '/local/domain/5/data/x\0y'), 'ERROR EACCES\0');
  assert.equal(g.req(XS_RM, 'data/x\0'), '13 OK\0');
  assert.equal(g.req(XS_RM, '/local/domain/5/data\0'), '13 OK\0', 'owner may remove its node');
  assert.equal(d0.req(XS_READ, '/local/domain/5/data\0'), 'ERROR ENOENT\0');
  for (const [type, p] of [[XS_CONTROL, 'check\0'], [XS_INTRODUCE, '7\x001\x001\0'], [XS_IS_DOMAIN_INTRODUCED, '0\0'],
    [XS_RELEASE, '6\0'], [XS_SET_TARGET, '5\x006\0']] as const) {
    assert.equal(g.req(type, p), 'ERROR EACCES\0', `type ${type}`);
  }
  assert.equal(g.req(XS_GET_DOMAIN_PATH, '5\0'), '10 /local/domain/5\0');
});

test('SET_TARGET: a stub domain acts for its target', () => {
  const { xs, d0 } = host({}, [5, 7]);
  const stub = new Peer(xs, 7);
  assert.equal(stub.req(XS_WRITE, '/local/domain/5/data/dm\x001'), 'ERROR EACCES\0');
  assert.equal(d0.req(XS_SET_TARGET, '7\x005\0'), '19 OK\0');
  assert.equal(stub.req(XS_WRITE, '/local/domain/5/data/dm\x001'), '11 OK\0');
  assert.equal(stub.req(XS_READ, '/local/domain/5\0'), '2 ');
});

test('watch events are filtered by read permission; special watches by their own permissions', () => {
  const { xs, d0 } = host();
  const g5 = new Peer(xs, 5);
  const g6 = new Peer(xs, 6);
  g5.req(XS_WATCH, '/local/domain/5\0mine\0');
  g6.req(XS_WATCH, '/local/domain/5\0snoop\0');
  g6.req(XS_WATCH, '@releaseDomain\0rel\0');
  assert.deepEqual(g5.takeEvents(), ['/local/domain/5\0mine\0']);
  assert.deepEqual(g6.takeEvents(), ['/local/domain/5\0snoop\0', '@releaseDomain\0rel\0'], 'the initial event always comes');
  d0.req(XS_WRITE, '/local/domain/5/data/secret\0s');
  assert.deepEqual(g5.takeEvents(), ['/local/domain/5/data/secret\0mine\0']);
  assert.deepEqual(g6.takeEvents(), []);
  d0.req(XS_SET_PERMS, '/local/domain/5/data/secret\0n5\0r6\0');
  assert.deepEqual(g6.takeEvents(), ['/local/domain/5/data/secret\0snoop\0'], 'now readable');
  d0.req(XS_SET_PERMS, '/local/domain/5/data/secret\0n5\0');
  assert.deepEqual(g6.takeEvents(), ['/local/domain/5/data/secret\0snoop\0'], 'losing access is news too');
  d0.req(XS_WRITE, '/local/domain/5/data/secret\0t');
  assert.deepEqual(g6.takeEvents(), []);
  d0.req(XS_INTRODUCE, '8\x001\x001\0');
  d0.req(XS_RELEASE, '8\0');
  assert.deepEqual(g6.takeEvents(), [], '@releaseDomain is for dom0 unless granted');
  d0.req(XS_SET_PERMS, '@releaseDomain\0n0\0r6\0');
  d0.req(XS_INTRODUCE, '8\x001\x001\0');
  d0.req(XS_RELEASE, '8\0');
  assert.deepEqual(g6.takeEvents(), ['@releaseDomain\0rel\0']);
});

test('quotas bind guests with cxenstored\'s errors and never touch other domains', () => {
  const { xs, d0 } = host({ quotas: { nodes: 5, nodeSize: 64, watches: 2, transactions: 2, permissions: 2, transactionNodes: 8 } });
  const g = new Peer(xs, 5);
  // data/ (which dom0 made for it) counts: it is owned by the guest.
  for (let i = 0; i < 4; i++) assert.equal(g.req(XS_WRITE, `data/n${i}\0`), '11 OK\0', `node ${i}`);
  assert.equal(g.req(XS_WRITE, 'data/n5\0'), 'ERROR ENOSPC\0');
  assert.equal(g.req(XS_WRITE, 'data/n0/a/b\0'), 'ERROR ENOSPC\0', 'all of them count');
  assert.equal(g.req(XS_WRITE, 'data/n0\0ok'), '11 OK\0', 'rewriting is fine');
  assert.equal(g.req(XS_WRITE, `data/n0\0${'x'.repeat(65)}`), 'ERROR ENOSPC\0', 'node-size');
  assert.equal(g.req(XS_SET_PERMS, 'data/n0\0n5\0r6\0r7\0'), 'ERROR ENOSPC\0', 'permissions');
  assert.equal(g.req(XS_WATCH, 'data\0a\0'), '4 OK\0');
  assert.equal(g.req(XS_WATCH, 'data\0b\0'), '4 OK\0');
  assert.equal(g.req(XS_WATCH, 'data\0c\0'), 'ERROR E2BIG\0');
  assert.equal(g.req(XS_TRANSACTION_START, '\0'), '6 1\0');
  assert.equal(g.req(XS_TRANSACTION_START, '\0'), '6 2\0');
  assert.equal(g.req(XS_TRANSACTION_START, '\0'), 'ERROR ENOSPC\0');
  for (let i = 0; i < 10; i++) g.send(XS_READ, `data/x${i}\0`, 1);
  assert.equal(g.req(XS_READ, 'data/n0\0', 1), 'ERROR ENOSPC\0', 'transaction-nodes');
  assert.equal(g.req(XS_RM, 'data/n3\0', 2), '13 OK\0');
  assert.equal(g.req(XS_WRITE, 'data/n5\0', 2), '11 OK\0', 'room made inside the transaction');
  assert.equal(g.req(XS_TRANSACTION_END, 'T\0', 2), '7 OK\0');
  assert.equal(g.req(XS_READ, 'data/n5\0'), '2 ');
  // dom0 and other guests are untouched by guest 5's limits.
  for (let i = 0; i < 20; i++) assert.equal(d0.req(XS_WRITE, `/d0/n${i}\0${'x'.repeat(100)}`), '11 OK\0');
  const g6 = new Peer(xs, 6);
  assert.equal(g6.req(XS_WRITE, 'data/a\0'), '11 OK\0');
  assert.equal(g6.req(XS_WATCH, 'data\0a\0'), '4 OK\0');
  assert.equal(d0.req(XS_CONTROL, 'quota\x005\0'),
    '0 Domain 5:\nnodes           :        5\nwatches         :        2\ntransactions    :        1\noutstanding     :        0\n\0');
});

test('commit re-checks the node quota against changes made meanwhile', () => {
  const { xs } = host({ quotas: { nodes: 3 } });
  const a = new Peer(xs, 5);
  const b = new Peer(xs, 5);
  a.req(XS_TRANSACTION_START, '\0');
  assert.equal(a.req(XS_WRITE, 'data/t1\0', 1), '11 OK\0');
  assert.equal(a.req(XS_WRITE, 'data/t2\0', 1), '11 OK\0');
  assert.equal(b.req(XS_WRITE, 'data/o1\0'), '11 OK\0');
  assert.equal(a.req(XS_TRANSACTION_END, 'T\0', 1), 'ERROR ENOSPC\0');
  assert.equal(a.req(XS_READ, 'data/t1\0'), 'ERROR ENOENT\0');
});

test('releasing a domain drops its connections, watches, transactions and nodes, and fires @releaseDomain', () => {
  const { xs, d0 } = host();
  const g = new Peer(xs, 5);
  const w = new Peer(xs, 0);
  g.req(XS_WRITE, 'data/x\0');
  g.req(XS_WATCH, 'data\0t\0');
  g.req(XS_TRANSACTION_START, '\0');
  d0.req(XS_WRITE, '/shared\0');
  d0.req(XS_SET_PERMS, '/shared\0n0\0r5\0r6\0');
  w.req(XS_WATCH, '@releaseDomain\0r\0');
  w.req(XS_WATCH, '/local/domain/5\0l\0');
  w.takeEvents();
  assert.equal(d0.req(XS_RELEASE, '5\0'), '9 OK\0');
  assert.equal(g.dropped, 0, 'dropped without an error code');
  assert.equal(g.conn.closed, true);
  // data/x fires only watches on exactly that path; data fires /local/domain/5 and above.
  assert.deepEqual(w.takeEvents(), ['/local/domain/5/data\0l\0', '@releaseDomain\0r\0']);
  assert.equal(d0.req(XS_DIRECTORY, '/local/domain/5\0'), '1 ', 'nodes it owned are gone; dom0\'s stay');
  // cxenstored marks them XS_PERM_IGNORE: still listed, granting nothing (domids get reused).
  assert.equal(d0.req(XS_GET_PERMS, '/shared\0'), '3 n0\0r5\0r6\0', 'its ACL entries are still listed');
  assert.equal(d0.req(XS_IS_DOMAIN_INTRODUCED, '5\0'), '17 F\0');
  assert.equal(d0.req(XS_INTRODUCE, '5\x00100\x001\0'), '8 OK\0');
  assert.equal(new Peer(xs, 5).req(XS_READ, '/shared\0'), 'ERROR EACCES\0', 'a new domain 5 inherits nothing');
  assert.equal(new Peer(xs, 6).req(XS_READ, '/shared\0'), '2 ', 'other entries still grant');
  assert.equal(d0.req(XS_RELEASE, '5\0'), '9 OK\0');
  assert.throws(() => xs.releaseDomain(5), /ENOENT/);
  assert.throws(() => xs.releaseDomain(0), /EINVAL/);
  assert.equal(d0.req(XS_CONTROL, 'check\0'), '0 OK\0');
});

/** A guest ring page and the two ends of its event channel. */
function guestRing(): { server: DomainRing; client: DomainRing } {
  const page = new Uint8Array(new SharedArrayBuffer(PAGE_SIZE));
  const [a, b] = portPair();
  return { server: { page, evtchn: a }, client: { page, evtchn: b } };
}

async function ringRequest(client: XenstoreRingClient, framer: Framer, type: number, payload: string): Promise<string> {
  const before = framer.msgs.length;
  client.send(packet(type, payload, 0, 9));
  for (let i = 0; i < 1000 && framer.msgs.length === before; i++) await tick();
  return show(framer.msgs[framer.msgs.length - 1]!);
}

test('introduceDomain with a ring: the guest talks to xenstored through its page', async () => {
  const xs = new Xenstored();
  const d0 = new Peer(xs, 0);
  d0.req(XS_WATCH, '@introduceDomain\0i\0');
  d0.takeEvents();
  const { server, client } = guestRing();
  const conn = xs.introduceDomain(3, server);
  assert.ok(conn !== undefined);
  assert.deepEqual(d0.takeEvents(), ['@introduceDomain\0i\0']);
  d0.req(XS_MKDIR, '/local/domain/3/data\0');
  d0.req(XS_SET_PERMS, '/local/domain/3/data\0n3\0');
  const framer = new Framer();
  const ring = new XenstoreRingClient(client);
  ring.start((b) => framer.push(b), () => undefined);
  assert.equal(await ringRequest(ring, framer, XS_WRITE, 'data/hello\0world'), '11 OK\0');
  assert.equal(await ringRequest(ring, framer, XS_READ, 'data/hello\0'), '2 world');
  assert.equal(await ringRequest(ring, framer, XS_READ, '/tool\0'), 'ERROR EACCES\0', 'a ring guest is unprivileged');
  assert.equal(d0.req(XS_GET_PERMS, '/local/domain/3/data/hello\0'), '3 n3\0');
  xs.releaseDomain(3);
  assert.equal(conn.closed, true);
  ring.close();
});

test("holdDomain: the domain's requests wait, taken off its ring, until released; then they see what dom0 wrote meanwhile", async () => {
  const xs = new Xenstored();
  const d0 = new Peer(xs, 0);
  const { server, client } = guestRing();
  xs.introduceDomain(3, server);
  d0.req(XS_MKDIR, '/local/domain/3\0');
  d0.req(XS_SET_PERMS, '/local/domain/3\0n0\0r3\0');
  const release = xs.holdDomain(3)!;
  const again = xs.holdDomain(3)!;
  const framer = new Framer();
  const ring = new XenstoreRingClient(client);
  ring.start((b) => framer.push(b), () => undefined);
  ring.send(packet(XS_READ, 'name\0', 0, 9));
  // Taken off the page (its consumer index caught up with the producer), and not answered.
  const words = new Uint32Array(client.page.buffer, 0, PAGE_SIZE / 4);
  for (let i = 0; i < 1000 && Atomics.load(words, W_REQ_CONS) !== Atomics.load(words, W_REQ_PROD); i++) await tick();
  assert.equal(Atomics.load(words, W_REQ_CONS), Atomics.load(words, W_REQ_PROD));
  assert.deepEqual(framer.msgs, []);
  release();
  release(); // a second call does nothing: the other hold is still on
  await tick();
  assert.deepEqual(framer.msgs, [], 'one hold still on');
  assert.equal(d0.req(XS_WRITE, '/local/domain/3/name\0web'), '11 OK\0');
  again();
  for (let i = 0; i < 1000 && framer.msgs.length === 0; i++) await tick();
  assert.deepEqual(framer.msgs.map(show), ['2 web']);
  assert.equal(await ringRequest(ring, framer, XS_READ, 'name\0'), '2 web', 'served at once once released');
  assert.equal(xs.holdDomain(4), undefined, 'no such domain: nothing to hold');
  xs.releaseDomain(3);
  ring.close();
});

test('wire INTRODUCE maps the ring through the host hook, and later requests wait for it', async () => {
  const { server, client } = guestRing();
  let release!: () => void;
  const mapped = new Promise<void>((r) => { release = r; });
  const calls: number[][] = [];
  const xs = new Xenstored({
    introduce: async (domid, mfn, port) => {
      calls.push([domid, mfn, port]);
      await mapped;
      return server;
    },
  });
  const d0 = new Peer(xs, 0);
  d0.conn.receive(Buffer.concat([packet(XS_INTRODUCE, '4\x001234\x0011\0', 0, 1), packet(XS_IS_DOMAIN_INTRODUCED, '4\0', 0, 2)]));
  assert.deepEqual(d0.drain(), [], 'nothing answered before the ring is mapped');
  release();
  for (let i = 0; i < 100 && d0.framer.msgs.length < 2; i++) await tick();
  assert.deepEqual(d0.drain().map(show), ['8 OK\0', '17 T\0']);
  assert.deepEqual(calls, [[4, 1234, 11]]);
  const framer = new Framer();
  const ring = new XenstoreRingClient(client);
  ring.start((b) => framer.push(b), () => undefined);
  assert.equal(await ringRequest(ring, framer, XS_GET_DOMAIN_PATH, '4\0'), '10 /local/domain/4\0');
  ring.close();
  xs.releaseDomain(4);

  const failing = new Xenstored({ introduce: () => Promise.reject(new Error('no such frame')) });
  const p = new Peer(failing, 0);
  p.send(XS_INTRODUCE, '4\x001\x001\0');
  for (let i = 0; i < 100 && p.framer.msgs.length < 1; i++) await tick();
  assert.deepEqual(p.drain().map(show), ['ERROR EIO\0']);
  assert.equal(p.req(XS_IS_DOMAIN_INTRODUCED, '4\0'), '17 F\0');
});

test('SET_PERMS naming a domain that does not exist: ENOENT as owner, nothing granted in the ACL', () => {
  const alive = new Set([0, 5]);
  const { xs, d0 } = host({ domainExists: (d) => alive.has(d) }, [5]);
  d0.req(XS_WRITE, '/t\0v');
  // xenstore-chmod /t n7 with no domain 7 (XSA-322's class): cxenstored says ENOENT.
  assert.equal(d0.req(XS_SET_PERMS, '/t\0n7\0'), 'ERROR ENOENT\0');
  assert.equal(d0.req(XS_GET_PERMS, '/t\0'), '3 n0\0', 'unchanged');
  // An ACL entry for a domain not there yet is kept but ignored, so its later namesake gets nothing.
  assert.equal(d0.req(XS_SET_PERMS, '/t\0n0\0r7\0r5\0'), '14 OK\0');
  alive.add(7);
  assert.equal(d0.req(XS_INTRODUCE, '7\x00100\x001\0'), '8 OK\0');
  assert.equal(new Peer(xs, 7).req(XS_READ, '/t\0'), 'ERROR EACCES\0');
  assert.equal(new Peer(xs, 5).req(XS_READ, '/t\0'), '2 v');
  // Domains xenstored knows exist even if the lookup does not say so (introduced by the host).
  assert.equal(d0.req(XS_SET_PERMS, '/t\0n5\0'), '14 OK\0');
  assert.equal(d0.req(XS_SET_PERMS, '@releaseDomain\0n9\0'), 'ERROR ENOENT\0', 'special nodes too');
});

test('releasing a domain visits only the nodes that name it', () => {
  const { xs, d0 } = host({}, [5, 6]);
  for (let i = 0; i < 50; i++) d0.req(XS_WRITE, `/many/n${i}\0`);
  d0.req(XS_SET_PERMS, '/many/n7\0n0\0b5\0');
  d0.req(XS_SET_PERMS, '@releaseDomain\0n5\0r6\0');
  const g = new Peer(xs, 5);
  g.req(XS_WRITE, 'data/a/b\0');
  d0.req(XS_SET_PERMS, '/local/domain/5/data/a\0n6\0');
  assert.equal(d0.req(XS_RELEASE, '5\0'), '9 OK\0');
  // As cxenstored's domain_tree_remove: an owned node goes with its whole subtree, whoever owns the rest.
  assert.equal(d0.req(XS_DIRECTORY, '/local/domain/5\0'), '1 ');
  assert.equal(d0.req(XS_DIRECTORY, '/many\0').split('\0').length, 51, 'dom0\'s nodes stay');
  assert.equal(d0.req(XS_GET_PERMS, '/many/n7\0'), '3 n0\0b5\0');
  // Special nodes forget the domain outright (remove_domid_from_perm): a new domain 5 hears nothing.
  assert.equal(d0.req(XS_INTRODUCE, '5\x00100\x001\0'), '8 OK\0');
  const [g5, g6] = [new Peer(xs, 5), new Peer(xs, 6)];
  for (const p of [g5, g6]) p.req(XS_WATCH, '@releaseDomain\0r\0');
  for (const p of [g5, g6]) p.takeEvents();
  xs.introduceDomain(8);
  xs.releaseDomain(8);
  assert.deepEqual(g6.takeEvents(), ['@releaseDomain\0r\0']);
  assert.deepEqual(g5.takeEvents(), []);
  assert.equal(d0.req(XS_CONTROL, 'check\0'), '0 OK\0');
});
