// A device whose transmit ring is full stops the stack (Net.txRoom false, as Linux's
// netif_stop_queue): TCP holds its data rather than handing the device frames it cannot put on
// the ring, and sends on when the device wakes it (netif_wake_queue). Nothing is lost or
// reordered across the stop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TcpSocket } from '../../../../src/tcpip/tcp/socket.js';
import { collect, runPromise, runUntil, stackPair } from '../../../support/tcpip-link.js';

test('a stopped device gets no data segments; the connection sends on, in order, once woken', async () => {
  const { clock, link, a, b } = stackPair();
  let room = true;
  let woken: (() => void) | undefined;
  let asked = 0;
  link.a.txRoom = (_len, wake) => {
    asked++;
    if (room) return true;
    woken = wake;
    return false;
  };
  let dataWhileStopped = 0;
  // Ethernet, IPv4 and TCP headers with options are under 100 bytes: a longer frame carries data.
  link.a.onTransmit = (frame) => { if (!room && frame.length > 100) dataWhileStopped++; };
  let server: TcpSocket | undefined;
  b.tcp.listen(80, (s) => { server = s; });
  const client = await runPromise(clock, a.tcp.connect('10.0.0.2', 80));
  await runUntil(clock, () => server !== undefined);
  const got = collect(server!);
  const want = new Uint8Array(200_000).map((_, i) => (i * 7) & 255);
  room = false;
  client.end(want);
  await runUntil(clock, () => false, 2_000);
  assert.ok(asked > 0, 'the stack asked the device for room');
  assert.equal(dataWhileStopped, 0, 'no data segment handed to a stopped device');
  assert.equal(got.bytes().length, 0);
  assert.ok(woken, 'the stack left a wake-up with the device');
  room = true;
  woken!();
  assert.ok(await runUntil(clock, () => got.ended()), 'the stream ends once woken');
  assert.deepEqual(new Uint8Array(got.bytes()), want);
});
