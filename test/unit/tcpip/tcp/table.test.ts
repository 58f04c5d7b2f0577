// The TCP layer's connection table: 4-tuples that share ports or an address stay apart, a
// delete removes only the connection it names, and the size follows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionTable } from '../../../../src/tcpip/tcp/table.js';

const conn = (remoteAddr: number, remotePort: number, localPort: number) => ({ remoteAddr, remotePort, localPort });

test('ConnectionTable: lookups by 4-tuple, ports and addresses apart, deletes only the one named', () => {
  const t = new ConnectionTable<ReturnType<typeof conn>>();
  const high = 0xc0a80001; // above the small-integer range
  const a = conn(0x0a000002, 49152, 80);
  const b = conn(high, 49152, 80); // same ports, another peer
  const c = conn(0x0a000002, 80, 49152); // the ports the other way round
  const d = conn(0x0a000002, 65535, 65535);
  for (const x of [a, b, c, d]) t.set(x);
  assert.equal(t.size, 4);
  assert.equal(t.get(0x0a000002, 49152, 80), a);
  assert.equal(t.get(high, 49152, 80), b);
  assert.equal(t.get(0x0a000002, 80, 49152), c);
  assert.equal(t.get(0x0a000002, 65535, 65535), d);
  assert.equal(t.get(0x0a000003, 49152, 80), undefined);
  const a2 = conn(0x0a000002, 49152, 80);
  t.set(a2); // a new connection on a's 4-tuple takes its place
  assert.equal(t.size, 4);
  assert.equal(t.delete(a), false, 'the old one is no longer there to delete');
  assert.equal(t.get(0x0a000002, 49152, 80), a2);
  assert.equal(t.delete(b), true);
  assert.equal(t.has(high, 49152, 80), false);
  assert.deepEqual(new Set(t.values()), new Set([a2, c, d]));
  for (const x of [a2, c, d]) t.delete(x);
  assert.equal(t.size, 0);
  assert.deepEqual([...t.values()], []);
});
