import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { ConnectionRefused } from '../../../../src/tcpip/index.js';
import { TcpForward } from '../../../../src/network/gateway/forward.js';
import { parseForwardSpec } from '../../../../src/network/gateway/forwardspec.js';
import { READ_AHEAD_LIMIT, ReadAhead, SpliceHolds } from '../../../../src/network/gateway/splice.js';
import { formatIpv4, parseIpv4, parseMac, writeIpv4 } from '../../../../src/tcpip/addr.js';
import { encodeQuery } from '../../../../src/tcpip/dns.js';
import { dnsServer, gatewayRig, guest, l4Frame, waitFor } from '../../../support/gateway.js';

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

function collectBytes(s: NodeJS.ReadableStream): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    s.on('data', (d: Uint8Array) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

/** Whether `cond` holds within `ms`, looked at every turn of the loop (a step too quick for waitFor's 10 ms). */
async function soon(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setImmediate(r));
  }
  return true;
}

function collect(s: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

test('gateway: DHCP leases in slirp\'s shape, ARP and ping of .2 and .3, leases kept per MAC', async (t) => {
  const rig = gatewayRig();
  t.after(() => rig.close());
  const a = guest(rig, 1);
  const b = guest(rig, 2);
  const la = await a.stack.dhcp(5000);
  const lb = await b.stack.dhcp(5000);
  assert.deepEqual(a.stack.address, { address: '10.0.2.15', netmask: '255.255.255.0', gateway: '10.0.2.2', dns: ['10.0.2.3'] });
  assert.equal(b.stack.address?.address, '10.0.2.16');
  assert.ok(la.leaseS === 3600 && lb.leaseS === 3600);
  assert.equal(rig.gw.leaseFor('00:16:3e:00:00:01'), la.address);
  assert.ok((await a.stack.icmp.ping('10.0.2.2', 2000)) >= 0);
  assert.ok((await b.stack.icmp.ping('10.0.2.3', 2000)) >= 0);
  // The same MAC asks again (a reboot): it gets its address back.
  a.stack.stop();
  const again = guest(rig, 3);
  assert.equal((await again.stack.dhcp(5000)).address, lb.address + 1);
});

test('gateway: malformed DHCP requests cost only their sender; a good one still gets its lease', async (t) => {
  const rig = gatewayRig();
  t.after(() => rig.close());
  const g = guest(rig, 1);
  const bad: Uint8Array[] = [
    new Uint8Array(10),
    new Uint8Array(300), // no cookie, op 0
    (() => { const b = new Uint8Array(300); b[0] = 1; b[1] = 1; b[2] = 6; b.set([0x63, 0x82, 0x53, 0x63], 236); b.set([53, 200], 240); return b; })(), // option past the end
    (() => { const b = new Uint8Array(300); b[0] = 1; b[1] = 1; b[2] = 6; b[28] = 1; b.set([0x63, 0x82, 0x53, 0x63], 236); b.set([53, 1, 1, 255], 240); return b; })(), // multicast chaddr
    (() => { const b = new Uint8Array(300); b[0] = 1; b[1] = 1; b[2] = 6; b[29] = 9; b.set([0x63, 0x82, 0x53, 0x63], 236); b.set([53, 1, 99, 255], 240); return b; })(), // unknown type
  ];
  for (const payload of bad) {
    g.send(l4Frame({ srcMac: '00:16:3e:00:00:01', dstMac: 'ff:ff:ff:ff:ff:ff', src: '0.0.0.0', dst: '255.255.255.255', proto: 17, srcPort: 68, dstPort: 67, payload }));
  }
  assert.ok(await waitFor(() => rig.gw.dhcp.rejected === bad.length, 20_000), `rejected ${rig.gw.dhcp.rejected}`);
  assert.deepEqual(rig.gw.dhcp.leases(), []);
  assert.equal((await g.stack.dhcp(5000)).address, 0x0a00020f);
});

test('gateway: the DNS relay asks the configured upstream and answers the guest', async (t) => {
  const upstream = await dnsServer('192.0.2.7');
  const rig = gatewayRig({ dnsUpstream: { address: '127.0.0.1', port: upstream.port } });
  t.after(() => {
    rig.close();
    upstream.close();
  });
  const g = guest(rig, 1);
  await g.stack.dhcp(5000);
  assert.deepEqual(await g.stack.dns.resolve('example.test'), ['192.0.2.7']);
  assert.equal(upstream.queries, 1);
  assert.equal(rig.gw.dns.pending, 0);
  // Over TCP (RFC 7766): two queries on one connection, each answered, then our FIN and theirs.
  const conn = await g.stack.tcp.connect('10.0.2.3', 53);
  const framed = (id: number) => {
    const q = encodeQuery(id, 'example.test');
    return Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q]);
  };
  conn.end(Buffer.concat([framed(0x1234), framed(0x5678)]));
  const got = Buffer.from(await collectBytes(conn));
  const answers: Buffer[] = [];
  for (let at = 0; at + 2 <= got.length; at += 2 + got.readUInt16BE(at)) answers.push(got.subarray(at + 2, at + 2 + got.readUInt16BE(at)));
  assert.deepEqual(answers.map((a) => a.readUInt16BE(0)), [0x1234, 0x5678]);
  assert.deepEqual(answers.map((a) => formatIpv4(a.readUInt32BE(a.length - 4))), ['192.0.2.7', '192.0.2.7']);
  assert.equal(upstream.tcpQueries, 2);
  assert.equal(rig.gw.dns.counters.tcpRelayed, 1);
  assert.ok(await waitFor(() => rig.gw.dns.tcpConnections === 0, 5000), 'the relayed connection closed');
});

test('gateway: DNS over TCP is bounded (connections beyond maxTcp are reset) and an upstream that refuses is a reset', async (t) => {
  const silent = createServer((c) => c.on('error', () => {}));
  const quiet = await listen(silent);
  const rig = gatewayRig({ dnsUpstream: { address: '127.0.0.1', port: quiet }, limits: { dns: { maxPending: 4, timeoutMs: 1000, maxTcp: 2, tcpIdleMs: 60_000 } } });
  const refusing = createServer();
  const closedPort = await listen(refusing);
  await new Promise((r) => refusing.close(r));
  const rig2 = gatewayRig({ dnsUpstream: { address: '127.0.0.1', port: closedPort } });
  t.after(() => {
    rig.close();
    rig2.close();
    silent.close();
  });
  const reset = (s: NodeJS.EventEmitter) => new Promise<string | undefined>((resolve) => s.once('error', (e: { code?: string }) => resolve(e.code)));
  const g = guest(rig, 1);
  await g.stack.dhcp(5000);
  // An upstream that never answers: connections stay open, up to the bound.
  const held = await Promise.all([1, 2].map(() => g.stack.tcp.connect('10.0.2.3', 53)));
  assert.ok(await waitFor(() => rig.gw.dns.counters.tcpRelayed === 2, 5000), `relayed ${rig.gw.dns.counters.tcpRelayed}`);
  const third = await g.stack.tcp.connect('10.0.2.3', 53);
  assert.equal(await reset(third), 'ECONNRESET');
  assert.equal(rig.gw.dns.counters.tcpRefused, 1);
  for (const s of held) s.destroy();
  const g2 = guest(rig2, 1);
  await g2.stack.dhcp(5000);
  const refused = await g2.stack.tcp.connect('10.0.2.3', 53);
  assert.equal(await reset(refused), 'ECONNRESET');
  assert.equal(rig2.gw.dns.counters.tcpRefused, 1);
});

test('gateway: NAT of TCP to the gateway (host loopback) and to a mapped address, half-close both ways; refused is a RST', async (t) => {
  const seen: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    // Read to the guest's FIN, then answer and close our side.
    void collect(s).then((got) => {
      seen.push(got);
      s.end(`echo:${got}`);
    });
  });
  const port = await listen(server);
  const rig = gatewayRig({ nat: { '192.0.2.1': '127.0.0.1' } });
  t.after(() => {
    rig.close();
    server.close();
  });
  const g = guest(rig, 1);
  await g.stack.dhcp(5000);
  for (const addr of ['10.0.2.2', '192.0.2.1']) {
    const c = await g.stack.tcp.connect(addr, port);
    const reply = collect(c);
    c.end(`hello ${addr}`);
    assert.equal(await reply, `echo:hello ${addr}`);
  }
  assert.deepEqual(seen, ['hello 10.0.2.2', 'hello 192.0.2.1']);
  assert.equal(rig.gw.tcpNat.counters.connected, 2);
  // A closed host port: the guest's connect is refused at once (the gateway never answered the SYN).
  const closed = createServer();
  const dead = await listen(closed);
  closed.close();
  await assert.rejects(g.stack.tcp.connect('10.0.2.2', dead), ConnectionRefused);
  assert.equal(rig.gw.tcpNat.counters.refused, 1);
  assert.ok(await waitFor(() => rig.gw.tcpNat.flows === 0));
});

test('gateway: NAT of TCP carries the host\'s FIN first and the guest\'s data after it (half-close the other way)', async (t) => {
  let heard: Promise<string> | undefined;
  const server = createServer({ allowHalfOpen: true }, (s) => {
    heard = collect(s);
    s.end('bye'); // our side is done; the guest may still talk
  });
  const port = await listen(server);
  const rig = gatewayRig();
  t.after(() => {
    rig.close();
    server.close();
  });
  const g = guest(rig, 1);
  await g.stack.dhcp(5000);
  const c = await g.stack.tcp.connect('10.0.2.2', port);
  assert.equal(await collect(c), 'bye');
  c.end('still here');
  assert.ok(await waitFor(() => heard !== undefined));
  assert.equal(await heard, 'still here');
});

test('gateway: NAT of UDP: answers come from the address the guest asked; flows are bounded', async (t) => {
  const echo = createSocket('udp4');
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  echo.bind(0, '127.0.0.1');
  await once(echo, 'listening');
  const rig = gatewayRig({ limits: { udp: { maxFlows: 8, idleMs: 60_000 } } });
  t.after(() => {
    rig.close();
    echo.close();
  });
  const g = guest(rig, 1);
  await g.stack.dhcp(5000);
  const got: string[] = [];
  const u = g.stack.udp.bind(0, (m, from) => got.push(`${from.addr}:${from.port} ${Buffer.from(m).toString()}`));
  u.send(new TextEncoder().encode('ping'), '10.0.2.2', echo.address().port);
  assert.ok(await waitFor(() => got.length === 1));
  assert.deepEqual(got, [`10.0.2.2:${echo.address().port} ping`]);
  // A flood of flows from one guest (new source port each): the table stays at its bound.
  for (let i = 0; i < 200; i++) {
    g.send(l4Frame({ srcMac: '00:16:3e:00:00:01', src: '10.0.2.15', dst: '10.0.2.2', proto: 17, srcPort: 20000 + i, dstPort: echo.address().port, payload: new Uint8Array(4) }));
  }
  assert.ok(await waitFor(() => rig.gw.udpNat.counters.toHost >= 201));
  assert.ok(rig.gw.udpNat.size <= 8, `${rig.gw.udpNat.size} flows`);
  assert.ok(rig.gw.udpNat.evicted >= 192);
});

test('gateway: a SYN flood holds at most maxConnecting host connects and maxFlows flows; the gateway keeps answering', async (t) => {
  const accepted: Socket[] = [];
  const server = createServer((s) => accepted.push(s));
  const port = await listen(server);
  const rig = gatewayRig({ limits: { tcp: { maxFlows: 32, maxConnecting: 8, handshakeMs: 300 } } });
  t.after(() => {
    rig.close();
    for (const s of accepted) s.destroy();
    server.close();
  });
  const g = guest(rig, 1);
  await g.stack.dhcp(5000);
  let peakConnecting = 0;
  for (let i = 0; i < 2000; i++) {
    // SYNs from ports the guest's stack does not own: it answers the SYN-ACKs with RSTs, as a spoofing flooder's victim would.
    g.send(l4Frame({ srcMac: '00:16:3e:00:00:01', src: '10.0.2.15', dst: '10.0.2.2', proto: 6, srcPort: 1024 + i, dstPort: port, seq: i }));
    if (i % 100 === 99) {
      await new Promise((r) => setImmediate(r));
      peakConnecting = Math.max(peakConnecting, rig.gw.tcpNat.connecting);
      assert.ok(rig.gw.tcpNat.flows <= 32, `${rig.gw.tcpNat.flows} flows`);
    }
  }
  assert.ok(peakConnecting <= 8);
  assert.ok(rig.gw.tcpNat.counters.dropped > 1000);
  assert.ok((await g.stack.icmp.ping('10.0.2.2', 2000)) >= 0);
  // Once the flood's half-done flows time out, a real connection goes through.
  assert.ok(await waitFor(() => rig.gw.tcpNat.flows === 0, 5000), `${rig.gw.tcpNat.flows} flows left`);
  const c = await g.stack.tcp.connect('10.0.2.2', port);
  c.destroy();
});

test('gateway: host forwards (tcp and udp) reach the guest by its lease; a guest that never reads bounds the host writer', async (t) => {
  const rig = gatewayRig();
  t.after(() => rig.close());
  const g = guest(rig, 1);
  const lease = await g.stack.dhcp(5000);
  const held: unknown[] = [];
  g.stack.tcp.listen(80, (s) => {
    s.on('error', () => {}); // reset when the rig stops
    s.once('data', (d: Buffer) => {
      if (d.toString() === 'hold') {
        s.pause(); // and never read again
        held.push(s);
      }
      else s.end(`guest saw ${d.toString()} from ${s.remoteAddress}`);
    });
  });
  const echo = g.stack.udp.bind(53, (m, from) => echo.send(m, from.addr, from.port));
  const target = () => rig.gw.leaseFor('00:16:3e:00:00:01');
  assert.equal(target(), lease.address);
  const tcp = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, target);
  const udp = await rig.gw.forward({ ...parseForwardSpec('udp:1:53'), hostPort: 0 }, target);
  const c = connect(tcp.boundPort, '127.0.0.1');
  c.write('GET');
  assert.equal(await collect(c), 'guest saw GET from 10.0.2.2');
  const u = createSocket('udp4');
  t.after(() => u.close());
  u.send('q', udp.boundPort, '127.0.0.1');
  const [msg] = (await once(u, 'message')) as [Buffer];
  assert.equal(msg.toString(), 'q');
  // The guest reads one chunk and no more: the host side stops being able to write.
  const w = connect(tcp.boundPort, '127.0.0.1');
  await once(w, 'connect');
  w.write('hold');
  await waitFor(() => held.length === 1);
  const chunk = Buffer.alloc(64 * 1024);
  let sent = 0;
  const end = Date.now() + 1500;
  while (Date.now() < end && sent < 256 * 2 ** 20) {
    if (w.write(chunk)) sent += chunk.length;
    else {
      const drained = await Promise.race([once(w, 'drain').then(() => true), new Promise((r) => setTimeout(() => r(false), 300))]);
      if (!drained) break;
      sent += chunk.length;
    }
  }
  w.destroy();
  assert.ok(sent < 64 * 2 ** 20, `${sent} bytes went into a connection the guest does not read`);
  // No address for the target: a forwarded connection is reset.
  const none = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => undefined);
  const r = connect(none.boundPort, '127.0.0.1');
  await assert.rejects(collect(r), /ECONNRESET/);
});

test('gateway: a holding forward keeps a connection until its guest comes up and listens; the guest\'s announcement answers the gateway\'s ARP', async (t) => {
  const rig = gatewayRig();
  t.after(() => rig.close());
  const g = guest(rig, 7);
  let up!: (booted: boolean) => void;
  const ready = new Promise<boolean>((r) => (up = r));
  const target = () => parseIpv4('10.0.2.77');
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, target, { ready: () => ready, holdMs: 30_000 });
  const c = connect(fwd.boundPort, '127.0.0.1');
  c.write('GET');
  const answer = collect(c);
  await once(c, 'connect');
  // "Booted": the gateway asks who has 10.0.2.77 before anyone does; the guest's stack comes
  // up a little later, announces itself, and listens later still (the first SYN may meet a RST).
  up(true);
  const dropped = rig.gw.dropped;
  await new Promise((r) => setTimeout(r, 20));
  g.stack.configure({ ip: '10.0.2.77/24', gateway: '10.0.2.2' });
  await new Promise((r) => setTimeout(r, 5));
  g.stack.tcp.listen(80, (s) => s.once('data', (d: Buffer) => s.end(`guest saw ${d.toString()} from ${s.remoteAddress}`)));
  assert.equal(await answer, 'guest saw GET from 10.0.2.2');
  assert.equal(rig.gw.dropped, dropped, 'the announcement went to the router, not dropped');
  assert.equal(fwd.counters.accepted, 1);
  // A guest that never comes up: the connection is reset once ready() fails.
  const never = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, target, { ready: () => Promise.reject(new Error('no boot')), holdMs: 30_000 });
  await assert.rejects(collect(connect(never.boundPort, '127.0.0.1')), /ECONNRESET/);
  await assert.rejects(rig.gw.forward({ ...parseForwardSpec('udp:1:53'), hostPort: 0 }, target, { ready: () => ready, holdMs: 1 }), /only a TCP forward can hold/);
});

test('gateway: a held connection reaches its guest as soon as the guest is built and is joined once the boot is done; a boot that fails after the guest answered resets both sides', async (t) => {
  const rig = gatewayRig();
  t.after(() => rig.close());
  const g = guest(rig, 8);
  g.stack.configure({ ip: '10.0.2.78/24', gateway: '10.0.2.2' });
  const seen: { closed: boolean }[] = [];
  g.stack.tcp.listen(80, (s) => {
    const conn = { closed: false };
    seen.push(conn);
    s.on('error', () => {});
    s.once('close', () => (conn.closed = true));
    s.once('data', (d: Buffer) => s.end(`guest saw ${d.toString()}`));
  });
  // Each connection's boot: built at once, done (or failed) when the test says.
  const boots: { done: (booted: boolean) => void; fail: (e: Error) => void }[] = [];
  const hold = {
    ready: (built: () => void) => new Promise<boolean>((done, fail) => {
      boots.push({ done, fail });
      built();
    }),
    holdMs: 30_000,
  };
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => parseIpv4('10.0.2.78'), hold);
  const c = connect(fwd.boundPort, '127.0.0.1');
  c.write('GET');
  const answer = collect(c);
  assert.ok(await waitFor(() => seen.length === 1, 5000), 'the guest took the connection while its boot went on');
  assert.equal(fwd.counters.accepted, 0, 'not joined before the boot is done');
  boots[0]!.done(true);
  assert.equal(await answer, 'guest saw GET');
  assert.equal(fwd.counters.accepted, 1);

  // The boot fails after the guest took the connection: the client is reset, and so is the guest's end.
  const c2 = connect(fwd.boundPort, '127.0.0.1');
  c2.write('GET');
  const refused = collect(c2);
  assert.ok(await waitFor(() => seen.length === 2, 5000));
  boots[1]!.fail(new Error('the record could not be written'));
  await assert.rejects(refused, /ECONNRESET/);
  assert.ok(await waitFor(() => seen[1]!.closed, 5000), "the guest's end of the connection was reset");
  assert.equal(fwd.counters.refused, 1);
  assert.equal(fwd.counters.accepted, 1);
});

test('gateway: a held connection\'s bytes are read while it waits and reach the guest with the join; a client that sends more than is kept, then its FIN, has all of it carried in order', async (t) => {
  const rig = gatewayRig();
  t.after(() => rig.close());
  const g = guest(rig, 9);
  g.stack.configure({ ip: '10.0.2.79/24', gateway: '10.0.2.2' });
  const got: Buffer[] = [];
  const received = () => got.reduce((n, b) => n + b.length, 0);
  let framesAtAccept = 0;
  g.stack.tcp.listen(80, (s) => {
    s.on('error', () => {});
    framesAtAccept = g.port.counters.rxFrames;
    got.length = 0;
    s.on('data', (d: Buffer) => got.push(Buffer.from(d)));
    s.on('end', () => s.end(`guest saw ${received()} bytes`));
  });
  // Each held connection's boot, done when the test says.
  const boots: ((booted: boolean) => void)[] = [];
  let atJoin = -1;
  const hold = {
    ready: (built: () => void) => new Promise<boolean>((r) => {
      boots.push(r);
      built();
    }),
    holdMs: 30_000,
    // Frames into the guest since it took the connection, once the port's queue (a microtask
    // the join's writes started) is flushed: the request's, or none if it waits for a read of
    // the host socket in a later turn.
    settled: () => queueMicrotask(() => (atJoin = g.port.counters.rxFrames - framesAtAccept)),
  };
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => parseIpv4('10.0.2.79'), hold);

  // A request: in the guest as the join is made, not a read of the host socket later.
  const c = connect(fwd.boundPort, '127.0.0.1');
  c.write('GET / HTTP/1.1\r\n\r\n');
  const answer = collect(c);
  assert.ok(await waitFor(() => boots.length === 1 && rig.gw.holds.readAhead === 18), `held, ${rig.gw.holds.readAhead} bytes read ahead`);
  assert.equal(received(), 0, 'nothing reaches the guest before the boot is done');
  boots[0]!(true);
  assert.ok(await waitFor(() => atJoin >= 0), 'joined');
  assert.equal(atJoin, 1, 'the request went to the guest with the join');
  c.end();
  assert.equal(await answer, 'guest saw 18 bytes');

  // Far more than the read-ahead keeps, then the client's FIN, all before the boot is done.
  const big = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  const c2 = connect(fwd.boundPort, '127.0.0.1');
  c2.end(big);
  const answer2 = collect(c2);
  assert.ok(await waitFor(() => boots.length === 2 && rig.gw.holds.readAhead >= READ_AHEAD_LIMIT), `held, ${rig.gw.holds.readAhead} bytes read ahead`);
  boots[1]!(true);
  assert.equal(await answer2, `guest saw ${big.length} bytes`);
  assert.ok(Buffer.concat(got).equals(big), 'every byte, in order');
  assert.equal(fwd.counters.accepted, 2);
});

test('gateway: a held connection whose guest end closes before the boot is done is refused, and the forward no longer counts it', async (t) => {
  const rig = gatewayRig();
  t.after(() => rig.close());
  const g = guest(rig, 10);
  g.stack.configure({ ip: '10.0.2.80/24', gateway: '10.0.2.2' });
  let resets = 0;
  g.stack.tcp.listen(80, (s) => {
    s.on('error', () => {});
    s.reset();
    resets++;
  });
  const boots: ((booted: boolean) => void)[] = [];
  let settled: boolean | undefined;
  const hold = {
    ready: (built: () => void) => new Promise<boolean>((r) => {
      boots.push(r);
      built();
    }),
    holdMs: 30_000,
    settled: (joined: boolean) => (settled = joined),
  };
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => parseIpv4('10.0.2.80'), hold);
  assert.ok(fwd instanceof TcpForward);
  const c = connect(fwd.boundPort, '127.0.0.1');
  t.after(() => c.destroy());
  const refused = assert.rejects(collect(c), /ECONNRESET/);
  assert.ok(await waitFor(() => boots.length === 1 && resets === 1), 'the guest took the connection and reset it while its boot went on');
  // The guest's RST reached the gateway's end (it went through the bridge): its connection is gone.
  assert.ok(await waitFor(() => Object.keys(rig.gw.main.stack.tcpLayer.states()).length === 0), `the gateway's connections: ${JSON.stringify(rig.gw.main.stack.tcpLayer.states())}`);
  await new Promise((r) => setImmediate(r));
  assert.equal(fwd.connections, 1, 'still held');
  boots[0]!(true);
  assert.ok(await waitFor(() => fwd.connections === 0), `the forward still counts ${fwd.connections} connection(s)`);
  assert.equal(settled, false, 'given up, not joined');
  assert.equal(fwd.counters.refused, 1);
  await refused;
});

test('gateway: a read-ahead keeps at most its limit and one read of a client that sends and sends', async (t) => {
  let ahead: ReadAhead | undefined;
  const server = createServer({ pauseOnConnect: true }, (s) => (ahead = new ReadAhead(s, new SpliceHolds())));
  t.after(() => server.close());
  const c = connect(await listen(server), '127.0.0.1');
  t.after(() => c.destroy());
  c.on('error', () => {});
  c.write(Buffer.alloc(4 * 1024 * 1024));
  assert.ok(await waitFor(() => (ahead?.kept ?? 0) >= READ_AHEAD_LIMIT));
  const first = ahead!;
  const kept = first.kept;
  assert.ok(kept <= READ_AHEAD_LIMIT + 64 * 1024, `${kept} bytes kept`);
  // Reads stopped: a second connection's byte is read in a turn of the loop that would also
  // have read the first's (the kernel holds megabytes of it, so its socket stays readable).
  const marker = connect((server.address() as { port: number }).port, '127.0.0.1');
  t.after(() => marker.destroy());
  marker.on('error', () => {});
  marker.write('x');
  assert.ok(await waitFor(() => ahead !== first && ahead!.kept === 1), 'the second connection was read');
  assert.equal(first.kept, kept, 'no read past the limit');
  first.socket.destroy();
  ahead!.socket.destroy();
});

test('gateway: a read-ahead fed 1-byte segments keeps them in one buffer grown by doubling, and the splice gets every byte in order', async (t) => {
  const holds = new SpliceHolds();
  let ahead: ReadAhead | undefined;
  const server = createServer({ pauseOnConnect: true }, (s) => (ahead = new ReadAhead(s, holds)));
  t.after(() => server.close());
  const c = connect(await listen(server), '127.0.0.1');
  t.after(() => c.destroy());
  c.on('error', () => {});
  c.setNoDelay(true);
  const sent = Buffer.alloc(READ_AHEAD_LIMIT + 8 * 1024);
  for (let i = 0; i < sent.length; i++) sent[i] = (i * 13) & 0xff;
  assert.ok(await waitFor(() => ahead !== undefined), 'accepted');
  // Each byte is sent once the last was read: one read each. The buffers the read-ahead
  // allocates are counted where it allocates them.
  const alloc = t.mock.method(Buffer, 'allocUnsafe');
  const singles = 1000;
  for (let i = 0; i < singles; i++) {
    c.write(sent.subarray(i, i + 1));
    assert.ok(await soon(() => ahead!.kept === i + 1), `byte ${i} read on its own (${ahead!.kept} kept)`);
  }
  assert.equal(holds.readAhead, singles);
  // The rest, past the limit, and the client's FIN.
  c.end(sent.subarray(singles));
  assert.ok(await waitFor(() => ahead!.kept >= READ_AHEAD_LIMIT), `${ahead!.kept} bytes kept`);
  const allocations = alloc.mock.callCount();
  alloc.mock.restore();
  assert.ok(allocations <= Math.log2(READ_AHEAD_LIMIT) + 2, `${allocations} buffers allocated for ${singles} reads and more`);
  // The join: what was kept, then the reads that stopped at the limit.
  const got: Buffer[] = [];
  const early = ahead!.take((n, buf) => {
    got.push(Buffer.from(buf.subarray(0, n)));
    return true;
  });
  got.unshift(Buffer.from(early.bytes));
  assert.equal(holds.readAhead, 0, 'nothing counted once the splice took it');
  ahead!.socket.resume();
  await once(ahead!.socket, 'end');
  assert.ok(Buffer.concat(got).equals(sent), 'every byte, in order');
});

test('gateway: restrict=on refuses guest NAT (TCP with a RST, UDP dropped) and the DNS relay; DHCP, ping and host forwards still work', async (t) => {
  const server = createServer((s) => s.end('host'));
  const port = await listen(server);
  const echo = createSocket('udp4');
  let datagrams = 0;
  echo.on('message', (m, r) => {
    datagrams++;
    echo.send(m, r.port, r.address);
  });
  echo.bind(0, '127.0.0.1');
  await once(echo, 'listening');
  const upstream = await dnsServer('192.0.2.7');
  const rig = gatewayRig({ restrict: true, dnsUpstream: { address: '127.0.0.1', port: upstream.port } });
  t.after(() => {
    rig.close();
    server.close();
    echo.close();
    upstream.close();
  });
  const g = guest(rig, 1);
  const lease = await g.stack.dhcp(5000);
  assert.ok((await g.stack.icmp.ping('10.0.2.2', 2000)) >= 0);
  await assert.rejects(g.stack.tcp.connect('10.0.2.2', port), ConnectionRefused);
  const u = g.stack.udp.bind(0, () => assert.fail('no answer may come'));
  u.send(new TextEncoder().encode('ping'), '10.0.2.2', echo.address().port);
  await assert.rejects(g.stack.dns.resolve('example.test'));
  assert.equal(upstream.queries, 0);
  assert.equal(datagrams, 0);
  assert.equal(rig.gw.tcpNat.counters.connected, 0);
  assert.ok(rig.gw.counters.denied >= 2, `denied ${rig.gw.counters.denied}`);
  // The host still reaches the guest through a forward.
  g.stack.tcp.listen(80, (s) => s.on('error', () => {}).end('guest')); // reset when the rig stops
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => lease.address);
  assert.equal(await collect(connect(fwd.boundPort, '127.0.0.1')), 'guest');
  // restrict=off: NAT again.
  rig.gw.restrict = false;
  assert.equal(await collect(await g.stack.tcp.connect('10.0.2.2', port)), 'host');
});

test('gateway: guests never reach the host\'s own control ports through the NAT (XenAPI\'s 8443 by default, and the ports the host adds)', async (t) => {
  let accepted = 0;
  const server = createServer((s) => {
    accepted++;
    s.end('control');
  });
  const port = await listen(server);
  const rig = gatewayRig({ nat: { '192.0.2.1': '127.0.0.1' } });
  t.after(() => {
    rig.close();
    server.close();
  });
  assert.deepEqual(rig.gw.deniedHostPorts, { tcp: [8443], udp: [4789] });
  const g = guest(rig, 1);
  await g.stack.dhcp(5000);
  assert.equal(await collect(await g.stack.tcp.connect('10.0.2.2', port)), 'control', 'allowed until denied');
  rig.gw.denyHostPort('tcp', port);
  for (const addr of ['10.0.2.2', '192.0.2.1']) await assert.rejects(g.stack.tcp.connect(addr, port), ConnectionRefused, addr);
  await assert.rejects(g.stack.tcp.connect('10.0.2.2', 8443), ConnectionRefused);
  assert.equal(accepted, 1);
  assert.equal(rig.gw.counters.denied, 3);
  assert.equal(rig.gw.info().denied, 3);
});

/** A gratuitous ARP reply: `mac` says it has `ip`. */
function arpClaim(mac: string, ip: string): Uint8Array {
  const f = new Uint8Array(42);
  const m = parseMac(mac);
  f.set(parseMac('ff:ff:ff:ff:ff:ff'), 0);
  f.set(m, 6);
  f[12] = 0x08; f[13] = 0x06;
  f[15] = 1; f[16] = 0x08; f[18] = 6; f[19] = 4; f[21] = 2;
  f.set(m, 22);
  writeIpv4(f, 28, parseIpv4(ip));
  f.set(parseMac('ff:ff:ff:ff:ff:ff'), 32);
  writeIpv4(f, 38, parseIpv4('10.0.2.2'));
  return f;
}

test('gateway: a guest that claims another\'s leased address (IP, ARP, DHCP for its MAC) cannot pull its forwarded traffic', async (t) => {
  const rig = gatewayRig();
  t.after(() => rig.close());
  const victim = guest(rig, 1);
  const lease = await victim.stack.dhcp(5000);
  victim.stack.tcp.listen(80, (s) => s.on('error', () => {}).end('victim')); // reset when the rig stops
  const attacker = guest(rig, 2);
  attacker.stack.configure({ ip: `${formatIpv4(lease.address)}/24` });
  attacker.stack.tcp.listen(80, (s) => s.on('error', () => {}).end('attacker')); // reset when the rig stops
  const claim = { srcMac: '00:16:3e:00:00:02', src: formatIpv4(lease.address), dst: '10.0.2.2', srcPort: 4000 } as const;
  attacker.send(l4Frame({ ...claim, proto: 17, dstPort: 9, payload: new Uint8Array(4) }));
  attacker.send(l4Frame({ ...claim, proto: 6, dstPort: 9 }));
  attacker.send(arpClaim('00:16:3e:00:00:02', formatIpv4(lease.address)));
  // A DHCP RELEASE in the victim's name (its MAC as chaddr, from the attacker's port).
  const release = new Uint8Array(300);
  release[0] = 1; release[1] = 1; release[2] = 6;
  release.set(parseMac('00:16:3e:00:00:01'), 28);
  release.set([0x63, 0x82, 0x53, 0x63], 236);
  release.set([53, 1, 7, 255], 240);
  attacker.send(l4Frame({ srcMac: '00:16:3e:00:00:02', dstMac: 'ff:ff:ff:ff:ff:ff', src: '0.0.0.0', dst: '255.255.255.255', proto: 17, srcPort: 68, dstPort: 67, payload: release }));
  assert.ok(await waitFor(() => rig.gw.counters.dropSpoof >= 4, 20_000), `dropSpoof ${rig.gw.counters.dropSpoof}`);
  assert.equal(rig.gw.leaseFor('00:16:3e:00:00:01'), lease.address, 'the lease stays the victim\'s');
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => rig.gw.leaseFor('00:16:3e:00:00:01'));
  for (let i = 0; i < 3; i++) assert.equal(await collect(connect(fwd.boundPort, '127.0.0.1')), 'victim');
  // An address nobody leased or bound belongs to its first user; a vif's ip= (bind) to its MAC.
  const other = guest(rig, 3);
  other.stack.configure({ ip: '10.0.2.100/24' });
  assert.ok((await other.stack.icmp.ping('10.0.2.2', 2000)) >= 0);
  rig.gw.bind(parseIpv4('10.0.2.100'), '00:16:3e:00:00:02');
  await assert.rejects(other.stack.icmp.ping('10.0.2.2', 500));
  // The domain with that ip= is gone (unbind): its address is free for its first user again.
  rig.gw.unbind(parseIpv4('10.0.2.100'), '00:16:3e:00:00:02');
  assert.ok((await other.stack.icmp.ping('10.0.2.2', 2000)) >= 0);
});
