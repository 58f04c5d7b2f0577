// The xenbus life of a device: the guest closes and reopens it, the backend restarts under
// in-flight requests (which the frontend issues again), the toolstack detaches it, and the
// backend vanishes (the guest sees the device close).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XenbusState } from '../../../../../src/abi/xenbus.js';
import { Disconnected } from '../../../../../src/drivers/blk/front/errors.js';
import { localRingIo, RING_BAD, ringIoThrough, ringMemory, type RingIo } from '../../../../../src/drivers/blk/front/ring-io.js';
import { switchState } from '../../../../../src/drivers/xenbus.js';
import { RamDisk } from '../../../../../src/storage/ram.js';
import { detachDisk, listDisks } from '../../../../../src/toolstack/devices.js';
import { GatedDisk, Rig, connected, pattern, within } from '../../../../support/blk.js';

const MiB = 1 << 20;

test('the guest disconnects, the grants go, and it can connect again', async (t) => {
  const { rig, g, f } = await connected(t, new RamDisk(MiB));
  await f.write(0, pattern(0, 8, 1));
  const granted = g.hc.freeGrantRefs;
  await within(f.disconnect(), 'disconnect');
  assert.equal(f.status, 'closed');
  const be = `/local/domain/0/backend/vbd/${g.domid}/51712`;
  assert.equal(await rig.xs0.read(`${be}/state`), String(XenbusState.Closed));
  assert.ok(g.hc.freeGrantRefs > granted, 'ring and persistent grants were ended');
  assert.equal(g.domain.view.foreignPins, 0, 'the backend holds no mapping of the guest');
  await assert.rejects(f.read(0, new Uint8Array(512)), Disconnected);
  const again = await within(rig.front(g), 'reconnect');
  const b = new Uint8Array(4096);
  await again.read(0, b);
  assert.deepEqual(b, pattern(0, 8, 1));
});

test('a backend restart: requests in flight are issued again and complete', async (t) => {
  const rig = new Rig();
  t.after(() => rig.close());
  const g = rig.guest();
  const ram = new RamDisk(MiB);
  for (let s = 0; s < 256; s += 8) ram.write(s, [pattern(s, 8, 9)]);
  const gated = new GatedDisk(ram);
  await rig.attach(g, 'vdev=xvda, target=/test/a', gated);
  const f = await within(rig.front(g), 'connect');
  gated.shut();
  const bufs = Array.from({ length: 16 }, () => new Uint8Array(4096));
  const reads = bufs.map((b, i) => f.read(i * 8, b));
  while (gated.started < 16) await new Promise((r) => setTimeout(r, 1));
  const fresh = await rig.restartBackend(g, gated);
  t.after(() => fresh.close());
  await within(Promise.all(reads), 'the reads, issued again');
  bufs.forEach((b, i) => assert.deepEqual(b, pattern(i * 8, 8, 9)));
  assert.equal(f.status, 'connected');
  assert.ok(fresh.stats.requests >= 16);
});

test('a backend restart that offers smaller requests: an I/O in flight is cut again to fit them', async (t) => {
  const rig = new Rig();
  t.after(() => rig.close());
  const g = rig.guest();
  const gated = new GatedDisk(new RamDisk(4 * MiB));
  await rig.attach(g, 'vdev=xvda, target=/test/a', gated);
  const f = await within(rig.front(g), 'connect');
  assert.equal(f.negotiated?.maxSegments, 256);
  gated.shut();
  // Two requests of the first connection (1 MiB, then 4 KiB), and a read in flight behind them.
  const data = pattern(8, 2056, 4);
  const write = f.write(8, data);
  while (gated.started < 2) await new Promise((r) => setTimeout(r, 1));
  const after = new Uint8Array(4096);
  const read = f.read(8 + 2048, after);
  const fresh = await rig.restartBackend(g, gated, { maxIndirectSegments: 32 });
  t.after(() => fresh.close());
  await within(write, 'the write, issued again');
  await within(read, 'the read behind it');
  assert.equal(f.negotiated?.maxSegments, 32);
  assert.equal(fresh.stats.requests, 256 / 32 + 1 + 1, 'the 1 MiB part went as 8 requests, the 4 KiB part and the read as one each');
  assert.deepEqual(after, data.subarray(2048 * 512));
  const back = new Uint8Array(data.length);
  await f.read(8, back);
  assert.deepEqual(back, data);
});

test('a backend restarted without indirect requests takes back its predecessor\'s offer of them', async (t) => {
  const gated = new GatedDisk(new RamDisk(MiB));
  const { rig, g, f } = await connected(t, gated);
  assert.equal(f.negotiated?.maxSegments, 256);
  const fresh = await rig.restartBackend(g, gated, { maxIndirectSegments: 0 });
  t.after(() => fresh.close());
  const be = `/local/domain/0/backend/vbd/${g.domid}/51712`;
  assert.equal(await rig.xs0.exists(`${be}/feature-max-indirect-segments`), false);
  const data = pattern(0, 2048, 7);
  await within(f.write(0, data), 'a 1 MiB write, in requests of 11 pages');
  assert.equal(f.negotiated?.maxSegments, 11);
  const back = new Uint8Array(data.length);
  await f.read(0, back);
  assert.deepEqual(back, data);
});

test('block-detach: the guest is asked to close, and the nodes go', async (t) => {
  const rig = new Rig();
  t.after(() => rig.close());
  const g = rig.guest();
  await rig.attach(g, 'vdev=xvda, target=/test/a', new RamDisk(MiB));
  await rig.attach(g, 'vdev=xvdb, target=/test/b', new RamDisk(MiB));
  const f = await within(rig.front(g), 'connect');
  const list = await listDisks(rig.host, g.domid);
  assert.deepEqual(list.map((d) => [d.vdev, d.devid, d.state]), [['xvda', 51712, XenbusState.Connected], ['xvdb', 51728, XenbusState.Initialising]]);
  assert.equal(typeof list[0]!.ringRef, 'number');
  await within(detachDisk(rig.host, g.domid, 'xvda'), 'detach');
  assert.equal(f.status, 'closed');
  await assert.rejects(f.read(0, new Uint8Array(512)), Disconnected);
  assert.equal(await rig.xs0.exists(`/local/domain/${g.domid}/device/vbd/51712`), false);
  assert.equal(await rig.xs0.exists(`/local/domain/0/backend/vbd/${g.domid}/51712`), false);
  // A device the guest never opened goes at once.
  await within(detachDisk(rig.host, g.domid, 51728), 'detach xvdb');
  assert.deepEqual(await listDisks(rig.host, g.domid), []);
  await assert.rejects(detachDisk(rig.host, g.domid, 'xvdb'), { errno: 'ENOENT' });
});

test('the backend vanishes: pending I/O fails with Disconnected, the device is closed', async (t) => {
  const gated = new GatedDisk(new RamDisk(MiB));
  const { rig, g, f } = await connected(t, gated);
  gated.shut();
  const pending = f.read(0, new Uint8Array(4096));
  await rig.xs0.rm(`/local/domain/0/backend/vbd/${g.domid}/51712`);
  await assert.rejects(within(pending, 'the pending read'), Disconnected);
  assert.equal(f.status, 'closed');
  gated.open();
});

test('the backend announcing Connected again (a resize) leaves the persistent grants in place', async (t) => {
  const { rig, g, f } = await connected(t, new RamDisk(MiB));
  await f.write(0, pattern(0, 64, 3));
  const persistent = f.persistentGrants;
  const free = g.hc.freeGrantRefs;
  assert.ok(persistent > 0);
  const be = `/local/domain/0/backend/vbd/${g.domid}/51712`;
  await rig.xs0.write(`${be}/sectors`, String((2 * MiB) / 512));
  await switchState(rig.xs0, be, XenbusState.Connected);
  await within((async () => {
    while (f.info().sizeSectors !== (2 * MiB) / 512) await new Promise((r) => setTimeout(r, 1));
  })(), 'the new size');
  const b = new Uint8Array(64 * 512);
  await f.read(0, b);
  assert.deepEqual(b, pattern(0, 64, 3));
  assert.equal(f.persistentGrants, persistent, 'no page had to be granted again');
  assert.equal(g.hc.freeGrantRefs, free, 'no grant was ended or added');
});

test('a push its RingIo refuses (a ring not in the domain\'s memory) fails the connection with EIO, not the guest\'s thread with an uncaught error', async (t) => {
  let refuse = false;
  // As a realm's pCPU would answer (ring-io.ts): this guest's own ring work until told to refuse.
  ringIoThrough({
    push: (...a) => (refuse ? RING_BAD : local!.push(...a)),
    poll: (...a) => local!.poll(...a),
  });
  t.after(() => ringIoThrough(null));
  let local: RingIo | null = null;
  const rig = new Rig();
  t.after(() => rig.close());
  const g = rig.guest();
  local = localRingIo(ringMemory(g.hc.memory.buffers.memory));
  await rig.attach(g, 'vdev=xvda, target=/test/a', new RamDisk(MiB));
  const f = await within(rig.front(g, 51712), 'connect');
  await f.write(0, pattern(0, 8, 1));
  refuse = true;
  // The read was in flight when the connection failed: it fails as every request in flight does.
  await assert.rejects(within(f.read(0, new Uint8Array(4096)), 'the read'), Disconnected);
  assert.equal(f.status, 'closed', 'the connection failed (the EIO is logged), the device closed');
});
