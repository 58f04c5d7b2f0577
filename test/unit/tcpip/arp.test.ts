import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIpv4, parseMac, readIpv4, writeIpv4 } from '../../../src/tcpip/addr.js';
import { createStack } from '../../../src/tcpip/stack.js';
import { runPromise, runUntil, stackPair } from '../../support/tcpip-link.js';

function arpFrame(op: number, senderMac: string, senderIp: string, targetIp: string): Uint8Array {
  const f = new Uint8Array(42);
  f.fill(0xff, 0, 6);
  f.set(parseMac(senderMac), 6);
  f[12] = 0x08; f[13] = 0x06;
  f[15] = 1; f[16] = 8; f[18] = 6; f[19] = 4; f[21] = op;
  f.set(parseMac(senderMac), 22);
  writeIpv4(f, 28, parseIpv4(senderIp));
  writeIpv4(f, 38, parseIpv4(targetIp));
  return f;
}

test('a new address is announced with a gratuitous ARP, and on demand', async () => {
  const { clock, link, a } = stackPair();
  const grat: string[] = [];
  link.a.onTransmit = (f) => {
    if (f[12] === 8 && f[13] === 6 && readIpv4(f, 28) === readIpv4(f, 38)) grat.push(`${readIpv4(f, 28)}`);
  };
  a.configure({ ip: '10.0.0.7/24' });
  a.announce();
  await runUntil(clock, () => false, 5);
  assert.deepEqual(grat, [`${parseIpv4('10.0.0.7')}`, `${parseIpv4('10.0.0.7')}`]);
});

test('the cache is bounded, entries expire, unsolicited replies from strangers are not learned', async () => {
  const { clock, link, b } = stackPair();
  for (let i = 0; i < 2000; i++) {
    const mac = `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    link.b.deliver(arpFrame(1, mac, `10.0.${(i >> 8) + 1}.${i & 255}`, '10.0.0.2'));
  }
  assert.equal(b.arp.size, b.arp.opts.maxEntries);
  link.b.deliver(arpFrame(2, '02:00:00:00:99:99', '10.0.0.200', '10.0.0.50'));
  assert.equal(b.arp.lookup(parseIpv4('10.0.0.200')), undefined);
  await runUntil(clock, () => false, b.arp.opts.entryTtlMs + 1);
  assert.equal(b.arp.lookup(parseIpv4(`10.0.7.${1999 & 255}`)), undefined);
  // Malformed: wrong hardware length, truncated.
  const bad = arpFrame(1, '02:00:00:00:00:01', '10.0.0.9', '10.0.0.2');
  bad[18] = 8;
  link.b.deliver(bad);
  link.b.deliver(arpFrame(1, '02:00:00:00:00:01', '10.0.0.9', '10.0.0.2').subarray(0, 30));
  assert.equal(b.arp.lookup(parseIpv4('10.0.0.9')), undefined);
});

test('frames for an address nobody answers wait in a queue bounded in bytes and are dropped after the retries', async () => {
  const { clock, a } = stackPair();
  const sock = a.udp.bind(0, () => {});
  // 1,000-byte datagrams: 1,042-byte frames; as many as fit in the bound wait, the rest are dropped.
  const n = 2 * Math.ceil(a.arp.opts.maxQueuedBytesPerAddress / 1000);
  for (let i = 0; i < n; i++) sock.send(new Uint8Array(1000), '10.0.0.77', 9);
  assert.equal(a.arp.pendingCount, 1);
  const kept = Math.floor(a.arp.opts.maxQueuedBytesPerAddress / 1042);
  assert.equal(a.arp.dropped, n - kept, 'the queue holds the bound in bytes, no more');
  await runUntil(clock, () => a.arp.pendingCount === 0, 10_000);
  assert.equal(a.arp.dropped, n);
  await runPromise(clock, a.icmp.ping('10.0.0.2'));
});

test('thirty small frames sent at once to an address being resolved all wait for its answer (a client opening 30 connections)', async () => {
  const { clock, a, b } = stackPair();
  const got: number[] = [];
  b.udp.bind(9, (msg) => got.push(msg[0]!));
  const sock = a.udp.bind(0, () => {});
  for (let i = 0; i < 30; i++) sock.send(new Uint8Array([i]), '10.0.0.2', 9);
  assert.equal(a.arp.pendingCount, 1, 'b is being resolved: the frames wait in its queue');
  await runUntil(clock, () => got.length === 30, 5_000);
  assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => i));
  assert.equal(a.arp.dropped, 0);
});

test('an announcement answers a request waiting for that address, and its queued frames go at once; forget() asks anew', async () => {
  const { clock, link, a } = stackPair();
  const out: Uint8Array[] = [];
  link.a.onTransmit = (f) => void out.push(f);
  const sock = a.udp.bind(0, () => {});
  sock.send(new Uint8Array(10), '10.0.0.88', 9);
  assert.equal(a.arp.pendingCount, 1);
  // Not asked for and not a known sender: a stranger's announcement is not learned.
  link.a.deliver(arpFrame(1, '02:00:00:00:00:99', '10.0.0.99', '10.0.0.99'));
  assert.equal(a.arp.lookup(parseIpv4('10.0.0.99')), undefined);
  // The host being asked for comes up and announces itself, long before the request's retry.
  out.length = 0;
  link.a.deliver(arpFrame(1, '02:00:00:00:00:88', '10.0.0.88', '10.0.0.88'));
  assert.equal(a.arp.pendingCount, 0);
  assert.deepEqual(a.arp.lookup(parseIpv4('10.0.0.88')), parseMac('02:00:00:00:00:88'));
  assert.equal(out.filter((f) => f[12] === 8 && f[13] === 0).length, 1, 'the queued datagram went out');
  // Before it, a request to the announcer alone, so that it learns who asked (RFC 826's merge).
  const ask = out.findIndex((f) => f[12] === 8 && f[13] === 6 && f[21] === 1);
  assert.ok(ask >= 0 && ask < out.findIndex((f) => f[12] === 8 && f[13] === 0), 'asked again before the datagram');
  assert.deepEqual(out[ask]!.subarray(0, 6), parseMac('02:00:00:00:00:88'), 'unicast to the announcer');
  assert.equal(readIpv4(out[ask]!, 38), parseIpv4('10.0.0.88'));
  assert.equal(readIpv4(out[ask]!, 28), parseIpv4('10.0.0.1'));
  // An announcement of an address already known asks nothing.
  out.length = 0;
  link.a.deliver(arpFrame(1, '02:00:00:00:00:88', '10.0.0.88', '10.0.0.88'));
  assert.equal(out.length, 0);
  a.arp.forget(parseIpv4('10.0.0.88'));
  assert.equal(a.arp.lookup(parseIpv4('10.0.0.88')), undefined);
  await runUntil(clock, () => false, 5);
});

test('the cache carried over a resume: entries keep the time they had left and answer without a request', async () => {
  const { clock, a } = stackPair();
  assert.ok(await runPromise(clock, a.icmp.ping('10.0.0.2')) >= 0);
  clock.advanceTo(clock.now() + 20_000);
  const entries = a.arp.snapshot();
  assert.equal(entries.length, 1);
  assert.ok(entries[0]![2] > 39_000 && entries[0]![2] <= 40_000, `ms left: ${entries[0]![2]}`);
  const fresh = createStack(a.net, { clock });
  fresh.arp.restore(entries);
  assert.ok(fresh.arp.lookup(entries[0]![0]));
  clock.advanceTo(clock.now() + 40_001);
  assert.equal(fresh.arp.lookup(entries[0]![0]), undefined, 'expired when its time ran out');
});
