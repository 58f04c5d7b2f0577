// xenstored's Unix socket: a read's replies leave at the end of its handler (its first few at
// once, one write each), and output that request makes for other connections (watch events)
// leaves with them, not on a later turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket, connect } from 'node:net';
import { XS_READ, XS_WRITE } from '../../../../src/abi/xs_wire.js';
import { XsFrameReader, encodeRequest } from '../../../../src/xenstore/common/frames.js';
import { XenstoreClient } from '../../../../src/xenstore/client/client.js';
import { Xenstored } from '../../../../src/xenstore/server/daemon.js';

async function withSocket(fn: (socket: string) => Promise<void>, cpusBusy?: () => boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'xenode-xs-socket-'));
  const xenstored = new Xenstored({ cpusBusy });
  const socket = join(dir, 'xenstored.sock');
  await xenstored.listen(socket);
  try {
    await fn(socket);
  } finally {
    await xenstored.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a write on one socket connection delivers its watch events to the other connections', async () => {
  await withSocket(async (socket) => {
    const writer = await XenstoreClient.connect(socket);
    const watchers = await Promise.all([1, 2, 3].map(() => XenstoreClient.connect(socket)));
    await writer.mkdir('/w');
    const watches = await Promise.all(watchers.map((c) => c.watch('/w')));
    for (const w of watches) await w.next();
    for (let i = 0; i < 20; i++) {
      const events = watches.map((w) => w.next());
      await writer.write('/w/x', String(i));
      // Bounded: an event left behind for a later turn that never comes fails here, not by hanging.
      const got = await Promise.race([
        Promise.all(events),
        new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 5000).unref()),
      ]);
      assert.notEqual(got, 'late', `write ${i}: a watcher's event did not arrive`);
      for (const r of got as IteratorResult<{ path: string }>[]) assert.equal(r.value.path, '/w/x');
    }
    for (const c of [writer, ...watchers]) c.close();
  });
});

test('requests pipelined in one chunk are all answered, in order, on their connection', async () => {
  await withSocket(async (socket) => {
    const a = await XenstoreClient.connect(socket);
    const b = await XenstoreClient.connect(socket);
    await Promise.all(Array.from({ length: 100 }, (_, i) => a.write(`/p/a${i}`, `A${i}`)));
    await Promise.all(Array.from({ length: 100 }, (_, i) => b.write(`/p/b${i}`, `B${i}`)));
    const [ra, rb] = await Promise.all([
      Promise.all(Array.from({ length: 100 }, (_, i) => a.read(`/p/a${i}`))),
      Promise.all(Array.from({ length: 100 }, (_, i) => b.read(`/p/b${i}`))),
    ]);
    assert.deepEqual(ra, Array.from({ length: 100 }, (_, i) => `A${i}`));
    assert.deepEqual(rb, Array.from({ length: 100 }, (_, i) => `B${i}`));
    a.close();
    b.close();
  });
});

/** The daemon's writes (counted on its side of the socket, in this process) for eight requests sent in one write. */
async function daemonWritesForEight(cpusBusy: () => boolean): Promise<number> {
  let daemonWrites = -1;
  await withSocket(async (socket) => {
    const client = connect({ path: socket });
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    const replies: string[] = [];
    const frames = new XsFrameReader((h, payload) => replies.push(`${h.reqId}:${h.type}:${payload.toString('latin1')}`));
    client.on('data', (b: Buffer) => frames.push(b));
    const waitFor = (n: number): Promise<void> => new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${replies.length} of ${n} replies`)), 5000);
      const check = (): void => {
        if (replies.length < n) return;
        clearTimeout(t);
        client.off('data', check);
        resolve();
      };
      client.on('data', check);
      check();
    });
    client.write(encodeRequest(XS_WRITE, 100, 0, ['/e/k', 'v'], true));
    await waitFor(1);
    const write = Socket.prototype.write;
    daemonWrites = 0;
    Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
      if (this !== client) daemonWrites++;
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof write;
    try {
      // Eight requests in one write: the daemon reads them in one read.
      client.write(Buffer.concat(Array.from({ length: 8 }, (_, i) => encodeRequest(XS_READ, i + 1, 0, ['/e/k']))));
      await waitFor(9);
    } finally {
      Socket.prototype.write = write;
    }
    assert.deepEqual(replies.slice(1), Array.from({ length: 8 }, (_, i) => `${i + 1}:${XS_READ}:v`));
    client.destroy();
  }, cpusBusy);
  return daemonWrites;
}

test("with CPUs to spare, a read's first four replies leave at once, one write each, and the rest in one write", async () => {
  assert.equal(await daemonWritesForEight(() => false), 5);
});

test("on busy CPUs a read's replies leave in one write (the client would preempt the daemon at each)", async () => {
  assert.equal(await daemonWritesForEight(() => true), 1);
});
