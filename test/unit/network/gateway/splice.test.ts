// The gateway's splice of host sockets to guest connections, read into one buffer (net's
// `onread`): many MiB through a forward and through the NAT with the guest stopping and starting
// its reads (the host side must stop and go on without losing or reordering a byte), the same
// the other way with the host not reading (the gateway's window to the guest closes), a host
// client that half-closes and then hears the guest's answer, one that resets mid-stream, and
// the forward's bound on its connections, which the server no longer counts once spliced.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { test } from 'node:test';
import { parseForwardSpec } from '../../../../src/network/gateway/forwardspec.js';
import { TcpForward, type HostForward } from '../../../../src/network/gateway/forward.js';
import { rigWithGuest, waitFor } from '../../../support/gateway.js';

const MiB = 1 << 20;

/** A TCP forward's connections from accept until both sides closed. */
function connections(f: HostForward): number {
  assert.ok(f instanceof TcpForward);
  return f.connections;
}

/** Byte i of a stream: a pattern that a lost, doubled or reordered chunk breaks. */
const patternAt = (i: number) => (i * 7 + (i >> 13)) & 0xff;

function pattern(from: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = patternAt(from + i);
  return b;
}

/** Count and check what `s` reads against the pattern; resolves with the count at its end. */
function checkPattern(s: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve, reject) => {
    let at = 0;
    s.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length; i++) {
        if (d[i] !== patternAt(at + i)) return reject(new Error(`byte ${at + i} is ${d[i]}, not ${patternAt(at + i)}`));
      }
      at += d.length;
    });
    s.on('end', () => resolve(at));
    s.on('error', reject);
  });
}

/** Write `total` bytes of the pattern into `w` with backpressure; `stalled` runs the first time the writer has to wait. */
async function writePattern(w: NodeJS.WritableStream, total: number, stalled: () => void = () => {}): Promise<void> {
  const chunk = 48 * 1024 + 13; // not a multiple of anything the path uses
  let waited = false;
  for (let at = 0; at < total; at += chunk) {
    if (!w.write(pattern(at, Math.min(chunk, total - at)))) {
      if (!waited) stalled();
      waited = true;
      await once(w, 'drain');
    }
  }
}

test('splice: 24 MiB from a host client through a forward, the guest stopping its reads; the client half-closes and reads the guest\'s answer', async (t) => {
  const { rig, g, lease } = await rigWithGuest(t);
  let stalled!: () => void;
  const hostWaited = new Promise<void>((r) => (stalled = r));
  let counted: Promise<number> | undefined;
  g.stack.tcp.listen(80, (s) => {
    s.on('error', () => {});
    // Reads nothing until the host writer has had to wait.
    counted = hostWaited.then(() => checkPattern(s));
    void counted.then((n) => s.end(`got ${n}`), () => s.destroy());
  });
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => lease.address);
  const c = connect(fwd.boundPort, '127.0.0.1');
  await once(c, 'connect');
  const answer: Buffer[] = [];
  c.on('data', (d: Buffer) => answer.push(d));
  const total = 24 * MiB + 5;
  // The guest reads only once the writer has waited: that it ends at all is the backpressure.
  await writePattern(c, total, stalled);
  c.end();
  await once(c, 'end');
  assert.equal(Buffer.concat(answer).toString(), `got ${total}`);
  assert.equal(await counted, total);
  assert.ok(await waitFor(() => connections(fwd) === 0), 'the forward counts the connection closed');
  c.destroy();
});

test('splice: a host client that resets mid-stream resets the guest\'s connection and frees the forward\'s slot', async (t) => {
  const { rig, g, lease } = await rigWithGuest(t);
  let got = 0;
  let guestError: Error | undefined;
  let guestClosed = false;
  g.stack.tcp.listen(80, (s) => {
    s.on('data', (d: Buffer) => { got += d.length; });
    s.on('error', (e) => { guestError = e; });
    s.on('close', () => { guestClosed = true; });
  });
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => lease.address);
  const c = connect(fwd.boundPort, '127.0.0.1');
  c.on('error', () => {});
  await once(c, 'connect');
  const chunk = Buffer.alloc(64 * 1024, 1);
  // Enough that the guest has some of it, then a reset with more still on the way.
  while (got < 2 * MiB) {
    c.write(chunk);
    await new Promise((r) => setImmediate(r));
  }
  c.resetAndDestroy();
  assert.ok(await waitFor(() => guestClosed), 'the guest\'s connection closed');
  assert.ok(guestError, 'by a reset, not a FIN');
  assert.ok(await waitFor(() => connections(fwd) === 0), 'the forward counts the connection closed');
  // The forward still serves, through the slot the reset freed.
  const before = got;
  const d = connect(fwd.boundPort, '127.0.0.1');
  d.on('error', () => {});
  d.write('after the reset');
  assert.ok(await waitFor(() => got === before + 'after the reset'.length), 'the guest reads a new connection through the same forward');
  d.destroy();
});

test('splice: a forward bounds its connections itself (maxConnections); a slot frees when a connection closes', async (t) => {
  const { rig, g, lease } = await rigWithGuest(t, { limits: { forward: { maxConnections: 2, maxUdpFlows: 8, udpIdleMs: 60_000 } } });
  g.stack.tcp.listen(80, (s) => {
    s.on('error', () => {});
    s.on('end', () => s.end());
    s.resume();
    s.write('hi');
  });
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => lease.address);
  const open = async () => {
    const c = connect(fwd.boundPort, '127.0.0.1');
    c.on('error', () => {});
    const [d] = (await once(c, 'data')) as [Buffer];
    assert.equal(d.toString(), 'hi');
    return c;
  };
  const first = await open();
  await open();
  const third = connect(fwd.boundPort, '127.0.0.1');
  await assert.rejects(once(third, 'data'), /ECONNRESET/);
  assert.equal(fwd.counters.refused, 1);
  first.destroy();
  assert.ok(await waitFor(() => connections(fwd) === 1));
  (await open()).destroy();
});

test('splice: 16 MiB from a host server to a guest through the NAT, the guest stopping its reads, then the server\'s FIN', async (t) => {
  let stalled!: () => void;
  const serverWaited = new Promise<void>((r) => (stalled = r));
  const total = 16 * MiB + 3;
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    void writePattern(s, total, stalled).then(() => s.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const { rig, g } = await rigWithGuest(t);
  const c = await g.stack.tcp.connect('10.0.2.2', (server.address() as { port: number }).port);
  c.on('error', () => {});
  // Reads nothing until the host server has had to wait.
  await serverWaited;
  assert.equal(await checkPattern(c), total);
  c.end();
  assert.ok(await waitFor(() => rig.gw.tcpNat.flows === 0), `${rig.gw.tcpNat.flows} flows left`);
});

test('splice: 16 MiB from a guest to a host client through a forward, the client not reading until the gateway\'s window to the guest closed', async (t) => {
  const { rig, g, lease } = await rigWithGuest(t);
  const total = 16 * MiB + 7;
  g.stack.tcp.listen(80, (s) => {
    s.on('error', () => {});
    void writePattern(s, total).then(() => s.end());
  });
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => lease.address);
  const c = connect(fwd.boundPort, '127.0.0.1');
  c.on('error', () => {});
  await once(c, 'connect');
  // The gateway's connection to the guest: its window closes once the host socket backs up.
  const closed = () => [...rig.gw.main.stack.tcpLayer.connections()].some((x) => x.localPort !== 80 && x.stats.zeroWindowsOut > 0);
  assert.ok(await waitFor(closed, 20_000), 'the gateway stopped taking the guest\'s bytes');
  assert.equal(await checkPattern(c), total);
  c.end();
  assert.ok(await waitFor(() => connections(fwd) === 0), 'the forward counts the connection closed');
});
