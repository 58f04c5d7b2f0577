// A stack's state carried across a suspend (src/tcpip/snapshot.ts with Stack.freeze/restore and
// the TCP layer's snapshot): a fresh stack on a new link end (the domain on another host) takes
// over the address, ARP cache, listening port and connections from the structured-clone copy of
// the old one's state; the peer's connections go on without reconnecting, frames lost in the
// gap are retransmitted, a 4-tuple used again after the restore starts beyond its old connection
// (RFC 6528's secrets and clock carried), and a malformed snapshot is refused.
import assert from 'node:assert/strict';
import { deserialize, serialize } from 'node:v8';
import { test } from 'node:test';
import { checkStackSnapshot, type StackSnapshot } from '../../../src/tcpip/snapshot.js';
import { createStack, type TcpipStack } from '../../../src/tcpip/stack.js';
import type { Clock } from '../../../src/tcpip/clock.js';
import { seqGt } from '../../../src/tcpip/tcp/seq.js';
import type { TcpSocket } from '../../../src/tcpip/tcp/socket.js';
import { TcpipError } from '../../../src/tcpip/errors.js';
import { RTO_DEFAULTS } from '../../../src/tcpip/tcp/rto.js';
import { RESUMED_LISTENER_MS } from '../../../src/tcpip/tcp/tcp.js';
import { TCP_DEFAULTS } from '../../../src/tcpip/tcp/settings.js';
import { collect, LinkEnd, runUntil, stackPair, type Link } from '../../support/tcpip-link.js';
import { rng } from '../../support/random.js';

/** Move b's side of the link to a new end (the old one's frames go nowhere) and restore a stack there from `snap`. */
function moveB(link: Link, snap: StackSnapshot, clock: Clock): TcpipStack {
  const old = link.b;
  const nowhere = new LinkEnd(link, old.mac, old.mtu, old.offloads);
  old.peer = nowhere;
  const fresh = new LinkEnd(link, old.mac, old.mtu, old.offloads);
  fresh.peer = link.a;
  link.a.peer = fresh;
  const b2 = createStack(fresh, { clock, random: rng(99) });
  b2.restore(deserialize(serialize(snap)));
  return b2;
}

test('an echo connection and a client connection go on in a stack restored elsewhere, with frames lost in the gap', async () => {
  const { clock, link, a, b } = stackPair({ seed: 3 });
  // b serves an echo port and holds a connection of its own to a's port 9.
  b.tcp.listen(7, (s) => s.pipe(s));
  const sink: Buffer[] = [];
  a.tcp.listen(9, (s) => s.on('data', (d: Buffer) => sink.push(d)));
  let bClient: TcpSocket | undefined;
  void b.tcp.connect('10.0.0.1', 9).then((s) => (bClient = s));
  let aClient: TcpSocket | undefined;
  void a.tcp.connect('10.0.0.2', 7).then((s) => (aClient = s));
  assert.ok(await runUntil(clock, () => aClient !== undefined && bClient !== undefined));
  const echoed = collect(aClient!);
  aClient!.write('before ');
  assert.ok(await runUntil(clock, () => echoed.bytes().toString() === 'before '));

  // Suspend b with data in flight both ways: a's bytes lost on the wire, b's written but unacknowledged.
  link.up = false;
  aClient!.write('lost in the gap ');
  bClient!.write('from b, sent before the suspend');
  const snap = b.freeze();
  assert.equal(snap.tcp.connections.length, 2, JSON.stringify(snap.tcp.connections.map((c) => [c.state, c.localPort, c.remotePort])));
  assert.deepEqual(snap.tcp.listeners, [{ port: 7, backlog: 128 }]);
  clock.advanceTo(clock.now() + 50);
  link.up = true;
  const b2 = moveB(link, snap, clock);

  // The program runs again: it listens on 7 (the echo connection comes back to it) and takes its client connection.
  const back: TcpSocket[] = [];
  b2.tcp.listen(7, (s) => {
    back.push(s);
    s.pipe(s);
  });
  const [mine, ...others] = b2.tcp.resumed();
  assert.equal(others.length, 0);
  assert.equal(mine?.remotePort, 9);
  assert.ok(mine.resumed);
  mine.write(' and after');
  aClient!.write('after');
  assert.ok(await runUntil(clock, () => echoed.bytes().toString() === 'before lost in the gap after', 30_000), echoed.bytes().toString());
  assert.equal(back.length, 1);
  assert.ok(back[0]!.resumed);
  assert.ok(await runUntil(clock, () => Buffer.concat(sink).toString() === 'from b, sent before the suspend and after', 30_000));
  assert.equal(b2.address?.address, '10.0.0.2');
  // A new connection to the restored listener.
  let fresh: TcpSocket | undefined;
  void a.tcp.connect('10.0.0.2', 7).then((s) => (fresh = s));
  assert.ok(await runUntil(clock, () => fresh !== undefined && back.length === 2, 30_000));
  assert.equal(back[1]!.resumed, false);
});

test("data in flight at the suspend, its resend at the restore lost too, goes again when the peer is first heard from, not an RTO later", async () => {
  const { clock, link, a, b } = stackPair({ seed: 5 });
  const sink: Buffer[] = [];
  let peer: TcpSocket | undefined;
  a.tcp.listen(9, (s) => {
    peer = s;
    s.on('data', (d: Buffer) => sink.push(d));
  });
  let mine: TcpSocket | undefined;
  void b.tcp.connect('10.0.0.1', 9).then((s) => (mine = s));
  assert.ok(await runUntil(clock, () => mine !== undefined && peer !== undefined));
  link.up = false;
  mine!.write('in flight');
  const b2 = moveB(link, b.freeze(), clock);
  const [back] = b2.tcp.resumed();
  // The resend at the restore goes into the same gap (the network does not know where b is yet).
  assert.ok(await runUntil(clock, () => back!.stats.retransmits >= 1, 50));
  link.up = true;
  const heard = clock.now();
  peer!.write('are you there?');
  assert.ok(await runUntil(clock, () => Buffer.concat(sink).toString() === 'in flight', 60_000));
  assert.ok(clock.now() - heard < RTO_DEFAULTS.minRtoMs, `${clock.now() - heard} ms after the peer spoke; the RTO is at least ${RTO_DEFAULTS.minRtoMs} ms`);
});

test('what the program had not read yet, and what it wrote beyond the send buffer, travel with the connection', async () => {
  const { clock, link, a, b } = stackPair({ seed: 4, tcpB: { sndBufMax: 4096 } });
  let server: TcpSocket | undefined;
  b.tcp.listen(80, (s) => {
    server = s;
    s.pause();
  });
  let c: TcpSocket | undefined;
  void a.tcp.connect('10.0.0.2', 80).then((s) => (c = s));
  assert.ok(await runUntil(clock, () => c !== undefined && server !== undefined));
  c!.write('unread request');
  assert.ok(await runUntil(clock, () => [...b.tcpLayer.connections()][0]!.rcvQueue.length > 0));
  server!.read(0); // into the stream's own buffer, where the program has not taken it
  assert.ok(server!.readableLength > 0);
  const big = Buffer.alloc(20_000, 0x61);
  server!.write(big); // beyond b's 4 KiB send buffer: most of it waits in the stream
  const snap = b.freeze();
  assert.equal(snap.tcp.connections[0]!.rcvQueue.length, 'unread request'.length);
  assert.equal(snap.tcp.connections[0]!.sndBuf.length, big.length);
  const b2 = moveB(link, snap, clock);
  const got = collect(c!);
  let req = '';
  b2.tcp.listen(80, (s) => s.on('data', (d: Buffer) => (req += d.toString())));
  assert.ok(await runUntil(clock, () => got.bytes().length === big.length && req === 'unread request', 30_000), `${got.bytes().length} ${req}`);
});

// Behind: the new host booted later. Ahead by 3 h: more than 2^31 of RFC 6528's 4 us ticks, so
// a clock taken as it reads would wrap the ISN behind the old connection's.
for (const [how, shiftMs] of [['less', -3_000_000], ['3 h more', 10_800_000]] as const) {
test(`a 4-tuple used again after a restore on a host whose clock reads ${how} gets an ISN and timestamps beyond its old connection's, and the peer's TIME-WAIT takes the SYN`, async () => {
  const { clock, link, a, b } = stackPair({ seed: 6 });
  clock.advanceTo(3_600_000); // b's host has been up for an hour
  // a closes first, so a holds the 4-tuple in TIME-WAIT.
  let accepted = 0;
  a.tcp.listen(9, (s) => {
    accepted++;
    s.resume();
    s.end('bye');
  });
  let first: TcpSocket | undefined;
  void b.tcp.connect('10.0.0.1', 9, { localPort: 40000 }).then((s) => (first = s));
  assert.ok(await runUntil(clock, () => first !== undefined));
  first!.resume();
  first!.on('end', () => first!.end());
  first!.write('hello');
  const timeWait = () => [...a.tcpLayer.connections()].find((c) => c.state === 'TIME-WAIT');
  assert.ok(await runUntil(clock, () => timeWait() !== undefined && [...b.tcpLayer.connections()].length === 0, 30_000));
  // What a's TIME-WAIT knows of b: the next sequence number and b's last timestamp.
  const old = timeWait()!.snapshot(new Uint8Array(0));
  assert.ok(old.tsOk);
  // Its TIME-WAIT timer goes with it: what is left of 2 MSL.
  assert.ok(old.otherInMs > 0 && old.otherInMs <= 2 * TCP_DEFAULTS.mslMs, `TIME-WAIT left ${old.otherInMs} ms`);

  const shifted: Clock = { now: () => clock.now() + shiftMs, setTimer: (ms, fn) => clock.setTimer(ms, fn) };
  const b2 = moveB(link, b.freeze(), shifted);
  let again: TcpSocket | undefined;
  const started = clock.now();
  void b2.tcp.connect('10.0.0.1', 9, { localPort: 40000 }).then((s) => (again = s));
  const syn = [...b2.tcpLayer.connections()].find((c) => c.localPort === 40000)!.snapshot(new Uint8Array(0));
  assert.ok(seqGt(syn.iss, old.rcvNxt), `ISN ${syn.iss} beyond the old connection's ${old.rcvNxt}`);
  assert.ok(seqGt(syn.tsVal, old.tsRecent), `timestamp ${syn.tsVal} beyond the old connection's ${old.tsRecent}`);
  // a takes the new connection on the old one's 4-tuple at once: no challenge ACK, no SYN resent.
  assert.ok(await runUntil(clock, () => again !== undefined && accepted === 2, 30_000));
  assert.ok(clock.now() - started < RTO_DEFAULTS.minRtoMs, `open after ${clock.now() - started} ms: the SYN was taken, not retransmitted`);
});
}

test('a malformed stack snapshot is refused', () => {
  const { a } = stackPair();
  const good = a.freeze();
  assert.doesNotThrow(() => checkStackSnapshot(deserialize(serialize(good))));
  assert.equal(good.tcp.sequence?.secrets.length, 4);
  // A record from before the secrets were carried has none: still taken.
  assert.doesNotThrow(() => checkStackSnapshot({ ...good, tcp: { ...good.tcp, sequence: undefined } }));
  const conn = { state: 'ESTABLISHED' };
  const sequence = (q: unknown) => ({ ...good, tcp: { ...good.tcp, sequence: q } });
  for (const v of [null, 7, { ...good, address: -1 }, { ...good, arp: [[1, new Uint8Array(5), 0]] }, { ...good, tcp: { connections: [conn], listeners: [] } },
    { ...good, tcp: { connections: [], listeners: [{ port: 0, backlog: 1 }] } }, { ...good, lease: { lease: {}, ageMs: 0 } },
    sequence(null), sequence({ secrets: [1, 2, 3], clockMs: 0 }), sequence({ secrets: [1, 2, 3, 2 ** 32], clockMs: 0 }),
    sequence({ secrets: [1, 2, 3, 4.5], clockMs: 0 }), sequence({ secrets: [1, 2, 3, 4], clockMs: -1 }), sequence({ secrets: [1, 2, 3, 4], clockMs: 2 ** 60 }),
    sequence({ secrets: [1, 2, 3, 4], clockMs: 2 ** 46 }), sequence({ secrets: new Array(4), clockMs: 0 }),
    sequence({ secrets: [1, 2, 3, 4] })]) {
    assert.throws(() => checkStackSnapshot(v), (e: Error) => e instanceof TcpipError && e.code === 'EINVAL', JSON.stringify(v));
  }
});

test('a stopped stack leaves no timer behind for a listener carried over a resume (it would hold the stack for RESUMED_LISTENER_MS)', () => {
  const { clock, link, a, b } = stackPair({ seed: 5 });
  b.tcp.listen(7, () => {});
  const snap = b.freeze();
  a.stop();
  b.stop();
  const b2 = moveB(link, snap, clock);
  // Every timer left once the stack has stopped is due well before the listener's would be.
  b2.stop();
  for (let i = 0, left = clock.next(); left !== undefined && i < 1000; i++, left = clock.next()) {
    assert.ok(left < clock.now() + RESUMED_LISTENER_MS / 2, `a timer ${left - clock.now()} ms ahead outlives the stopped stack`);
    clock.advanceTo(left);
  }
});
