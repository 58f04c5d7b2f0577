// blkfront and blkback together: handshake, I/O of every kind and size, persistent grants,
// indirect requests, multi-page rings and multiple queues.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XenbusState } from '../../../../src/abi/xenbus.js';
import { RamDisk } from '../../../../src/storage/ram.js';
import { IoError, OutOfRange, ReadOnly, Unaligned } from '../../../../src/drivers/blk/front/errors.js';
import { GatedDisk, Rig, connected, pattern, within } from '../../../support/blk.js';
import { waitFor } from '../../../support/wait.js';
import { removeDomainDevices, removeDomainDisks } from '../../../../src/toolstack/devices.js';

const MiB = 1 << 20;

test('handshake: both ends go Connected and publish the keys of blkif.h', async (t) => {
  const rig = new Rig();
  t.after(() => rig.close());
  const g = rig.guest();
  await rig.attach(g, 'vdev=xvda, target=/test/a', new RamDisk(4 * MiB));
  const be = `/local/domain/0/backend/vbd/${g.domid}/51712`;
  const fe = `/local/domain/${g.domid}/device/vbd/51712`;
  assert.equal(await rig.xs0.read(`${be}/state`), String(XenbusState.InitWait));
  assert.equal(await rig.xs0.read(`${be}/feature-persistent`), '1');
  assert.equal(await rig.xs0.read(`${be}/feature-max-indirect-segments`), '256');
  assert.deepEqual(await rig.xs0.getPerms(fe), [{ domid: g.domid, perm: 'n' }, { domid: 0, perm: 'r' }]);
  const f = await within(rig.front(g), 'connect');
  assert.equal(await rig.xs0.read(`${be}/state`), String(XenbusState.Connected));
  assert.equal(await rig.xs0.read(`${fe}/state`), String(XenbusState.Connected));
  assert.equal(await rig.xs0.read(`${fe}/protocol`), 'x86_64-abi');
  assert.match(await rig.xs0.read(`${fe}/ring-ref`), /^[0-9]+$/);
  assert.equal(await rig.xs0.read(`${be}/sectors`), String((4 * MiB) / 512));
  assert.deepEqual(f.info(), { readWrite: true, sectorSize: 512, sizeSectors: (4 * MiB) / 512 });
  assert.equal(f.negotiated?.persistent, true);
  assert.equal(f.negotiated?.maxSegments, 256);
});

test('read, write, flush and discard, from one sector to 1 MiB, in one buffer or several', async (t) => {
  const disk = new RamDisk(8 * MiB);
  const { f } = await connected(t, disk);
  for (const sectors of [1, 7, 8, 9, 88, 89, 2048]) {
    const data = pattern(100, sectors, sectors);
    await within(f.write(100, data), `write ${sectors}`);
    const direct = new Uint8Array(sectors * 512);
    disk.read(100, [direct]);
    assert.deepEqual(direct, data, `${sectors} sectors reached the disk`);
    const back = new Uint8Array(sectors * 512);
    await within(f.read(100, back), `read ${sectors}`);
    assert.deepEqual(back, data);
  }
  // A scatter list with buffers that straddle pages.
  const parts = [new Uint8Array(512), new Uint8Array(4096 + 1024), new Uint8Array(3 * 512)];
  await f.read(100, parts);
  assert.deepEqual(Buffer.concat(parts), Buffer.from(pattern(100, 14, 2048)));
  await f.write(5000, parts);
  const whole = new Uint8Array(14 * 512);
  await f.read(5000, whole);
  assert.deepEqual(whole, new Uint8Array(Buffer.concat(parts)));
  await f.flush();
  await f.discard(100, 8);
  const z = new Uint8Array(4096);
  await f.read(100, z);
  assert.ok(z.every((b) => b === 0));
  await assert.rejects(f.read(f.info().sizeSectors, new Uint8Array(512)), OutOfRange);
  await assert.rejects(f.write(-1, new Uint8Array(512)), OutOfRange);
  await assert.rejects(f.read(0, new Uint8Array(100)), Unaligned);
  await assert.rejects(f.write(0, [new Uint8Array(512), new Uint8Array(1)]), { name: 'Unaligned', kind: 'Unaligned' });
});

test('many requests in flight at once complete with the right data', async (t) => {
  const rig = new Rig();
  t.after(() => rig.close());
  const g = rig.guest();
  const disk = new RamDisk(8 * MiB);
  for (let s = 0; s < 2048; s += 8) disk.write(s, [pattern(s, 8, 7)]);
  await rig.attach(g, 'vdev=xvda, target=/test/a', disk);
  const f = await within(rig.front(g, 51712, { ringPageOrder: 2, queues: 3 }), 'connect');
  assert.equal(f.negotiated?.ringPages, 4);
  assert.equal(f.negotiated?.queues, 3);
  const fe = `/local/domain/${g.domid}/device/vbd/51712`;
  assert.equal(await rig.xs0.read(`${fe}/multi-queue-num-queues`), '3');
  assert.equal(await rig.xs0.read(`${fe}/ring-page-order`), '2');
  assert.match(await rig.xs0.read(`${fe}/queue-2/ring-ref3`), /^[0-9]+$/);
  const reads = Array.from({ length: 500 }, (_, i) => {
    const s = (i * 8 * 37) % 2048;
    const b = new Uint8Array(4096);
    return f.read(s, b).then(() => assert.deepEqual(b, pattern(s, 8, 7)));
  });
  await within(Promise.all(reads), '500 reads');
});

test('persistent grants: the backend maps each grant once; without them it maps per request', async (t) => {
  const rig = new Rig();
  t.after(() => rig.close());
  const g1 = rig.guest();
  const g2 = rig.guest();
  await rig.attach(g1, 'vdev=xvda, target=/test/a', new RamDisk(MiB));
  await rig.attach(g2, 'vdev=xvda, target=/test/b', new RamDisk(MiB));
  const on = await within(rig.front(g1), 'connect on');
  const off = await within(rig.front(g2, 51712, { persistent: false }), 'connect off');
  const d = await rig.daemon();
  const beOn = d.device(g1.domid, 51712)!;
  const beOff = d.device(g2.domid, 51712)!;
  const run = (f: typeof on) => Promise.all(Array.from({ length: 200 }, (_, i) => f.read((i * 8) % 2048, new Uint8Array(4096))));
  await within(run(on), 'reads with persistent grants');
  await within(run(off), 'reads without');
  assert.equal(beOn.stats.transientMaps, 0);
  // LIFO reuse in the frontend keeps the pool at what was in flight at once.
  assert.ok(on.persistentGrants <= 32, `${on.persistentGrants} persistent grants`);
  assert.equal(beOn.persistentGrants[0], on.persistentGrants);
  assert.equal(beOff.stats.transientMaps, 200);
  assert.deepEqual(beOff.persistentGrants, []);
  assert.equal(await rig.xs0.read(`/local/domain/${g2.domid}/device/vbd/51712/feature-persistent`), '0');
});

test('indirect descriptors carry 1 MiB in one request; without them it takes 24', async (t) => {
  const { rig, g, f } = await connected(t, new RamDisk(4 * MiB));
  const be = (await rig.daemon()).device(g.domid, 51712)!;
  const before = be.stats.requests;
  await f.read(0, new Uint8Array(MiB));
  assert.equal(be.stats.requests - before, 1);
  await f.disconnect();
  const direct = await within(rig.front(g, 51712, { maxIndirectSegments: 0 }), 'reconnect without indirect');
  assert.equal(direct.negotiated?.maxSegments, 11);
  const b2 = be.stats.requests;
  const data = pattern(0, 2048, 3);
  await direct.write(0, data);
  assert.equal(be.stats.requests - b2, Math.ceil(256 / 11));
  const back = new Uint8Array(MiB);
  await direct.read(0, back);
  assert.deepEqual(back, data);
});

/** A disk that holds the write starting at `holdAt` until released, and fails the one at `failAt`. */
class PartsDisk extends GatedDisk {
  holdAt = -1;
  failAt = -1;
  /** First sectors of the writes answered so far (done or failed). */
  readonly answered: number[] = [];
  #release: (() => void) | null = null;
  get holding(): boolean {
    return this.#release !== null;
  }
  release(): void {
    const r = this.#release;
    this.#release = null;
    r?.();
  }
  override async write(sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    if (sector === this.holdAt) await new Promise<void>((r) => (this.#release = r));
    try {
      if (sector === this.failAt) throw new Error('injected write error');
      await super.write(sector, bufs);
    } finally {
      this.answered.push(sector);
    }
  }
}

// An I/O larger than a request (11 pages without indirect descriptors) goes out as several; it
// settles only once every one of them is answered, and fails once if one fails.
test('an I/O cut into several requests settles once all of them are answered, and fails once with the part that failed', async (t) => {
  const disk = new PartsDisk(new RamDisk(MiB));
  const { f } = await connected(t, disk, undefined, { maxIndirectSegments: 0 });
  assert.equal(f.negotiated?.maxSegments, 11);
  const second = 11 * 8; // the second request's first sector
  // A read after an answered part has been answered itself: the frontend has seen the part's answer.
  const roundTrip = () => within(f.read(1024, new Uint8Array(4096)), 'a read behind it');
  const data = pattern(0, 128, 5);
  let settled = false;
  const write = f.write(0, data).finally(() => (settled = true));
  disk.holdAt = second;
  assert.ok(await waitFor(() => disk.holding && disk.answered.includes(0)), 'the first part answered, the second held');
  await roundTrip();
  assert.equal(settled, false, 'not settled while its second part is in flight');
  disk.release();
  await within(write, 'the write');
  const back = new Uint8Array(data.length);
  await f.read(0, back);
  assert.deepEqual(back, data);

  // The second part fails while the first is held: the I/O waits for the first, then fails with the second's error.
  settled = false;
  disk.holdAt = 0;
  disk.failAt = second;
  disk.answered.length = 0;
  const failing = f.write(0, pattern(0, 128, 6)).finally(() => (settled = true));
  assert.ok(await waitFor(() => disk.holding && disk.answered.includes(second)), 'the second part failed, the first held');
  await roundTrip();
  assert.equal(settled, false, 'not settled while its first part is in flight');
  disk.release();
  await assert.rejects(within(failing, 'the failing write'), IoError);
});

test('a read whose buffer the guest detached while it was in flight fails alone; the ring goes on', async (t) => {
  const gated = new GatedDisk(new RamDisk(MiB));
  const { f } = await connected(t, gated);
  await f.write(0, pattern(0, 8, 2));
  gated.shut();
  const buf = new Uint8Array(4096); // ordinary memory: answered through a bounce page, then copied
  const read = f.read(0, buf);
  while (gated.started < 2) await new Promise((r) => setTimeout(r, 1));
  structuredClone(buf.buffer, { transfer: [buf.buffer] });
  gated.open();
  await assert.rejects(within(read, 'the read'), IoError);
  const again = new Uint8Array(4096);
  await within(f.read(0, again), 'the next read');
  assert.deepEqual(again, pattern(0, 8, 2));
});

test('a read-only disk says so and refuses writes', async (t) => {
  const { f } = await connected(t, new RamDisk(MiB), 'vdev=xvda, access=ro, target=/test/a');
  assert.equal(f.info().readWrite, false);
  await assert.rejects(f.write(0, new Uint8Array(512)), ReadOnly);
  await f.read(0, new Uint8Array(512));
});

test("a domain's disks removal returns only once the backend has closed each disk, even when its watch began the close", async (t) => {
  // A disk whose close waits for the test, as a qcow2 leaf's close waits for its last flush.
  class SlowClose extends RamDisk {
    closing = false;
    #release: (() => void) | undefined;
    override close(): Promise<void> {
      this.closing = true;
      return new Promise<void>((r) => (this.#release = r));
    }
    release(): void {
      this.#release?.();
    }
  }
  const rig = new Rig();
  t.after(() => rig.close());
  const g = rig.guest();
  const disk = new SlowClose(MiB);
  await rig.attach(g, 'vdev=xvda, target=/test/a', disk);
  await within(rig.front(g), 'connect');
  // The toolstack removes the device's nodes; the backend service's watch starts the close.
  await removeDomainDevices(rig.xs0, g.domid, 'vbd');
  for (let i = 0; i < 10_000 && !disk.closing; i++) await new Promise((r) => setImmediate(r));
  assert.ok(disk.closing, "the watch closed the device's disk");
  let returned = false;
  const removal = removeDomainDisks(rig.h.hv, rig.xs0, g.domid).then(() => (returned = true));
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  assert.equal(returned, false, 'returned while the disk was still closing');
  disk.release();
  await within(removal, 'removal after the close');
  assert.equal((await rig.daemon()).device(g.domid, 51712), undefined);
});
