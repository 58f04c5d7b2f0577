import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TcpSocket } from '../../../../src/tcpip/tcp/socket.js';
import { ACK, SYN, parseSegment } from '../../../../src/tcpip/tcp/wire.js';
import { rng } from '../../../support/random.js';
import { collect, runPromise, runUntil, stackPair, tcpFrame } from '../../../support/tcpip-link.js';

test('a SYN flood fills only the bounded half-open table; an established connection keeps its throughput', async () => {
  const { clock, link, a, b } = stackPair({ tcp: { backlog: 16 } });
  let server: TcpSocket | undefined;
  b.tcp.listen(80, (s) => { server = s; });
  const client = await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
  assert.ok(await runUntil(clock, () => server !== undefined));
  const got = collect(server!);
  const r = rng(9);
  const data = Buffer.alloc(512 * 1024, 1);
  client.end(data);
  // 20,000 SYNs from spoofed addresses, interleaved with the transfer.
  for (let i = 0; i < 20_000; i++) {
    const src = `10.0.0.${10 + (i % 200)}`;
    link.b.deliver(tcpFrame({ src, dst: '10.0.0.2', srcPort: 1024 + Math.floor(r() * 60000), dstPort: 80, seq: Math.floor(r() * 2 ** 32), flags: SYN }));
    if (i % 1000 === 0) await runUntil(clock, () => false, 1);
  }
  assert.ok(b.tcpLayer.connectionCount <= 16 + 1, `${b.tcpLayer.connectionCount} connections`);
  assert.ok(b.arp.pendingCount <= b.arp.opts.maxPending);
  assert.ok(b.tcpLayer.counters.halfOpenEvicted > 19_000);
  assert.ok(await runUntil(clock, () => got.ended(), 60_000));
  assert.equal(got.bytes().length, data.length);
  // Half-open connections expire after their SYN-ACK retries.
  assert.ok(await runUntil(clock, () => b.tcpLayer.connectionCount <= 1, 600_000));
});

test('10,000 connections attempted against a stack that allows 1,000: the rest are refused quietly, memory stays bounded', async () => {
  const { clock, a, b } = stackPair({ tcpB: { maxConnections: 1000, backlog: 2000 } });
  const accepted: TcpSocket[] = [];
  b.tcp.listen(80, (s) => {
    s.on('error', () => {});
    accepted.push(s);
  });
  const tries: Promise<TcpSocket>[] = [];
  for (let i = 0; i < 10_000; i++) {
    const p = a.tcp.connect('10.0.0.2', 80);
    p.catch(() => {});
    tries.push(p);
  }
  const results = await runPromise(clock, Promise.allSettled(tries), 3_600_000);
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  await runUntil(clock, () => false, 100); // the handshakes' last ACKs land
  assert.ok(b.tcpLayer.connectionCount <= 1000);
  assert.equal(ok, accepted.length);
  assert.ok(ok >= 900 && ok <= 1000, `${ok} connected`);
  assert.ok(b.tcpLayer.counters.synDropped > 0);
  // The accepted ones work.
  const got = collect(accepted[0]!);
  const first = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<TcpSocket>;
  for (const r of results) if (r.status === 'fulfilled' && r.value !== first.value) r.value.destroy();
  first.value.end('ok');
  assert.ok(await runUntil(clock, () => got.ended() || accepted.some((s) => s.readableEnded), 60_000));
});

test('segments for nobody get RSTs as RFC 9293 says: seq from their ACK, or ACK of their sequence space', async () => {
  const { clock, link, b } = stackPair();
  const rsts: { seq: number; ack: number; flags: number }[] = [];
  link.b.onTransmit = (f) => {
    if (f[23] !== 6) return;
    rsts.push({ seq: ((f[38]! << 24) | (f[39]! << 16) | (f[40]! << 8) | f[41]!) >>> 0, ack: ((f[42]! << 24) | (f[43]! << 16) | (f[44]! << 8) | f[45]!) >>> 0, flags: f[47]! });
  };
  await runPromise(clock, b.icmp.ping('10.0.0.1'));
  link.b.deliver(tcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 5000, dstPort: 9, seq: 100, ack: 777, flags: ACK }));
  link.b.deliver(tcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 5000, dstPort: 9, seq: 100, flags: SYN, payload: new Uint8Array(5) }));
  await runUntil(clock, () => false, 10);
  assert.deepEqual(rsts, [{ seq: 777, ack: 0, flags: 0x04 }, { seq: 0, ack: 106, flags: 0x14 }]);
});

test('malformed segments are dropped and counted: bad checksum, data offset past the end, bad option lengths', async () => {
  const { clock, link, b } = stackPair();
  b.tcp.listen(80, () => {});
  const base = { src: '10.0.0.1', dst: '10.0.0.2', srcPort: 5000, dstPort: 80, seq: 1, flags: SYN };
  const bad: Uint8Array[] = [];
  const sum = tcpFrame(base);
  sum[50] = (sum[50]! ^ 0xff);
  bad.push(sum);
  const doff = tcpFrame(base);
  doff[46] = 0xf0; // 60-byte header in a 20-byte segment
  bad.push(tcpFrame({ ...base }).subarray(0, 40)); // truncated header (IP length then lies)
  for (const opts of [[2, 4, 5], [2, 0, 0, 0], [8, 12, 0, 0], [3, 2, 0, 0], [2, 40, 1, 1], [1, 1, 1, 2]]) {
    bad.push(tcpFrame({ ...base, options: Uint8Array.from([...opts, 0, 0, 0, 0].slice(0, 4)) }));
  }
  for (const f of bad) link.b.deliver(f);
  link.b.deliver(doff);
  await runUntil(clock, () => false, 10);
  assert.equal(b.tcpLayer.connectionCount, 0);
  assert.ok(b.tcpLayer.counters.rxBad + b.ip.counters.rxBadHeader >= bad.length, JSON.stringify(b.tcpLayer.counters));
});

test('a bounded seeded fuzz of frames into a listening stack: nothing throws, memory stays bounded, the stack still answers', async () => {
  const { clock, link, a, b } = stackPair();
  b.tcp.listen(80, (s) => s.end('hi'));
  const r = rng(2026);
  const templates = [
    tcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 5000, dstPort: 80, seq: 1, flags: SYN, options: Uint8Array.of(2, 4, 5, 180, 3, 3, 7, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1) }),
    tcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 5000, dstPort: 80, seq: 1, ack: 5, flags: ACK, payload: new Uint8Array(100) }),
  ];
  for (let i = 0; i < 20_000; i++) {
    const t = templates[i % templates.length]!;
    const f = t.slice(0, Math.max(1, Math.floor(r() * (t.length + 8))));
    const flips = 1 + Math.floor(r() * 6);
    for (let k = 0; k < flips; k++) f[Math.floor(r() * f.length)] = Math.floor(r() * 256);
    // Keep the Ethernet header sane half of the time so the fuzz reaches IP and TCP.
    if (i % 2 === 0 && f.length >= 14) f.set(t.subarray(0, 14), 0);
    link.b.deliver(f);
    if (i % 2000 === 0) await runUntil(clock, () => false, 5);
  }
  assert.ok(b.tcpLayer.connectionCount <= b.tcpLayer.config.backlog + 1);
  assert.ok(b.ip.reassembly.bytes <= b.ip.reassembly.opts.maxBytes);
  const c = await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
  const got = collect(c);
  assert.ok(await runUntil(clock, () => got.ended(), 10_000));
  assert.equal(got.bytes().toString(), 'hi');
});

test('a seeded fuzz of segments aimed at an established connection: it never throws, and it closes or keeps working', async () => {
  const { clock, link, a, b } = stackPair();
  let server: TcpSocket | undefined;
  b.tcp.listen(80, (s) => {
    server = s;
    s.on('error', () => {});
  });
  const client = await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
  client.on('error', () => {});
  assert.ok(await runUntil(clock, () => server !== undefined));
  const conn = [...b.tcpLayer.connections()][0]!;
  const r = rng(77);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  for (let i = 0; i < 5000 && conn.state !== 'CLOSED'; i++) {
    const near = (x: number) => (x + Math.floor((r() - 0.5) * 2 ** (1 + Math.floor(r() * 31)))) >>> 0;
    const opts = r() < 0.3 ? Uint8Array.from({ length: 4 * Math.floor(r() * 4) }, () => pick([0, 1, 2, 3, 4, 5, 8, 10, 255, Math.floor(r() * 256)])) : undefined;
    link.b.deliver(tcpFrame({
      src: '10.0.0.1', dst: '10.0.0.2', srcPort: client.localPort, dstPort: 80,
      seq: near(conn.rcvNxt), ack: near(conn.sndNxt), flags: Math.floor(r() * 64) & ~0x04 | (r() < 0.02 ? 0x04 : 0),
      window: Math.floor(r() * 65536), options: opts, payload: new Uint8Array(Math.floor(r() * 64)),
    }));
    if (i % 500 === 0) await runUntil(clock, () => false, 5);
  }
  await runUntil(clock, () => false, 1000);
  assert.ok(conn.rcvQueue.length <= b.tcpLayer.config.rcvBufMax + 1500);
  assert.ok(conn.sndBuf.length <= b.tcpLayer.config.sndBufMax);
  if (conn.state === 'ESTABLISHED' || conn.state === 'CLOSE-WAIT') {
    // Still a working connection in the direction the fuzz did not touch.
    const got = collect(client);
    server!.write('after the fuzz');
    assert.ok(await runUntil(clock, () => got.bytes().toString().endsWith('after the fuzz'), 60_000));
  }
  // Either way a new connection works.
  const c2 = await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
  c2.destroy();
});

/** The server closes first, so that it holds each connection in TIME-WAIT; the client then comes back from the same port. */
function closingServer() {
  const rig = stackPair();
  rig.b.tcp.listen(80, (s) => {
    collect(s);
    s.end('bye');
  });
  const synsFromA: number[] = [];
  rig.link.a.onTransmit = (f) => {
    const s = parseSegment(f.subarray(34));
    if (s && s.flags & SYN) synsFromA.push(s.seq);
  };
  const exchange = async (localPort: number) => {
    const c = await runPromise(rig.clock, rig.a.tcp.connect('10.0.0.2', 80, { localPort }));
    const got = collect(c);
    assert.ok(await runUntil(rig.clock, () => got.ended()));
    c.end();
    assert.ok(await runUntil(rig.clock, () => rig.a.tcpLayer.connectionCount === 0 && rig.b.tcpLayer.timeWaitCount === 1));
  };
  return { ...rig, synsFromA, exchange };
}

test('RFC 6191 and RFC 6528: a client back on the same port while the server holds the old connection in TIME-WAIT is taken at its first SYN', async () => {
  const { clock, b, synsFromA, exchange } = closingServer();
  for (let i = 0; i < 8; i++) {
    await exchange(40000);
    await runUntil(clock, () => false, 1); // the next incarnation a millisecond later
  }
  // One SYN each: none waited out a retransmission behind the TIME-WAIT connection (random ISNs fell below the old one half the time).
  assert.equal(synsFromA.length, 8);
  assert.equal(b.tcpLayer.timeWaitCount, 1);
  assert.equal(b.tcpLayer.connectionCount, 1);
});

test('RFC 6191: in TIME-WAIT a SYN with a newer timestamp opens a new connection even below the old sequence space; an older one does not', async () => {
  const { clock, link, b, synsFromA, exchange } = closingServer();
  let lastTs = 0;
  const record = link.a.onTransmit!;
  link.a.onTransmit = (f, info) => {
    record(f, info);
    const s = parseSegment(f.subarray(34));
    if (s?.opts.ts) lastTs = s.opts.ts.val;
  };
  await exchange(40000);
  link.a.handlers.clear(); // a hears nothing more: only what b does is seen
  const tw = [...b.tcpLayer.connections()][0]!;
  assert.equal(tw.state, 'TIME-WAIT');
  const ts = (val: number) => new Uint8Array([1, 1, 8, 10, val >>> 24, (val >>> 16) & 255, (val >>> 8) & 255, val & 255, 0, 0, 0, 0]);
  const syn = (seq: number, val?: number) => tcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80, seq: seq >>> 0, flags: SYN,
    ...(val === undefined ? {} : { options: ts(val >>> 0) }) });
  // Below the old sequence space with an older timestamp, or none: the TIME-WAIT connection stays.
  link.b.deliver(syn(tw.rcvNxt - 1000, lastTs - 1));
  link.b.deliver(syn(tw.rcvNxt - 1000));
  assert.deepEqual(b.tcpLayer.states(), { 'TIME-WAIT': 1 });
  // Below it with a newer timestamp: a new connection in SYN-RECEIVED.
  link.b.deliver(syn(tw.rcvNxt - 1000, lastTs + 1));
  assert.deepEqual(b.tcpLayer.states(), { 'SYN-RECEIVED': 1 });
  assert.equal(synsFromA.length, 1);
  await runUntil(clock, () => false, 10);
});
