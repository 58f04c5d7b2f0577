// A sender blocked on its send buffer, woken by an ACK, sends within that ACK's window: a
// receiver that does not read closes its window as the bytes arrive (its right edge stays put),
// and nothing may be sent past that edge.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import type { TcpSocket } from '../../../../src/tcpip/tcp/socket.js';
import { collect, runPromise, runUntil, stackPair } from '../../../support/tcpip-link.js';

test('window: a writer woken by an ACK sends nothing past the right edge that ACK gives (a receiver that does not read)', async () => {
  const { clock, a, b } = stackPair({ seed: 9, tcp: { sndBufMax: 16 * 1024 }, tcpB: { rcvBufMax: 64 * 1024 } });
  let server: TcpSocket | undefined;
  b.tcp.listen(80, (s) => { server = s; });
  const c = await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
  const chunk = Buffer.alloc(24 * 1024, 0x33);
  const total = 22 * chunk.length;
  const writer = (async () => {
    for (let sent = 0; sent < total; sent += chunk.length) if (!c.write(chunk)) await once(c, 'drain');
    c.end();
  })();
  const sender = () => [...a.tcpLayer.connections()].find((x) => x.remotePort === 80)!;
  // The receiver reads nothing until the sender has met its closed window.
  assert.ok(await runUntil(clock, () => server !== undefined && sender().sndWnd === 0 && sender().sndBuf.length > 0), 'the window closed');
  const got = collect(server!);
  assert.ok(await runUntil(clock, () => got.ended(), 3_600_000), `ended after ${got.bytes().length} bytes`);
  await writer;
  assert.equal(got.bytes().length, total);
  assert.equal(c.stats.retransmits, 0, 'nothing was sent past the edge (and dropped)');
  assert.equal(c.stats.timeouts, 0);
});
