import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIpv4, parseIpv4, readIpv4, writeIpv4 } from '../../../src/tcpip/addr.js';
import { IPV4_BROADCAST } from '../../../src/tcpip/addr.js';
import { Timeout } from '../../../src/tcpip/errors.js';
import { createStack } from '../../../src/tcpip/stack.js';
import { rng } from '../../support/random.js';
import { Link, ManualClock, runPromise, runUntil } from '../../support/tcpip-link.js';

interface Reply {
  xid?: number;
  op?: number;
  cookie?: number;
  yiaddr?: string;
  chaddr?: Uint8Array;
  opts: [number, number[]][];
  raw?: (b: Uint8Array) => Uint8Array;
}

function encode(req: Uint8Array, r: Reply): Uint8Array {
  const b = new Uint8Array(300);
  b[0] = r.op ?? 2; b[1] = 1; b[2] = 6;
  writeIpv4(b, 4, r.xid ?? readIpv4(req, 4));
  writeIpv4(b, 16, parseIpv4(r.yiaddr ?? '10.0.0.50'));
  b.set(r.chaddr ?? req.subarray(28, 34), 28);
  writeIpv4(b, 236, r.cookie ?? 0x63825363);
  let o = 240;
  for (const [k, v] of r.opts) {
    b[o] = k; b[o + 1] = v.length;
    b.set(v, o + 2);
    o += 2 + v.length;
  }
  b[o] = 255;
  return r.raw ? r.raw(b) : b;
}

const ip = (s: string) => [...s.split('.').map(Number)];
const u32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

function rig() {
  const clock = new ManualClock();
  const link = new Link(clock);
  const client = createStack(link.a, { clock, random: rng(1) });
  const server = createStack(link.b, { clock, random: rng(2) });
  server.configure({ ip: '10.0.0.1/24' });
  return { clock, link, client, server };
}

test('DHCP: a server answering nonsense first; the client keeps only the sane lease and renews it at T1', async () => {
  const { clock, client, server } = rig();
  const good = (type: number): [number, number[]][] => [[53, [type]], [54, ip('10.0.0.1')], [1, ip('255.255.255.0')],
    [3, ip('10.0.0.1')], [6, ip('10.0.0.1')], [51, u32(600)]];
  const nonsense: Reply[] = [
    { xid: 1, opts: good(2) },
    { op: 1, opts: good(2) },
    { cookie: 1, opts: good(2) },
    { chaddr: new Uint8Array(6), opts: good(2) },
    { yiaddr: '0.0.0.0', opts: good(2) },
    { yiaddr: '255.255.255.255', opts: good(2) },
    { yiaddr: '127.0.0.1', opts: good(2) },
    { opts: [[53, [2]]] }, // no server id
    { opts: [[53, [2, 2]]] },
    { opts: good(2), raw: (b) => { b[241] = 200; return b; } }, // option length past the end
    { opts: good(2), raw: (b) => b.subarray(0, 100) },
  ];
  let requests = 0;
  let discovers = 0;
  const sock = server.udp.bind(67, (m) => {
    const type = m[242];
    if (type === 1) {
      discovers++;
      if (discovers === 1) for (const r of nonsense) sock.send(encode(m, r), '255.255.255.255', 68);
      else sock.send(encode(m, { opts: good(2) }), '255.255.255.255', 68);
    } else if (type === 3) {
      requests++;
      // The first REQUEST is answered with a broken ACK (non-contiguous mask), then a good one.
      const opts = requests === 1 ? [[53, [5]], [54, ip('10.0.0.1')], [1, ip('255.0.255.0')]] as [number, number[]][] : good(5);
      sock.send(encode(m, { opts }), '255.255.255.255', 68);
    }
  });
  const lease = await runPromise(clock, client.dhcp());
  assert.equal(formatIpv4(lease.address), '10.0.0.50');
  assert.equal(formatIpv4(lease.gateway!), '10.0.0.1');
  assert.equal(lease.leaseS, 600);
  assert.deepEqual(client.address, { address: '10.0.0.50', netmask: '255.255.255.0', gateway: '10.0.0.1', dns: ['10.0.0.1'] });
  assert.ok(discovers >= 2 && requests >= 2);
  const before = requests;
  await runUntil(clock, () => requests > before, 400_000);
  assert.ok(clock.now() >= 300_000, 'renewal at T1 = lease/2');
  assert.ok(await runPromise(clock, client.icmp.ping('10.0.0.1')) >= 0);
});

test('DHCP: no server at all rejects with Timeout; a lease that runs out unconfigures the stack', async () => {
  const { clock, client } = rig();
  await assert.rejects(runPromise(clock, client.dhcp(30_000)), Timeout);
  const r2 = rig();
  let acks = 0;
  const sock = r2.server.udp.bind(67, (m) => {
    const t = m[242] === 1 ? 2 : 5;
    if (t === 5 && acks++ > 0) return; // renewals go unanswered
    sock.send(encode(m, { opts: [[53, [t]], [54, ip('10.0.0.1')], [51, u32(60)]] }), '255.255.255.255', 68);
  });
  await runPromise(r2.clock, r2.client.dhcp());
  assert.equal(r2.client.address?.address, '10.0.0.50');
  await runUntil(r2.clock, () => r2.client.address === undefined, 120_000);
  assert.equal(r2.client.ip.config.address, 0);
  assert.equal(IPV4_BROADCAST, 0xffffffff);
});

test('DHCP: a lease carried over a resume keeps its address without a DISCOVER and renews at once when T1 passed meanwhile', async () => {
  const { clock, link, client, server } = rig();
  const seen: number[] = [];
  const sock = server.udp.bind(67, (m) => {
    seen.push(m[242]!);
    const t = m[242] === 1 ? 2 : 5;
    sock.send(encode(m, { opts: [[53, [t]], [54, ip('10.0.0.1')], [1, ip('255.255.255.0')], [51, u32(600)]] }), '255.255.255.255', 68);
  });
  await runPromise(clock, client.dhcp());
  clock.advanceTo(clock.now() + 100_000);
  const snap = client.freeze();
  assert.ok(snap.lease && Math.abs(snap.lease.ageMs - 100_000) < 1000, `lease age ${snap.lease?.ageMs}`);
  // Suspended for 250 s (past T1 = 300 s of the lease's life), then restored in a fresh stack.
  clock.advanceTo(clock.now() + 250_000);
  link.a.handlers.clear();
  const again = createStack(link.a, { clock, random: rng(3) });
  seen.length = 0;
  again.restore({ ...snap, lease: { ...snap.lease!, ageMs: snap.lease!.ageMs + 250_000 } });
  assert.equal(again.address?.address, '10.0.0.50', 'the address at once, before any answer');
  assert.ok(await runUntil(clock, () => seen.includes(3), 5_000), 'a renewing REQUEST at once');
  assert.ok(!seen.includes(1), 'no DISCOVER');
});
