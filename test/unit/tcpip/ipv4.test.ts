import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finish, sumBytes } from '../../../src/tcpip/checksum.js';
import { PROTO_ICMP, PROTO_UDP } from '../../../src/tcpip/ipv4.js';
import { ipv4Frame, runUntil, stackPair } from '../../support/tcpip-link.js';

function udpPayload(len: number): Uint8Array {
  // A UDP header with checksum 0 (none) to port 9 and `len - 8` bytes.
  const u = new Uint8Array(len);
  u[0] = 0x13; u[1] = 0x88; u[3] = 9; u[4] = len >> 8; u[5] = len & 255;
  return u;
}

test('a datagram over the MTU is fragmented on send and reassembled on receipt', async () => {
  const { clock, a, b } = stackPair({ jitterMs: 3, seed: 4 });
  const got: Uint8Array[] = [];
  b.udp.bind(9, (m) => got.push(m.slice()));
  const sock = a.udp.bind(0, () => {});
  const data = Uint8Array.from({ length: 4000 }, (_, i) => i & 255);
  sock.send(data, '10.0.0.2', 9);
  assert.ok(await runUntil(clock, () => got.length === 1, 5000));
  assert.deepEqual(got[0], data);
  assert.equal(a.ip.counters.txFragments, 3);
  assert.equal(b.ip.reassembly.counters.completed, 1);
});

test('teardrop: overlapping fragments drop the datagram, nothing is delivered', async () => {
  const { clock, link, b } = stackPair();
  const got: Uint8Array[] = [];
  b.udp.bind(9, (m) => got.push(m));
  const whole = udpPayload(64);
  link.b.deliver(ipv4Frame('10.0.0.1', '10.0.0.2', PROTO_UDP, whole.subarray(0, 32), 7, 0x2000));
  link.b.deliver(ipv4Frame('10.0.0.1', '10.0.0.2', PROTO_UDP, whole.subarray(24, 64), 7, 3)); // offset 24 < 32
  await runUntil(clock, () => false, 10);
  assert.equal(got.length, 0);
  assert.equal(b.ip.reassembly.datagrams, 0);
  assert.ok(b.ip.reassembly.counters.dropped >= 1);
});

test('a fragment flood and endless fragments cannot grow reassembly memory; stale datagrams time out', async () => {
  const { clock, link, b } = stackPair();
  const chunk = new Uint8Array(1024);
  for (let i = 0; i < 10_000; i++) {
    link.b.deliver(ipv4Frame('10.0.0.1', '10.0.0.2', PROTO_UDP, chunk, i & 0xffff, 0x2000 | ((i % 7) * 128)));
  }
  // One datagram that never ends: MF set on fragment after fragment.
  for (let off = 0; off < 60_000; off += 1024) {
    link.b.deliver(ipv4Frame('10.0.0.1', '10.0.0.2', PROTO_UDP, chunk, 0xbeef, 0x2000 | (off / 8)));
  }
  const r = b.ip.reassembly;
  assert.ok(r.bytes <= r.opts.maxBytes, `${r.bytes} bytes held`);
  assert.ok(r.datagrams <= r.opts.maxDatagrams);
  await runUntil(clock, () => r.datagrams === 0, r.opts.timeoutMs + 1000);
  assert.equal(r.bytes, 0);
});

test('bad headers are counted and dropped: short, bad version, bad IHL, lying lengths, bad checksum', async () => {
  const { clock, link, b } = stackPair();
  const good = ipv4Frame('10.0.0.1', '10.0.0.2', PROTO_UDP, udpPayload(16));
  const cases: Uint8Array[] = [good.subarray(0, 30)];
  const mutate = (fn: (f: Uint8Array) => void) => {
    const f = good.slice();
    fn(f);
    cases.push(f);
  };
  mutate((f) => { f[14] = 0x65; }); // version 6
  mutate((f) => { f[14] = 0x44; }); // IHL 4
  mutate((f) => { f[14] = 0x4f; }); // IHL 15: 60 bytes, longer than the frame's header room
  mutate((f) => { f[16] = 0xff; }); // total length past the frame
  mutate((f) => { f[16] = 0; f[17] = 10; }); // total length under the header
  mutate((f) => { f[24] ^= 1; }); // header checksum wrong
  const before = b.ip.counters.rxBadHeader;
  for (const f of cases) link.b.deliver(f);
  await runUntil(clock, () => false, 10);
  assert.equal(b.ip.counters.rxBadHeader - before, cases.length);
  assert.equal(b.ip.counters.rxPackets, 0);
});

test('ICMP: echo answered, port unreachable sent for closed UDP ports at a bounded rate, never for broadcasts', async () => {
  const { clock, link, a, b } = stackPair();
  assert.ok((await (async () => { const p = a.icmp.ping('10.0.0.2'); await runUntil(clock, () => false, 100); return p; })()) >= 0);
  let unreach = 0;
  link.b.onTransmit = (f) => { if (f[23] === PROTO_ICMP && f[34] === 3 && f[35] === 3) unreach++; };
  for (let i = 0; i < 1000; i++) link.b.deliver(ipv4Frame('10.0.0.1', '10.0.0.2', PROTO_UDP, udpPayload(16)));
  for (let i = 0; i < 10; i++) link.b.deliver(ipv4Frame('10.0.0.1', '10.0.0.255', PROTO_UDP, udpPayload(16), 1, 0, 'ff:ff:ff:ff:ff:ff'));
  await runUntil(clock, () => false, 10);
  assert.ok(unreach >= 1 && unreach <= 101, `${unreach} unreachables`);
  // An unknown protocol: protocol unreachable (code 2).
  let proto = 0;
  let quoted: Uint8Array | undefined;
  link.b.onTransmit = (f) => { if (f[23] === PROTO_ICMP && f[34] === 3 && f[35] === 2) { proto++; quoted = f.slice(42); } };
  await runUntil(clock, () => false, 2000);
  const sent = ipv4Frame('10.0.0.1', '10.0.0.2', 99, Uint8Array.from({ length: 12 }, (_, i) => i + 1));
  link.b.deliver(sent);
  await runUntil(clock, () => false, 10);
  assert.equal(proto, 1);
  // It quotes the datagram's header and its first 8 payload bytes (RFC 792).
  assert.deepEqual(quoted, sent.slice(14, 14 + 20 + 8));
  // An echo request with a bad checksum is dropped.
  const echo = new Uint8Array(16);
  echo[0] = 8;
  const c = finish(sumBytes(echo, 0, 16));
  echo[2] = c >> 8; echo[3] = (c & 255) ^ 1;
  const bad = b.icmpLayer.rxBad;
  link.b.deliver(ipv4Frame('10.0.0.1', '10.0.0.2', PROTO_ICMP, echo));
  assert.equal(b.icmpLayer.rxBad, bad + 1);
});

test("ICMP port unreachable about a reassembled datagram quotes the datagram as its sender made it: the first fragment's header, whole, and the UDP header", async () => {
  const { clock, link } = stackPair();
  const udp = udpPayload(40);
  const first = ipv4Frame('10.0.0.1', '10.0.0.2', PROTO_UDP, udp.subarray(0, 24), 0x1234, 0x2000);
  const last = ipv4Frame('10.0.0.1', '10.0.0.2', PROTO_UDP, udp.subarray(24), 0x1234, 3);
  // The original header: the first fragment's, with the whole length and no fragment fields.
  const header = first.slice(14, 34);
  header[2] = 0; header[3] = 60; header[6] = 0; header[7] = 0; header[10] = 0; header[11] = 0;
  const c = finish(sumBytes(header, 0, 20));
  header[10] = c >> 8; header[11] = c & 255;
  for (const order of [[first, last], [last, first]]) {
    let quoted: Uint8Array | undefined;
    link.b.onTransmit = (f) => { if (f[23] === PROTO_ICMP && f[34] === 3 && f[35] === 3) quoted = f.slice(42); };
    await runUntil(clock, () => false, 2000); // a fresh token for the error
    for (const f of order) link.b.deliver(f);
    await runUntil(clock, () => quoted !== undefined, 10);
    assert.deepEqual(quoted, Uint8Array.from([...header, ...udp.subarray(0, 8)]));
  }
});

test('fragments whose datagram, with its first header, would pass 65,535 bytes are dropped', () => {
  const { b } = stackPair();
  const r = b.ip.reassembly;
  const dropped = r.counters.dropped;
  const options = new Uint8Array(60); // a first fragment with 40 bytes of options
  options[0] = 0x4f;
  assert.equal(r.add('k', 0, true, new Uint8Array(65_504), options), undefined);
  assert.equal(r.add('k', 65_504, false, new Uint8Array(11), options.subarray(0, 20)), undefined, '60 + 65,515 bytes');
  assert.equal(r.counters.dropped, dropped + 1);
  assert.equal(r.datagrams, 0);
});

test('ICMP fragmentation-needed about an open connection lowers its MSS (RFC 1191)', async () => {
  const { clock, link, a, b } = stackPair();
  b.tcp.listen(80, () => {});
  const c = await (async () => { const p = a.tcp.connect('10.0.0.2', 80); await runUntil(clock, () => false, 100); return p; })();
  const conn = [...a.tcpLayer.connections()][0]!;
  const mss = conn.mss;
  // Quote: our IP header to b and the first 8 TCP bytes (ports and a sequence number in flight).
  const inner = ipv4Frame('10.0.0.1', '10.0.0.2', 6, new Uint8Array(8)).subarray(14);
  inner[20] = c.localPort >> 8; inner[21] = c.localPort & 255; inner[23] = 80;
  const seq = conn.sndUna;
  inner[24] = seq >>> 24; inner[25] = (seq >>> 16) & 255; inner[26] = (seq >>> 8) & 255; inner[27] = seq & 255;
  const icmp = new Uint8Array(8 + inner.length);
  icmp[0] = 3; icmp[1] = 4; icmp[6] = 1000 >> 8; icmp[7] = 1000 & 255;
  icmp.set(inner, 8);
  const s = finish(sumBytes(icmp, 0, icmp.length));
  icmp[2] = s >> 8; icmp[3] = s & 255;
  link.a.deliver(ipv4Frame('10.0.0.2', '10.0.0.1', PROTO_ICMP, icmp, 1, 0, '00:16:3e:00:00:0a'));
  assert.ok(conn.mss < mss && conn.mss <= 1000 - 40, `mss ${mss} -> ${conn.mss}`);
  c.destroy();
});

test('fragments whose bytes add up to the total with a hole at the start are dropped, in either order', () => {
  const header = new Uint8Array(20);
  header[0] = 0x45;
  for (const order of [['mid', 'last'], ['last', 'mid']]) {
    const { b } = stackPair();
    const r = b.ip.reassembly;
    const dropped = r.counters.dropped;
    // 8 bytes at 16 (MF), then the last 8 at 8: 16 bytes, a total of 16, and nothing at offset 0.
    const put = (which: string) => (which === 'mid' ? r.add('k', 16, true, new Uint8Array(8), header) : r.add('k', 8, false, new Uint8Array(8), header));
    for (const which of order) assert.equal(put(which!), undefined, `${order.join(' then ')}: ${which}`);
    assert.equal(r.counters.dropped, dropped + 1, order.join(' then '));
    assert.equal(r.datagrams, 0);
    assert.equal(r.bytes, 0);
  }
});
