// TcpSocket.writeNow, the write of a reader that reuses its buffer (the gateway's splice): each
// write is copied at once, whole even past the send buffer's bound, the answer says when to
// stop, `room` says when to go on, and the bytes arrive in order over a lossy wire.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TcpipError } from '../../../../src/tcpip/errors.js';
import { collect, runPromise, runUntil, stackPair } from '../../../support/tcpip-link.js';

const SND_BUF = 64 * 1024;

test('writeNow: a reused buffer\'s bytes are copied at once, whole past the bound; false stops the writer until room() and every byte arrives in order', async () => {
  const { clock, a, b } = stackPair({ seed: 3, loss: 0.02, jitterMs: 2, tcp: { sndBufMax: SND_BUF } });
  let got: ReturnType<typeof collect> | undefined;
  b.tcp.listen(80, (s) => { got = collect(s); });
  const c = await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
  const chunk = Buffer.alloc(40 * 1024);
  const total = 40;
  let written = 0;
  let stops = 0;
  let rooms = 0;
  // The writer's loop: one buffer, refilled with the next chunk's bytes after each call.
  const pump = (): void => {
    while (written < total) {
      chunk.fill(written & 0xff);
      written++;
      if (!c.writeNow(chunk, () => { rooms++; pump(); })) {
        stops++;
        // Whole, even past the bound: nothing is left for the writer to keep.
        const conn = [...a.tcpLayer.connections()].find((x) => x.remotePort === 80)!;
        assert.ok(conn.sndBuf.length >= chunk.length && conn.sndBuf.length <= SND_BUF + chunk.length, `${conn.sndBuf.length} queued`);
        return;
      }
    }
    c.end();
  };
  pump();
  assert.ok(await runUntil(clock, () => got?.ended() === true, 3_600_000), `ended after ${got?.bytes().length} bytes`);
  const bytes = got!.bytes();
  assert.equal(bytes.length, total * chunk.length);
  for (let i = 0; i < total; i++) assert.equal(bytes[i * chunk.length + chunk.length - 1], i & 0xff, `chunk ${i}`);
  assert.ok(stops > 1, `${stops} stops`);
  assert.equal(rooms, stops, 'room() once after each stop');
});

test('writeNow: refused while a write() is pending (its bytes would be passed)', async () => {
  const { clock, a, b } = stackPair({ tcp: { sndBufMax: SND_BUF } });
  b.tcp.listen(80, (s) => s.pause());
  const c = await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
  c.write(Buffer.alloc(4 * SND_BUF));
  assert.throws(() => c.writeNow(Buffer.alloc(1), () => {}), (e) => e instanceof TcpipError && e.code === 'EINVAL' && /writeNow while a write\(\) is pending/.test(e.message));
  c.destroy();
});
