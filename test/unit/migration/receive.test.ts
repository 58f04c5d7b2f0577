// The migration listener before a sender shows the token: such a connection holds no slot of a
// migration, has a bounded time in all to show it (not per octet), and past a bounded number of
// them, in all or from one address, the oldest is dropped (no fd kept for a client that never
// closes, and a sender with the token, which shows it at once, is not kept out).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { MIGRATE_RECEIVER_BANNER } from '../../../src/migration/format.js';
import { MigrationReceiver } from '../../../src/migration/receive.js';
import { ByteSource } from '../../../src/migration/source.js';
import { AUTH_BYTES, AUTH_REFUSED, DISK_AUTH_PREFIX, authLine } from '../../../src/migration/wire.js';
import type { Host } from '../../../src/toolstack/host.js';
import { blockLoop } from '../../support/block-loop.js';
import { offerBytes, offerOn } from '../../support/disk-offer.js';
import { localHostForTests } from '../../support/local-host.js';

let host: Host;
let dir: string;
// A state dir of its own: the VDI a disk offer makes goes there.
localHostForTests('receive', (local, d) => ((host = local.host), (dir = d)));

/** A receiver, and the client sockets a test opens to it (destroyed before it closes, which waits for them). */
async function listen(t: { after(fn: () => unknown): void }, authMs: number): Promise<{ rx: MigrationReceiver; all: Socket[] }> {
  const all: Socket[] = [];
  const rx = await MigrationReceiver.listen(host, { address: '127.0.0.1', port: 0, tokenFile: join(dir, `token-${authMs}`), log: () => {}, authMs });
  t.after(() => {
    all.forEach((s) => s.destroy());
    return rx.close();
  });
  return { rx, all };
}

/**
 * A client connection that keeps its side open after the receiver half-closes (a hostile one's
 * way), from `from` (any of 127/8 is this machine's).
 */
function open(rx: MigrationReceiver, all: Socket[], from = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect({ port: rx.port, host: '127.0.0.1', localAddress: from, allowHalfOpen: true }, () => resolve(s));
    s.on('error', () => {});
    all.push(s);
  });
}

/** Whether the receiver ends its side of `s` within `ms` (a bound on the wait, not on the speed). */
function endedWithin(s: Socket, ms: number): Promise<boolean> {
  if (s.readableEnded || s.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    s.once('end', done);
    s.once('close', done);
    s.resume();
  });
}

/** What the receiver answers `line` with, up to the banner's length (then the client goes) or the close. */
function answer(rx: MigrationReceiver, line: Buffer, all: Socket[]): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(rx.port, '127.0.0.1', () => s.write(line));
    all.push(s);
    let got = '';
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.length < MIGRATE_RECEIVER_BANNER.length) return;
      s.destroy();
      resolve(got);
    });
    s.on('close', () => resolve(got));
  });
}

/** Waits (bounded) until the receiver holds `n` connections; false if it never does. */
async function connections(rx: MigrationReceiver, n: number): Promise<boolean> {
  for (let i = 0; i < 1000; i++) {
    const have = await new Promise<number>((resolve) => rx.server.getConnections((_, c) => resolve(c)));
    if (have === n) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

test('clients without the token hold no migration slot: the sender with it is answered while four of them trickle', async (t) => {
  const { rx, all } = await listen(t, 60_000);
  for (let i = 0; i < 4; i++) (await open(rx, all)).write('x');
  assert.ok(await connections(rx, 4));
  assert.equal((await answer(rx, authLine(rx.token), all)).slice(0, MIGRATE_RECEIVER_BANNER.length), MIGRATE_RECEIVER_BANNER.toString('latin1'));
});

test('a client without the token is dropped once its time to show it is up, however it trickles', async (t) => {
  const { rx, all } = await listen(t, 300);
  const s = await open(rx, all);
  // An octet every 100 ms, never the whole preamble: a stall timer restarted by each would not fire.
  let sent = 0;
  const trickle = setInterval(() => s.writable && sent < AUTH_BYTES - 1 && s.write('x') && sent++, 100);
  t.after(() => clearInterval(trickle));
  assert.ok(await endedWithin(s, 7_000), 'the receiver ended the connection');
});

test("a sender whose preamble came while dom0's thread was blocked past its deadline is answered, not cut", async (t) => {
  const { rx, all } = await listen(t, 100);
  const accepted = new Promise((resolve) => rx.server.once('connection', resolve));
  const s = await open(rx, all);
  await accepted; // its deadline runs
  let got = '';
  const answered = new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => (got += d.toString('latin1')).length >= MIGRATE_RECEIVER_BANNER.length && resolve());
    s.on('close', () => resolve());
  });
  s.write(authLine(rx.token)); // into the kernel's buffers at once
  // Past the deadline: its timer is due before the loop polls the socket again. Before, it fired
  // first and the sender was cut with its preamble waiting in the socket.
  blockLoop(1000);
  // Bounded: a receiver that neither answers nor closes fails the test below.
  await Promise.race([answered, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  assert.equal(got.slice(0, MIGRATE_RECEIVER_BANNER.length), MIGRATE_RECEIVER_BANNER.toString('latin1'));
});

test('past the bound on connections without the token (silent or refused), the oldest is closed for a new one (its fd not kept for a client that keeps its side open)', async (t) => {
  const { rx, all } = await listen(t, 60_000);
  // Half of them silent, half refused (a wrong token) and lingering: both count until closed.
  // From eight addresses, eight each: within the bound per address.
  const wrong = authLine('0'.repeat(64));
  const held: Socket[] = [];
  for (let i = 0; i < 64; i++) {
    const s = await open(rx, all, `127.0.0.${2 + (i % 8)}`);
    held.push(s);
    if (i % 2) {
      s.write(wrong);
      assert.ok(await endedWithin(s, 20_000), 'the wrong token is refused');
    }
  }
  assert.ok(await connections(rx, 64));
  const newest = await open(rx, all, '127.0.0.10');
  // The oldest, silent, is ended; its client never closes its side: the receiver's is gone all the same.
  assert.ok(await endedWithin(held[0]!, 20_000), 'the receiver ended the oldest connection');
  assert.ok(await connections(rx, 64), 'the receiver let the oldest connection go');
  assert.ok(!(await endedWithin(newest, 100)), 'the newest is kept');
});

test('past eight connections without the token from one address, its oldest is closed; those from others stay', async (t) => {
  const { rx, all } = await listen(t, 60_000);
  const other = await open(rx, all, '127.0.0.2');
  const mine: Socket[] = [];
  for (let i = 0; i < 9; i++) mine.push(await open(rx, all, '127.0.0.3'));
  assert.ok(await endedWithin(mine[0]!, 20_000), 'the oldest from 127.0.0.3 is ended');
  assert.ok(await connections(rx, 9), 'eight from 127.0.0.3 and one from 127.0.0.2');
  assert.ok(!(await endedWithin(other, 100)), 'the one from 127.0.0.2 stays');
});

test('64 silent clients that reconnect as soon as they are dropped do not keep out the sender with the token', async (t) => {
  const { rx, all } = await listen(t, 60_000);
  // Sixteen addresses, four each, so that only the bound on all of them holds them back.
  let stop = false;
  let reconnects = 0;
  t.after(() => (stop = true));
  const silent = (from: string): void => {
    void open(rx, all, from).then((s) => s.once('close', () => !stop && reconnects++ < 10_000 && setTimeout(() => silent(from), 10)));
  };
  for (let i = 0; i < 64; i++) silent(`127.0.1.${1 + (i % 16)}`);
  assert.ok(await connections(rx, 64));
  for (let i = 0; i < 5; i++) {
    assert.equal((await answer(rx, authLine(rx.token), all)).slice(0, MIGRATE_RECEIVER_BANNER.length), MIGRATE_RECEIVER_BANNER.toString('latin1'), `attempt ${i}`);
  }
});

test('a disk offer past 2 TiB is received (no byte a sector to allocate), and a connection that ends without a commit leaves no VDI', async (t) => {
  const { rx, all } = await listen(t, 60_000);
  const before = (await host.vdis.list()).length;
  const offer = Buffer.from(JSON.stringify({ vdi: 'x', name: 'big-offer', sr: null, size: 8 * 2 ** 40, format: 'raw' }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(offer.length);
  const answer = await new Promise<string>((resolve) => {
    const s = connect(rx.port, '127.0.0.1', () => s.write(Buffer.concat([authLine(rx.token, DISK_AUTH_PREFIX), len, offer])));
    all.push(s);
    let got = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32LE(0)) {
        s.destroy();
        resolve(got.subarray(4, 4 + got.readUInt32LE(0)).toString());
      }
    });
    s.on('close', () => resolve(got.toString()));
  });
  assert.match(answer, /^\{"vdi":"[0-9a-f-]{36}"\}$/, 'the receiver made the VDI');
  let after = -1;
  for (let i = 0; i < 500 && after !== before; i++) {
    if (i) await new Promise((r) => setTimeout(r, 20));
    after = (await host.vdis.list()).length;
  }
  assert.equal(after, before, 'the VDI is dropped once the connection ends uncommitted');
});

/** A connection showing `tok` (a memory stream's preamble), kept open; what it reads up to the banner's length or its end. */
async function memoryStream(rx: MigrationReceiver, all: Socket[], tok: string, from?: string): Promise<{ s: Socket; got: string }> {
  const s = await open(rx, all, from);
  s.write(authLine(tok));
  let got = '';
  await new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => (got += d.toString('latin1')).length >= MIGRATE_RECEIVER_BANNER.length && resolve());
    s.once('end', resolve);
    s.once('close', resolve);
  });
  return { s, got };
}

/** A disk connection showing `tok` with a 1 MiB raw offer (announcing `disks` if given); the receiver's answer. */
async function diskOffer(rx: MigrationReceiver, all: Socket[], tok: string, disks?: number): Promise<{ s: Socket; src: ByteSource; ans: Record<string, unknown> }> {
  const s = await open(rx, all);
  const { src, answer } = await offerOn(s, tok, { vdi: 'x', name: 'slot-disk', sr: null, size: 1 << 20, format: 'raw', ...(disks !== undefined && { disks }) });
  return { s, src, ans: answer };
}

/** A disk record with no data (Done 0x44, Commit 0x43), and its acknowledgement's status. */
async function diskRecord(d: { s: Socket; src: ByteSource }, type: number, id: number): Promise<number> {
  const h = Buffer.alloc(15);
  h[0] = type;
  h.writeUInt32LE(id, 1);
  d.s.write(h);
  return (await d.src.read(5, 'ack'))[4]!;
}

const BANNER = MIGRATE_RECEIVER_BANNER.toString('latin1');

test("a --with-disks migration's slot is held until its first disk and every joined connection have ended; its token opens its other disks and one memory stream", async (t) => {
  const { rx, all } = await listen(t, 60_000);
  for (let i = 0; i < 3; i++) assert.equal((await memoryStream(rx, all, rx.token)).got, BANNER);
  const first = await diskOffer(rx, all, rx.token, 3);
  const mig = String(first.ans['migration']);
  // Before, the token was good from anywhere: only the opener's address may show it.
  assert.equal((await memoryStream(rx, all, mig, '127.0.0.2')).got, AUTH_REFUSED, 'not from another address');
  const memory = await memoryStream(rx, all, mig);
  assert.equal(memory.got, BANNER);
  // Before, the token opened as many memory streams as the migration announced disks.
  assert.equal((await memoryStream(rx, all, mig)).got, AUTH_REFUSED, 'a second memory stream is refused');
  const disk = await diskOffer(rx, all, mig);
  assert.equal(typeof disk.ans['vdi'], 'string');
  // The first disk commits and its connection ends: the migration goes on with the others.
  assert.equal(await diskRecord(first, 0x44, 1), 0);
  assert.equal(await diskRecord(first, 0x43, 2), 0);
  assert.ok(await endedWithin(first.s, 10_000));
  t.after(() => host.vdis.destroy(String(first.ans['vdi'])));
  // Before, the slot went with the first disk's connection while the others lived on.
  assert.equal((await memoryStream(rx, all, rx.token)).got, 'xenode migration receiver: busy\n', 'the fourth slot is still the migration\'s');
  assert.deepEqual((await diskOffer(rx, all, mig)).ans, { refused: true }, 'no join once the first disk is gone');
  memory.s.destroy();
  disk.s.destroy();
  let got = '';
  for (let i = 0; i < 200 && got !== BANNER; i++) {
    if (i) await new Promise((r) => setTimeout(r, 20));
    got = (await memoryStream(rx, all, rx.token)).got;
  }
  assert.equal(got, BANNER, 'the slot is free once they have ended');
});

test("a first disk that fails cuts the connections its migration's token let in", async (t) => {
  const { rx, all } = await listen(t, 60_000);
  const first = await diskOffer(rx, all, rx.token, 2);
  const memory = await memoryStream(rx, all, String(first.ans['migration']));
  assert.equal(memory.got, BANNER);
  first.s.destroy();
  // Before, the memory stream was served on (a domain built from it) with no disk behind it.
  assert.ok(await endedWithin(memory.s, 10_000), 'the memory stream is cut');
});

test('first disks gone before their answer leave no migration open: later ones are still given a token', async (t) => {
  const { rx, all } = await listen(t, 60_000);
  for (let i = 0; i < 20; i++) {
    const s = await open(rx, all);
    s.write(offerBytes(rx.token, { vdi: 'x', name: `gone${i}`, sr: null, size: 1 << 20, format: 'raw', disks: 2 }));
    s.destroy();
  }
  // Before, some were left open for ever; their count is now bounded by the slots, so a leak would refuse these.
  for (let i = 0; i < 8; i++) {
    let ans: Record<string, unknown> = {};
    for (let j = 0; j < 200 && typeof ans['migration'] !== 'string'; j++) {
      if (j) await new Promise((r) => setTimeout(r, 20));
      const d = await diskOffer(rx, all, rx.token, 2);
      ans = d.ans;
      d.s.destroy();
    }
    assert.equal(typeof ans['migration'], 'string', `first disk ${i}: ${JSON.stringify(ans)}`);
  }
});
