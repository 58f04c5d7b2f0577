// A stream's stall timeout judges what dom0 had the chance to read: bytes that came while its
// thread was blocked past the timeout are read, not cut off (deadline.ts).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { ByteSource } from '../../../src/migration/source.js';
import { blockLoop } from '../../support/block-loop.js';

/** Both ends of a loopback connection, closed when the test ends: the client, and the accepted socket. */
async function pair(t: { after(fn: () => unknown): void }): Promise<{ client: Socket; sock: Socket }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  client.on('error', () => {});
  const [[sock]] = await Promise.all([accepted, once(client, 'connect')]);
  t.after(() => {
    client.destroy();
    sock.destroy();
    server.close();
  });
  return { client, sock };
}

test("bytes that came while dom0's thread was blocked past the stall timeout are read, not a stall", async (t) => {
  const { client, sock } = await pair(t);
  const src = new ByteSource(sock, { stallMs: 100 });
  const reading = src.read(4, 'four octets');
  reading.catch(() => {}); // awaited below
  client.write('abcd'); // into the kernel's buffers at once
  // Past the timeout: its timer is due before the loop polls the socket again. Before, it fired
  // first and the stream was "stalled" with the octets waiting in the socket.
  blockLoop(1000);
  assert.equal((await reading).toString(), 'abcd');
});

test('a stream that sends nothing still stalls', async (t) => {
  const { sock } = await pair(t);
  await assert.rejects(new ByteSource(sock, { stallMs: 100 }).read(4, 'four octets'), /ETIMEDOUT: the stream stalled: nothing came for 100 ms/);
});
