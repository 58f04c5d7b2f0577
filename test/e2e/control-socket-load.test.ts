// The control socket under hostile clients: one that floods requests and reads no reply, and
// one that opens connections without end. Neither may delay a polite client or make the host
// hold more than its bounds; when they leave, what they cost is given back. Every loop here is
// bounded in count and time.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAX_PENDING_INPUT } from '../../src/drivers/console/daemon.js';
import { RemoteToolstack } from '../../src/toolstack/client.js';
import type { HostDaemon } from '../../src/toolstack/daemon.js';
import { type DaemonRig, startDaemonRig } from '../support/host-daemon.js';
import { CONTROL_LIMITS, ControlServer } from '../../src/toolstack/server.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/guests/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'xenode-control-load-'));
const T = { timeout: 60_000 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let daemon: HostDaemon;
let ts: RemoteToolstack;
let rig: DaemonRig;

before(async () => {
  rig = await startDaemonRig('control-load', { dir, poolSize: 0, shutdownGraceMs: 2000 });
  ({ daemon, ts } = rig);
});
after(() => rig.close());

function open(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      sock.on('error', () => {});
      resolve(sock);
    });
  });
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** A polite client's `list` latencies, one call every 5 ms for `ms`. */
async function probe(ms: number, during: () => void = () => {}): Promise<number[]> {
  const probes: number[] = [];
  const until = performance.now() + ms;
  while (performance.now() < until && probes.length < 1_000) {
    const t = performance.now();
    await ts.call('list', {});
    probes.push(performance.now() - t);
    during();
    await sleep(5);
  }
  return probes;
}

test('a client that floods requests and reads nothing delays no one, and holds only its bounds', T, async (t) => {
  const server = daemon.control;
  // The same client alone first: the machine may be busy with other work.
  const alone = await probe(1_000);
  const flooder = await open(daemon.paths.controlSocket);
  // Destroyed however the test ends: a flooder left open would keep the host (and the file) alive.
  try {
    flooder.pause();
    // 100,000 requests at most, written as fast as the socket takes them.
    let writing = true;
    void (async () => {
      for (let id = 1; id <= 100_000 && writing; id += 500) {
        let chunk = '';
        for (let k = id; k < id + 500; k++) chunk += `{"id":${k},"op":"list","args":{}}\n`;
        if (!flooder.write(chunk)) await new Promise((r) => flooder.once('drain', r));
      }
    })();
    let peakUnread = 0;
    let peakInput = 0;
    const sample = () => {
      peakUnread = Math.max(peakUnread, server.stats().unreadBytes);
      peakInput = Math.max(peakInput, server.stats().inputBytes);
    };
    const sampler = setInterval(sample, 2);
    const probes = await probe(3_000, sample);
    // A slow machine may not have filled the socket's kernel buffer yet: give it time (bounded).
    for (const deadline = Date.now() + 10_000; peakUnread === 0 && Date.now() < deadline;) await sleep(10);
    clearInterval(sampler);
    writing = false;
    const p99 = percentile(probes, 99);
    // The flooder's replies stop at its high-water mark plus what its requests in flight return.
    assert.ok(peakUnread > 0, `the flood never reached the host: ${JSON.stringify(server.stats())}`);
    assert.ok(peakUnread < CONTROL_LIMITS.outputHigh + (2 << 20), `unread output peaked at ${peakUnread} bytes`);
    // Its requests stay in its socket, not in the host: a chunk or two of them at most.
    assert.ok(peakInput < 1 << 20, `requests held peaked at ${peakInput} bytes`);
    // Against the same client alone on this machine, which may be busy: unbounded, the polite
    // client got 2 answers in 3 s (p99 1 s) where it gets hundreds alone.
    const rate = probes.length / 3_000;
    const summary = (xs: number[]) => `${percentile(xs, 50).toFixed(1)} / ${percentile(xs, 99).toFixed(1)} ms over ${xs.length}`;
    // Bounds relative to the same client alone, with absolute floors, so that a loaded machine does
    // not fail them while the unbounded server (2 answers in 3 s) still does.
    // (Seen at load 30+: other processes' bursts alone move a p99 tenfold, so the bounds are wide;
    // the unbounded server misses each of them by an order of magnitude.)
    // The answer floor is absolute: 10 in 3 s, five times the unbounded server's 2 (18 were seen at
    // load 14 with a median of 4 ms: a few stalls of the machine's, not of the host's).
    const fairAgainst = (base: number[]) => probes.length >= 10 && rate > base.length / 1_000 / 16 &&
      percentile(probes, 50) < Math.max(150, 6 * percentile(base, 50)) && p99 < Math.max(1_000, 10 * percentile(base, 99));
    let what = `a polite client's median / p99 were ${summary(probes)} calls in 3 s; alone ${summary(alone)} in 1 s`;
    if (!fairAgainst(alone)) {
      // The machine's load may have risen since the first baseline (seen at load 25): measure the
      // client alone again, the flood gone, and judge against that. The answer floor stays.
      writing = false;
      flooder.destroy();
      for (const deadline = Date.now() + 5_000; server.stats().connections > 1 && Date.now() < deadline;) await sleep(10);
      const again = await probe(1_000);
      what += `; alone again afterwards ${summary(again)} in 1 s`;
      t.diagnostic(`judged against a second baseline: ${what}`);
      assert.ok(fairAgainst(again), what);
    }
  } finally {
    flooder.destroy();
  }
  const deadline = Date.now() + 5_000;
  while (server.stats().connections > 1 && Date.now() < deadline) await sleep(10);
  const left = server.stats();
  assert.equal(left.connections, 1);
  assert.equal(left.inputBytes, 0);
  assert.ok(left.unreadBytes < 64 << 10, `${left.unreadBytes} bytes still held for clients that left`);
});

test('connections past the limit are refused with EAGAIN; a slot that frees up serves again', T, async () => {
  const path = join(dir, 'small.sock');
  const server = await ControlServer.listen(path, daemon.local.api, { maxConnections: 4 });
  try {
    const held = await Promise.all([0, 1, 2, 3].map(() => open(path)));
    const refused = await open(path);
    const reply = await new Promise<string>((resolve) => {
      let buf = '';
      refused.on('data', (b) => (buf += b.toString()));
      refused.on('close', () => resolve(buf));
    });
    const r = JSON.parse(reply) as { ok: boolean; error: { errno: string; message: string } };
    assert.equal(r.ok, false);
    assert.equal(r.error.errno, 'EAGAIN');
    assert.match(r.error.message, /at most 4 control connections/);
    held[0]!.destroy();
    const deadline = Date.now() + 5_000;
    while (server.stats().connections > 3 && Date.now() < deadline) await sleep(10);
    const again = await open(path);
    const answer = await new Promise<string>((resolve) => {
      again.on('data', (b) => resolve(b.toString()));
      again.write('{"id":1,"op":"info"}\n');
    });
    assert.match(answer, /"ok":true/);
    for (const s of [...held, again]) s.destroy();
  } finally {
    await server.close();
  }
});

test('requests in flight per connection are capped; the rest wait unread and are all answered', T, async () => {
  const path = join(dir, 'inflight.sock');
  const server = await ControlServer.listen(path, daemon.local.api, { maxInFlight: 2 });
  try {
    const sock = await open(path);
    const n = 200;
    let text = '';
    for (let id = 1; id <= n; id++) text += `{"id":${id},"op":"lookup","args":{"domain":0}}\n`;
    const replies = await new Promise<string[]>((resolve) => {
      let buf = '';
      sock.on('data', (b) => (buf += b.toString()));
      sock.on('close', () => resolve(buf.split('\n').filter(Boolean)));
      sock.end(text);
    });
    assert.equal(replies.length, n);
    assert.deepEqual(new Set(replies.map((l) => (JSON.parse(l) as { id: number }).id)).size, n);
  } finally {
    await server.close();
  }
});

test("a console's pending input is bounded for a guest that does not read it", T, async () => {
  const file = join(dir, 'deaf.cfg');
  writeFileSync(file, `name = "deaf"\nkernel = "${join(FIXTURES, 'ticker.ts')}"\nmemory = 32\n`);
  const { domid } = await ts.call('create', { file });
  const consoled = daemon.local.host.consoled;
  const burst = new Uint8Array(1 << 20).fill(0x61);
  let taken = 0;
  const calls = 4;
  for (let i = 0; i < calls; i++) taken += consoled.input(domid, burst);
  // Beyond what is pending, each call moves at most the guest's input ring (1 KiB,
  // xencons_interface.in) into the ring; its front, on its own thread, may empty the ring
  // between two calls. An unbounded daemon would take all 4 MiB.
  assert.ok(taken <= MAX_PENDING_INPUT + calls * 1024, `${taken} bytes taken`);
  assert.ok(taken >= MAX_PENDING_INPUT, `${taken} bytes taken`);
  await ts.call('destroy', { domain: domid });
});

test('partial requests count against the total: past it, the connection holding the most is dropped', T, async () => {
  const path = join(dir, 'held.sock');
  const server = await ControlServer.listen(path, daemon.local.api, { totalHeld: 256 << 10 });
  try {
    const socks = await Promise.all([0, 1, 2].map(() => open(path)));
    const closed = socks.map((s) => new Promise<boolean>((r) => s.on('close', () => r(true))));
    assert.equal(socks.length, 3);
    // Half messages that never end: 60 KiB, 60 KiB, then 300 KiB, which passes the total.
    const sizes = [60 << 10, 60 << 10, 300 << 10];
    let sent = 0;
    for (const [i, s] of socks.entries()) {
      s.write(`{"id":1,"op":"list","args":{"x":"${'a'.repeat(sizes[i]!)}`);
      sent += sizes[i]!;
      if (i === 2) break;
      // Until the host holds it all, so that the third is the one that passes the total.
      const deadline = Date.now() + 5_000;
      while (server.stats().inputBytes < sent && Date.now() < deadline) await sleep(10);
    }
    assert.equal(await Promise.race([closed[2]!, sleep(5_000).then(() => false)]), true, 'the largest holder was not dropped');
    const deadline = Date.now() + 5_000;
    while (server.stats().connections > 2 && Date.now() < deadline) await sleep(10);
    assert.equal(server.stats().connections, 2);
    assert.ok(server.stats().inputBytes <= 256 << 10, `${server.stats().inputBytes} bytes held`);
    for (const s of socks) s.destroy();
  } finally {
    await server.close();
  }
});
