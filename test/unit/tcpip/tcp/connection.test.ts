import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionRefused, ConnectionReset, NoRoute, Timeout } from '../../../../src/tcpip/errors.js';
import type { Connection } from '../../../../src/tcpip/tcp/connection.js';
import type { TcpSocket } from '../../../../src/tcpip/tcp/socket.js';
import { ACK, RST, SYN, parseSegment } from '../../../../src/tcpip/tcp/wire.js';
import { NET_FRAME_PLAIN } from '../../../../src/abi/netif.js';
import { collect, runPromise, runUntil, stackPair, tcpFrame } from '../../../support/tcpip-link.js';

function only(it: IterableIterator<Connection>): Connection {
  const all = [...it];
  assert.equal(all.length, 1, `one connection, not ${all.length}`);
  return all[0]!;
}

async function connected(o: Parameters<typeof stackPair>[0] = {}) {
  const rig = stackPair(o);
  let server: TcpSocket | undefined;
  rig.b.tcp.listen(80, (s) => { server = s; });
  const client = await runPromise(rig.clock, rig.a.tcp.connect('10.0.0.2', 80));
  assert.ok(await runUntil(rig.clock, () => server !== undefined));
  return { ...rig, client, server: server! };
}

test('a SYN to a closed port is answered with RST: ConnectionRefused', async () => {
  const { clock, a } = stackPair();
  await assert.rejects(runPromise(clock, a.tcp.connect('10.0.0.2', 81)), ConnectionRefused);
});

test('nobody at the address: ARP fails and connect rejects with NoRoute; off-subnet without gateway at once', async () => {
  const { clock, a } = stackPair();
  await assert.rejects(runPromise(clock, a.tcp.connect('10.0.0.99', 80)), NoRoute);
  await assert.rejects(a.tcp.connect('192.168.1.1', 80), NoRoute);
});

test('a peer that swallows SYNs: connect rejects with Timeout after the SYN retries', async () => {
  const { clock, link, a } = stackPair();
  await runPromise(clock, a.icmp.ping('10.0.0.2')); // ARP answered
  link.b.handlers.clear(); // b goes deaf
  await assert.rejects(runPromise(clock, a.tcp.connect('10.0.0.2', 80)), Timeout);
  // Each SYN sent again is counted, as a retransmission a timeout caused.
  assert.deepEqual([a.tcpLayer.counters.retransmits, a.tcpLayer.counters.timeouts], [5, 5]);
});

test('simultaneous open: two SYNs cross, both sides reach ESTABLISHED and exchange data', async () => {
  const { clock, a, b } = stackPair({ delayMs: 5 });
  await runPromise(clock, a.icmp.ping('10.0.0.2'));
  const pa = a.tcp.connect('10.0.0.2', 7000, { localPort: 7001 });
  const pb = b.tcp.connect('10.0.0.1', 7001, { localPort: 7000 });
  const [sa, sb] = await runPromise(clock, Promise.all([pa, pb]));
  const ra = collect(sa);
  const rb = collect(sb);
  sa.end('from a');
  sb.end('from b');
  assert.ok(await runUntil(clock, () => ra.ended() && rb.ended()));
  assert.equal(ra.bytes().toString(), 'from b');
  assert.equal(rb.bytes().toString(), 'from a');
  // Simultaneous close: both sides pass through CLOSING or FIN-WAIT-2 into TIME-WAIT.
  assert.ok(await runUntil(clock, () => a.tcpLayer.timeWaitCount === 1 && b.tcpLayer.timeWaitCount === 1, 10_000));
  assert.ok(await runUntil(clock, () => a.tcpLayer.connectionCount === 0 && b.tcpLayer.connectionCount === 0));
});

test('TIME-WAIT lasts 2 MSL on the side that closed first, then the connection is gone', async () => {
  const { clock, a, b, client, server } = await connected({ tcp: { mslMs: 1000 } });
  collect(server);
  server.on('end', () => server.end());
  client.end();
  collect(client);
  assert.ok(await runUntil(clock, () => a.tcpLayer.timeWaitCount === 1, 1000));
  const entered = clock.now();
  assert.equal(b.tcpLayer.timeWaitCount, 0);
  assert.ok(await runUntil(clock, () => a.tcpLayer.connectionCount === 0));
  assert.ok(clock.now() - entered >= 2000 - 10, `left TIME-WAIT after ${clock.now() - entered} ms`);
  assert.ok(clock.now() - entered <= 2000 + 10);
});

test('RFC 5961: an in-window RST that misses rcvNxt gets a challenge ACK; only the exact one resets', async () => {
  const { clock, link, b, client, server } = await connected();
  const conn = only(b.tcpLayer.connections());
  const acks: number[] = [];
  link.b.onTransmit = (f) => {
    const s = parseSegment(f.subarray(34));
    if (s && s.flags === ACK) acks.push(s.ack);
  };
  const base = { src: '10.0.0.1', dst: '10.0.0.2', srcPort: client.localPort, dstPort: 80 };
  link.b.deliver(tcpFrame({ ...base, seq: conn.rcvNxt + 1000, flags: RST }));
  await runUntil(clock, () => false, 10);
  assert.equal(conn.state, 'ESTABLISHED');
  assert.deepEqual(acks, [conn.rcvNxt], 'one challenge ACK');
  link.b.deliver(tcpFrame({ ...base, seq: conn.rcvNxt + 10_000_000, flags: RST })); // outside: ignored
  await runUntil(clock, () => false, 10);
  assert.equal(conn.state, 'ESTABLISHED');
  // A SYN on the established pair: a challenge ACK, never a reset.
  link.b.deliver(tcpFrame({ ...base, seq: conn.rcvNxt + 5, flags: SYN }));
  await runUntil(clock, () => false, 10);
  assert.equal(conn.state, 'ESTABLISHED');
  assert.equal(acks.length, 2);
  // An ACK for data never sent is dropped (with an ACK), not taken.
  link.b.deliver(tcpFrame({ ...base, seq: conn.rcvNxt, ack: conn.sndNxt + 100_000, flags: ACK }));
  await runUntil(clock, () => false, 10);
  assert.equal(conn.state, 'ESTABLISHED');
  // The connection still works.
  const got = collect(server);
  client.write('still here');
  assert.ok(await runUntil(clock, () => got.bytes().length === 10, 1000));
  const err = new Promise<Error>((r) => server.once('error', r));
  link.b.deliver(tcpFrame({ ...base, seq: conn.rcvNxt, flags: RST }));
  assert.ok((await runPromise(clock, err)) instanceof ConnectionReset);
  assert.equal(b.tcpLayer.connectionCount, 0);
});

test('a reader that never reads: the window closes, the sender probes forever with bounded memory', async () => {
  const { clock, a, b, client, server } = await connected({ tcp: { rcvBufMax: 64 * 1024, sndBufMax: 64 * 1024 } });
  server.pause();
  let written = 0;
  const chunk = Buffer.alloc(16 * 1024, 7);
  const pump = () => {
    while (written < 10 * 1024 * 1024 && client.write(chunk)) written += chunk.length;
  };
  client.on('drain', () => { written += chunk.length; pump(); });
  pump();
  await runUntil(clock, () => false, 3_600_000); // an hour
  const sender = only(a.tcpLayer.connections());
  const receiver = only(b.tcpLayer.connections());
  assert.equal(sender.state, 'ESTABLISHED');
  assert.equal(sender.sndWnd, 0);
  assert.ok(sender.sndBuf.length <= 64 * 1024);
  assert.ok(client.writableLength <= 64 * 1024 + chunk.length);
  assert.ok(receiver.rcvQueue.length <= 64 * 1024 + 1448, `receive queue ${receiver.rcvQueue.length}`);
  assert.ok(server.readableLength <= 128 * 1024);
  assert.ok(written < 512 * 1024, `the writer was held back at ${written} bytes`);
  assert.ok(client.stats.zeroWindowProbes > 5, `probes ${client.stats.zeroWindowProbes}`);
  assert.ok(server.stats.zeroWindowsOut > 0);
  // Reading again opens the window and the transfer resumes.
  const got = collect(server);
  server.resume();
  assert.ok(await runUntil(clock, () => got.bytes().length > 256 * 1024, 60_000));
});

test('keepalive: a peer that vanishes is found out and the connection fails with Timeout', async () => {
  const { clock, link, client } = await connected();
  client.setKeepAlive(true, 10_000, 1000, 3);
  const err = new Promise<Error>((r) => client.once('error', r));
  link.up = false;
  assert.ok((await runPromise(clock, err)) instanceof Timeout);
  assert.ok(clock.now() < 20_000);
});

test('data retransmission gives up with Timeout when the peer stops answering', async () => {
  const { clock, link, client } = await connected();
  const err = new Promise<Error>((r) => client.once('error', r));
  link.up = false;
  client.write('lost forever');
  assert.ok((await runPromise(clock, err, 3_600_000)) instanceof Timeout);
});

test('Nagle holds small writes while data is in flight; setNoDelay sends them at once', async () => {
  const { clock, link, client, server } = await connected({ delayMs: 10 });
  const sizes: number[] = [];
  link.a.onTransmit = (f) => {
    const s = parseSegment(f.subarray(34));
    if (s && s.payload.length > 0) sizes.push(s.payload.length);
  };
  const got = collect(server);
  for (let i = 0; i < 10; i++) client.write('x');
  assert.ok(await runUntil(clock, () => got.bytes().length === 10, 1000));
  assert.deepEqual(sizes, [1, 9]);
  sizes.length = 0;
  client.setNoDelay(true);
  for (let i = 0; i < 10; i++) client.write('y');
  assert.ok(await runUntil(clock, () => got.bytes().length === 20, 1000));
  assert.equal(sizes.length, 10);
});

test('checksum offload and GSO: csumBlank frames and super-frames carry a transfer intact', async () => {
  const { clock, link, client, server } = await connected({ offloads: { csum: true, gsoTcpv4: true } });
  let blank = 0;
  let gso = 0;
  link.a.onTransmit = (_f, info) => {
    if (info.csumBlank) blank++;
    if (info.gso) gso++;
  };
  const data = Buffer.alloc(1 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 255;
  const got = collect(server);
  client.end(data);
  assert.ok(await runUntil(clock, () => got.ended()));
  assert.ok(got.bytes().equals(data));
  assert.ok(blank > 0 && gso > 0, `${blank} csumBlank frames, ${gso} GSO frames`);
});

test('received frames that are owned (netfront\'s reassembled ones) are queued for the reader without a copy; others are copied', async () => {
  const { clock, link, client, server } = await connected();
  const deliver = link.b.deliver.bind(link.b);
  const owned = new Set<ArrayBufferLike>();
  let n = 0;
  link.b.deliver = (frame, info = NET_FRAME_PLAIN) => {
    if (frame.length < 1000 || n++ % 2 === 0) {
      deliver(frame, info);
      frame.fill(0xee); // valid during the call only: what the stack kept must be a copy
    } else {
      owned.add(frame.buffer);
      deliver(frame, { ...info, owned: true });
    }
  };
  const chunks: Uint8Array[] = [];
  server.on('data', (c: Uint8Array) => chunks.push(c));
  const data = Buffer.alloc(64 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 255;
  client.end(data);
  assert.ok(await runUntil(clock, () => chunks.reduce((a, c) => a + c.length, 0) === data.length));
  assert.ok(Buffer.concat(chunks).equals(data));
  const kept = chunks.filter((c) => owned.has(c.buffer)).length;
  assert.ok(owned.size > 0 && kept > 0, `${kept} chunks read straight from ${owned.size} owned frames`);
  assert.ok(chunks.some((c) => !owned.has(c.buffer)), 'the frames that were not owned were copied');
});

test('SACK: three segments lost from one window are resent from the peer\'s SACK blocks in one round trip, no timeout', async () => {
  const run = async (sack: boolean) => {
    const rig = await connected({ delayMs: 10, tcp: { sack } });
    const { clock, link, a, client, server } = rig;
    const conn = only(a.tcpLayer.connections());
    // Drop the first transmission of the 3rd, 5th and 7th data segments from a.
    const drop = new Set([3, 5, 7]);
    const dropped = new Set<number>();
    let dataSegs = 0;
    let sackBlocksSeen = 0;
    let lastResent = 0;
    const carry = link.carry.bind(link);
    link.carry = (to, frame, info) => {
      const s = parseSegment(frame.subarray(34));
      if (s && to === link.b && s.payload.length > 0 && !dropped.has(s.seq) && drop.has(++dataSegs)) {
        dropped.add(s.seq);
        return;
      }
      if (s && to === link.b && dropped.has(s.seq)) lastResent = clock.now();
      if (s && to === link.a && s.opts.sack) sackBlocksSeen++;
      carry(to, frame, info);
    };
    const data = Buffer.alloc(64 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 255;
    const got = collect(server);
    const start = clock.now();
    client.end(data);
    assert.ok(await runUntil(clock, () => got.ended(), 60_000));
    assert.ok(got.bytes().equals(data));
    assert.equal(dropped.size, 3);
    // When the last hole was filled (the end of the transfer also depends on how the window grew).
    return { ms: lastResent - start, stats: { ...conn.stats }, sackBlocksSeen };
  };
  const withSack = await run(true);
  const without = await run(false);
  assert.ok(withSack.sackBlocksSeen > 0, 'the receiver sent SACK blocks');
  assert.equal(without.sackBlocksSeen, 0, 'no SACK blocks unless both sides offered SACK');
  assert.equal(withSack.stats.timeouts, 0);
  assert.equal(withSack.stats.sackRetransmits, 2, 'the 2nd and 3rd holes resent from SACK information');
  assert.equal(withSack.stats.retransmits, 3, 'each lost segment resent once');
  assert.ok(withSack.ms < without.ms, `the last hole resent after ${withSack.ms} ms with SACK, ${without.ms} ms without`);
});

test('RFC 7323: window scaling and timestamps are negotiated, a window over 64 KiB is used, and PAWS drops a segment with an old timestamp', async () => {
  const { clock, link, a, b, client, server } = await connected({ delayMs: 10 });
  const cc = only(a.tcpLayer.connections());
  const sc = only(b.tcpLayer.connections());
  let lastTs: { val: number; ecr: number } | undefined;
  link.a.onTransmit = (f) => {
    const s = parseSegment(f.subarray(34));
    if (s?.opts.ts) lastTs = s.opts.ts;
  };
  const got = collect(server);
  client.write('fresh');
  assert.ok(await runUntil(clock, () => got.bytes().toString() === 'fresh', 1000));
  assert.ok(lastTs, 'every segment carries a timestamp');
  // The SYN-ACK's window is unscaled; the first one after it is scaled.
  assert.ok(await runUntil(clock, () => cc.sndWnd > 0xffff, 1000), `the client may send ${cc.sndWnd} bytes unacknowledged: the server's window is scaled`);
  // A segment in the window with the right sequence number but an older timestamp: dropped.
  const ts = new Uint8Array(12);
  ts.set([1, 1, 8, 10]);
  new DataView(ts.buffer).setUint32(4, (lastTs.val - 1000) >>> 0);
  new DataView(ts.buffer).setUint32(8, lastTs.ecr);
  link.b.deliver(tcpFrame({
    src: '10.0.0.1', dst: '10.0.0.2', srcPort: client.localPort, dstPort: 80, seq: sc.rcvNxt, ack: sc.sndNxt, flags: ACK,
    options: ts, payload: new TextEncoder().encode('stale'),
  }));
  client.write(' again');
  assert.ok(await runUntil(clock, () => got.bytes().length >= 11, 1000));
  assert.equal(got.bytes().toString(), 'fresh again');
});

test('delayed ACK: one small segment is acknowledged after delayedAckMs, two full-sized ones at once', async () => {
  const { clock, link, client, server } = await connected({ delayMs: 10, tcp: { delayedAckMs: 40 } });
  client.setNoDelay(true);
  const got = collect(server);
  // The first data opens the scaled window with an immediate update: out of the way first.
  client.write('warm');
  assert.ok(await runUntil(clock, () => got.bytes().length === 4, 1000));
  await runUntil(clock, () => false, 500);
  const acks: number[] = [];
  let arrived = 0;
  link.b.onTransmit = (f) => {
    const s = parseSegment(f.subarray(34));
    if (s && s.payload.length === 0 && s.flags & ACK) acks.push(clock.now());
  };
  const deliver = link.b.deliver.bind(link.b);
  link.b.deliver = (f, i) => {
    if ((parseSegment(f.subarray(34))?.payload.length ?? 0) > 0) arrived = clock.now();
    deliver(f, i);
  };
  client.write('x');
  assert.ok(await runUntil(clock, () => acks.length === 1, 1000));
  assert.equal(acks[0]! - arrived, 40, 'the ACK of one small segment waits for the delayed-ACK timer');
  acks.length = 0;
  client.write(Buffer.alloc(2 * 1460, 1));
  assert.ok(await runUntil(clock, () => acks.length === 1, 1000));
  assert.equal(acks[0]! - arrived, 0, 'two full-sized segments are acknowledged at once');
});

test('fast retransmit (RFC 5681): without SACK, one segment lost from a window is resent after three duplicate ACKs, no timeout', async () => {
  const { clock, link, a, client, server } = await connected({ delayMs: 10, tcp: { sack: false } });
  const conn = only(a.tcpLayer.connections());
  let dataSegs = 0;
  let droppedSeq = -1;
  const carry = link.carry.bind(link);
  link.carry = (to, frame, info) => {
    const s = parseSegment(frame.subarray(34));
    if (s && to === link.b && s.payload.length > 0 && ++dataSegs === 3 && droppedSeq === -1) {
      droppedSeq = s.seq;
      return;
    }
    carry(to, frame, info);
  };
  const data = Buffer.alloc(32 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 255;
  const got = collect(server);
  client.end(data);
  assert.ok(await runUntil(clock, () => got.ended(), 60_000));
  assert.ok(got.bytes().equals(data));
  assert.notEqual(droppedSeq, -1);
  assert.equal(conn.stats.fastRetransmits, 1);
  assert.equal(conn.stats.timeouts, 0);
  // What the socket reports (the bench lists it per stream): the sender heard the duplicate
  // ACKs, the receiver counted the segments that came after the hole.
  assert.ok(client.stats.dupAcksIn >= 3, `duplicate ACKs ${client.stats.dupAcksIn}`);
  assert.equal(client.stats.fastRetransmits, 1);
  assert.ok(server.stats.outOfOrderIn >= 3, `out of order ${server.stats.outOfOrderIn}`);
  assert.ok(client.stats.dataSegmentsOut > 0 && server.stats.acksOut > 0);
});

test('a reader that catches up after the peer\'s FIN sends no window update (the peer sends nothing more, and may have gone)', async () => {
  const { clock, link, b, client, server } = await connected({ tcp: { rcvBufMax: 64 * 1024 } });
  server.pause();
  collect(client);
  client.end(Buffer.alloc(48 * 1024, 3));
  // The data and the FIN are in while nothing is read: the advertised window has shrunk.
  assert.ok(await runUntil(clock, () => b.tcpLayer.connections().next().value?.finReceived === true, 1000));
  const sent: string[] = [];
  link.b.onTransmit = (f) => {
    const s = parseSegment(f.subarray(34));
    if (s) sent.push(`flags ${s.flags} len ${s.payload.length}`);
  };
  const got = collect(server);
  server.resume();
  assert.ok(await runUntil(clock, () => got.ended(), 1000));
  assert.equal(got.bytes().length, 48 * 1024);
  await runUntil(clock, () => false, 1000);
  assert.deepEqual(sent, [], 'nothing from the reader until it closes its side');
});

test('RFC 6298 §5.7: once a SYN or SYN-ACK has timed out, data starts with an RTO of 3 s; after a clean handshake, with less', async () => {
  const handshake = async (drop: number) => {
    const { clock, link, a, b } = stackPair({ delayMs: 5 });
    b.tcp.listen(80, () => {});
    await runPromise(clock, a.icmp.ping('10.0.0.2'));
    let dropped = 0;
    const carry = link.carry.bind(link);
    link.carry = (to, frame, info) => {
      const s = parseSegment(frame.subarray(34));
      if (s && (s.flags & (SYN | ACK)) === drop && dropped === 0) {
        dropped++;
        return;
      }
      carry(to, frame, info);
    };
    await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
    assert.ok(await runUntil(clock, () => only(b.tcpLayer.connections()).state === 'ESTABLISHED'));
    return { active: only(a.tcpLayer.connections()).rto.rto, passive: only(b.tcpLayer.connections()).rto.rto, dropped };
  };
  const lostSyn = await handshake(SYN);
  assert.equal(lostSyn.dropped, 1);
  assert.equal(lostSyn.active, 3000, 'the SYN timed out');
  const lostSynAck = await handshake(SYN | ACK);
  assert.equal(lostSynAck.dropped, 1);
  assert.deepEqual([lostSynAck.active, lostSynAck.passive], [3000, 3000], 'both sides timed out');
  const clean = await handshake(0xff);
  assert.equal(clean.dropped, 0);
  assert.ok(clean.active < 3000 && clean.passive < 3000, `${clean.active} ${clean.passive}`);
});

test('super-frames that arrive together, each read as it arrives: one ACK for the batch, carrying the window the reads opened', async () => {
  const rcvBufMax = 1 << 20;
  const { clock, link, client, server } = await connected({ offloads: { csum: true, gsoTcpv4: true }, tcp: { rcvBufMax, sndBufMax: rcvBufMax } });
  const got = collect(server); // flowing: every segment is read as it is delivered
  // Grow the congestion window first, so that a write leaves as several super-frames at once.
  client.write(Buffer.alloc(2 << 20, 1));
  assert.ok(await runUntil(clock, () => got.bytes().length === 2 << 20));
  await runUntil(clock, () => false, 500);
  // Frames the link delivers at one instant are one batch (the clock fires them in one turn).
  const batches = new Map<number, number>();
  const deliver = link.b.deliver.bind(link.b);
  link.b.deliver = (f, i) => {
    if ((parseSegment(f.subarray(34))?.payload.length ?? 0) > 0) batches.set(clock.now(), (batches.get(clock.now()) ?? 0) + 1);
    deliver(f, i);
  };
  const acks: { at: number; window: number }[] = [];
  link.b.onTransmit = (f) => {
    const s = parseSegment(f.subarray(34));
    if (s && s.payload.length === 0 && s.flags & ACK) acks.push({ at: clock.now(), window: s.window });
  };
  client.write(Buffer.alloc(4 << 20, 2));
  assert.ok(await runUntil(clock, () => got.bytes().length === 6 << 20));
  await runUntil(clock, () => false, 500);
  assert.ok([...batches.values()].some((n) => n > 1), `some batches hold several super-frames: ${[...batches.values()]}`);
  assert.deepEqual(acks.map((a) => a.at), [...batches.keys()], 'one ACK per batch, in the turn it arrived');
  const wscale = Math.ceil(Math.log2(rcvBufMax / 0xffff));
  for (const a of acks) assert.equal(a.window << wscale, rcvBufMax, 'each ACK advertises the whole buffer: the batch was read before it left');
});

test('RFC 6298 §5.1: new data does not restart a running retransmission timer, so a segment lost ahead of frequent writes times out after one RTO', async () => {
  const rto = { minRtoMs: 20, maxRtoMs: 20, initialRtoMs: 20 };
  const { clock, link, client, server } = await connected({ delayMs: 1, tcp: { rto } });
  client.setNoDelay(true);
  const got = collect(server);
  // Everything from a to b is lost for 100 ms (the peer moved, the network had not learned
  // it yet), while the writer keeps writing every 5 ms, more often than its RTO.
  const sent = new Map<number, number[]>();
  const until = clock.now() + 100;
  const carry = link.carry.bind(link);
  link.carry = (to, frame, info) => {
    const s = parseSegment(frame.subarray(34));
    if (s && to === link.b && s.payload.length > 0) {
      const times = sent.get(s.seq) ?? [];
      times.push(clock.now());
      sent.set(s.seq, times);
      if (clock.now() < until) return;
    }
    carry(to, frame, info);
  };
  let writes = 0;
  const writer = (): void => {
    client.write(`request ${writes++}\n`);
    if (writes < 40) clock.setTimer(5, writer);
  };
  writer();
  assert.ok(await runUntil(clock, () => writes === 40 && got.bytes().toString().endsWith('request 39\n'), 60_000));
  const [first] = [...sent.values()];
  assert.ok(first && first.length >= 2, 'the first segment was sent again');
  // Resent one RTO after it first went (then every RTO: no backoff above maxRtoMs), while writes
  // went on; restarting the timer at each write would have held it back until they stopped.
  assert.ok(first[1]! - first[0]! <= rto.maxRtoMs + 1, `first resent ${first[1]! - first[0]!} ms after it was sent`);
  assert.ok(first[1]! < until, 'resent while the writes went on');
  assert.equal(got.bytes().toString(), Array.from({ length: 40 }, (_, i) => `request ${i}\n`).join(''));
});

/** A GSO connection whose congestion window has grown (1 MiB sent), quiet again, and the payload sizes of a's data segments from now on. */
async function gsoStream(o: Parameters<typeof stackPair>[0] = {}) {
  const rig = await connected({ offloads: { csum: true, gsoTcpv4: true }, ...o });
  rig.client.setNoDelay(true); // as dom0's gateway has it: the deferral is not Nagle's
  const got = collect(rig.server);
  rig.client.write(Buffer.alloc(1 << 20, 1));
  assert.ok(await runUntil(rig.clock, () => got.bytes().length === 1 << 20));
  await runUntil(rig.clock, () => false, 500);
  const sizes: number[] = [];
  rig.link.a.onTransmit = (f) => {
    const n = parseSegment(f.subarray(34))?.payload.length ?? 0;
    if (n > 0) sizes.push(n);
  };
  return { ...rig, got, sizes };
}

test('GSO: writes of 64 KiB while super-frames are in flight leave as whole super-frames, not one plus a tail each; a lone write leaves at once', async () => {
  const { clock, client, got, sizes } = await gsoStream();
  // Nothing in flight: a write of a few segments is sent before the clock moves.
  client.write(Buffer.alloc(10_000, 2));
  assert.deepEqual(sizes, [10_000]);
  assert.ok(await runUntil(clock, () => got.bytes().length === (1 << 20) + 10_000));
  await runUntil(clock, () => false, 500);
  sizes.length = 0;
  const data = Buffer.alloc(16 * 65_536);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 255;
  for (let i = 0; i < 16; i++) client.write(data.subarray(i * 65_536, (i + 1) * 65_536));
  assert.ok(await runUntil(clock, () => got.bytes().length === (1 << 20) + 10_000 + data.length));
  assert.ok(got.bytes().subarray((1 << 20) + 10_000).equals(data));
  // 1 MiB in super-frames of 44 segments is 17 frames; a frame and a tail per write would be 32.
  assert.ok(sizes.length <= 18, `${sizes.length} data frames: ${sizes.join(' ')}`);
});

test('GSO: a tail held for more bytes waits only while sends are recent (Linux\'s tcp_tso_should_defer: 1 ms): a write 3 ms later goes out with it at once, before any ACK', async () => {
  const { clock, client, got, sizes } = await gsoStream({ delayMs: 5 });
  // A super-frame goes, the rest (more than a segment, less than a super-frame) waits for the ACK due at once...
  client.write(Buffer.alloc(100_000, 2));
  assert.equal(sizes.length, 1);
  const held = 100_000 - sizes[0]!;
  assert.ok(held > 1500, `${held} bytes held`);
  // ...but not for longer than Linux would: 3 ms on (the ACK is 10 ms away), the next write takes it along.
  await runUntil(clock, () => false, 3);
  assert.equal(sizes.length, 1, 'nothing sent meanwhile');
  client.write(Buffer.alloc(100, 3));
  assert.deepEqual(sizes.slice(1), [held + 100]);
  assert.ok(await runUntil(clock, () => got.bytes().length === (1 << 20) + 100_100));
});

test('GSO: in fast recovery a tail is not held for more bytes (Linux\'s tcp_tso_should_defer): it goes out at the write, within 1 ms of the last send', async () => {
  const { clock, link, a, client, got, sizes } = await gsoStream({ delayMs: 5 });
  const conn = only(a.tcpLayer.connections());
  const mss = conn.mss;
  // 40 small segments, the first lost: 39 duplicate ACKs come back together 10 ms later, the
  // third starts fast recovery and each inflates the window by a segment (RFC 5681), so a tail
  // fits it while the retransmission is still on its way.
  let dropped = false;
  const carry = link.carry.bind(link);
  link.carry = (to, frame, info) => {
    if (!dropped && to === link.b && (parseSegment(frame.subarray(34))?.payload.length ?? 0) > 0) {
      dropped = true;
      return;
    }
    carry(to, frame, info);
  };
  for (let i = 0; i < 40; i++) client.write(Buffer.alloc(100, i));
  assert.equal(sizes.length, 40);
  const tail = 3 * mss + 100; // more than a segment, less than a super-frame
  let sentAtWrite: number[] | undefined;
  let inRecovery = false;
  clock.setTimer(10.5, () => {
    inRecovery = conn.cc.inRecovery;
    const before = sizes.length;
    client.write(Buffer.alloc(tail, 0xee));
    sentAtWrite = sizes.slice(before);
  });
  assert.ok(await runUntil(clock, () => sentAtWrite !== undefined));
  assert.ok(inRecovery, 'the write came during fast recovery');
  assert.ok(conn.stats.fastRetransmits === 1, `fast retransmits ${conn.stats.fastRetransmits}`);
  assert.deepEqual(sentAtWrite, [tail]);
  assert.ok(await runUntil(clock, () => got.bytes().length === (1 << 20) + 4000 + tail));
  assert.ok(got.bytes().subarray((1 << 20) + 4000).equals(Buffer.alloc(tail, 0xee)));
});

test('TIME-WAIT lets the stream go (no reference from the connection), and a reader that had paused still gets the last bytes and the end', async () => {
  const { clock, a, client, server } = await connected();
  client.pause();
  server.on('data', () => {});
  server.on('end', () => server.end('last words'));
  client.end();
  assert.ok(await runUntil(clock, () => a.tcpLayer.timeWaitCount === 1, 1000));
  await runUntil(clock, () => false, 1);
  const tw = only(a.tcpLayer.connections());
  assert.equal(tw.state, 'TIME-WAIT');
  assert.equal(tw.events, undefined);
  const got = collect(client);
  client.resume();
  assert.ok(await runUntil(clock, () => got.ended(), 1000));
  assert.equal(got.bytes().toString(), 'last words');
});
