// TcpSocket.onBytes, the copy-free read: views of the received frames, handed over in order and
// exactly once over a hostile wire (loss, duplicates, reordering, retransmissions overlapping),
// with what arrived before it first, and nothing kept in the receive queue while it keeps up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TcpSocket } from '../../../../src/tcpip/tcp/socket.js';
import { runPromise, runUntil, stackPair } from '../../../support/tcpip-link.js';

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 9)) & 0xff;
  return b;
}

test('onBytes: every byte once and in order over a lossy, duplicating, reordering wire; the end comes as before', async () => {
  const { clock, a, b } = stackPair({ seed: 5, loss: 0.03, duplicate: 0.03, jitterMs: 4 });
  let got = Buffer.alloc(0);
  let ended = false;
  let calls = 0;
  let server: TcpSocket | undefined;
  b.tcp.listen(80, (s) => {
    server = s;
    s.onBytes((v) => {
      calls++;
      got = Buffer.concat([got, v]); // a copy: the view is valid only now
    });
    s.on('end', () => { ended = true; });
  });
  const client = await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
  const data = pattern(512 * 1024);
  client.end(data);
  assert.ok(await runUntil(clock, () => ended, 3_600_000), `ended after ${got.length} bytes`);
  assert.equal(got.length, data.length);
  assert.ok(got.equals(data), 'the bytes, in order');
  assert.ok(calls > 1);
  assert.equal(server!.listenerCount('data'), 0);
  const conn = [...b.tcpLayer.connections()].find((c) => c.localPort === 80);
  assert.equal(conn?.rcvQueue.length ?? 0, 0, 'nothing waited in the receive queue');
});

test('onBytes taken after bytes arrived: those come first, then the rest', async () => {
  const { clock, a, b } = stackPair({ seed: 6 });
  let server: TcpSocket | undefined;
  b.tcp.listen(80, (s) => { server = s; });
  const client = await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
  assert.ok(await runUntil(clock, () => server !== undefined));
  const data = pattern(100_000);
  client.write(data.subarray(0, 30_000));
  const conn = () => [...b.tcpLayer.connections()].find((c) => c.localPort === 80)!;
  assert.ok(await runUntil(clock, () => conn().rcvQueue.length === 30_000), 'the first part waits, unread');
  const parts: Buffer[] = [];
  server!.onBytes((v) => { parts.push(Buffer.from(v)); });
  assert.equal(Buffer.concat(parts).length, 30_000, 'handed over at once');
  let ended = false;
  server!.on('end', () => { ended = true; });
  client.end(data.subarray(30_000));
  assert.ok(await runUntil(clock, () => ended));
  assert.ok(Buffer.concat(parts).equals(data));
});

test('onBytes: a reader that answers as it reads sends its ACK on the answer, and no delayed ACK repeats it later', async () => {
  const { clock, a, b } = stackPair({ seed: 7 });
  b.tcp.listen(80, (s) => {
    s.setNoDelay(true);
    s.onBytes((v) => void s.writeNow(v.slice(), () => {})); // an echo, answered within the call
  });
  const client = await runPromise(clock, a.tcp.connect('10.0.0.2', 80, { noDelay: true }));
  let got = 0;
  client.on('data', (d: Uint8Array) => { got += d.length; });
  for (let i = 1; i <= 20; i++) {
    client.write(pattern(100));
    assert.ok(await runUntil(clock, () => got === 100 * i));
    // Idle past the delayed-ACK time: a timer left from the request would send a bare ACK now.
    assert.equal(await runUntil(clock, () => false, 200), false);
  }
  const server = [...b.tcpLayer.connections()].find((c) => c.localPort === 80)!;
  assert.equal(server.stats.dataSegmentsOut, 20);
  assert.equal(server.stats.acksOut, 0, 'every ACK rode on an answer');
  assert.equal([...a.tcpLayer.connections()][0]!.stats.dupAcksIn, 0);
});
