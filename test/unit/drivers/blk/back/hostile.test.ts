// A hostile frontend against blkback (DESIGN.md §5, §9; the "Bad input"): every bad
// request is answered BLKIF_RSP_ERROR (or EOPNOTSUPP for an unknown operation, as Linux
// does), a ring index from nowhere halts the ring and closes the device, and through it all
// dom0, the backend and other guests keep working and no other domain's data is touched.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  BLKIF_OP_DISCARD, BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR,
  BLKIF_RSP_OKAY, BLKIF_SLOT_SIZE, decodeBlkifResponse, encodeBlkifRequest, encodeBlkifSegment, type BlkifRequest, type BlkifSegment,
} from '../../../../../src/abi/blkif.js';
import { BackRing, SRING_RING } from '../../../../../src/abi/ring.js';
import { PAGE_SIZE } from '../../../../../src/abi/xen.js';
import { XenbusState } from '../../../../../src/abi/xenbus.js';
import { SERVICE_REQUESTS } from '../../../../../src/drivers/blk/back/queue.js';
import type { Disk } from '../../../../../src/storage/disk.js';
import { RamDisk } from '../../../../../src/storage/ram.js';
import type { FlipJob } from '../../../../support/blk-flipper.js';
import { RawFront, rw } from '../../../../support/blk-rawfront.js';
import { GatedDisk, RecordingDisk, Rig, pattern, within } from '../../../../support/blk.js';
import { waitFor } from '../../../../support/wait.js';

const MiB = 1 << 20;
const SECTORS = MiB / 512;

async function setup(t: import('node:test').TestContext, opts: { persistent: boolean; maxPersistentGrants?: number }) {
  const rig = new Rig(opts.maxPersistentGrants === undefined ? {} : { maxPersistentGrants: opts.maxPersistentGrants });
  t.after(() => rig.close());
  const evil = rig.guest();
  const good = rig.guest();
  const goodDisk = new RamDisk(MiB);
  await rig.attach(evil, 'vdev=xvda, target=/test/evil', new RamDisk(MiB));
  await rig.attach(good, 'vdev=xvda, target=/test/good', goodDisk);
  const raw = await RawFront.connect(rig, evil, opts.persistent);
  const front = await within(rig.front(good), 'the good guest connects');
  await front.write(0, pattern(0, 64, 5));
  /** The good guest still works and its data is as it wrote it. */
  const goodStillWorks = async () => {
    const b = new Uint8Array(64 * 512);
    await within(front.read(0, b), 'the good guest reads');
    assert.deepEqual(b, pattern(0, 64, 5));
    const direct = new Uint8Array(64 * 512);
    goodDisk.read(0, [direct]);
    assert.deepEqual(direct, pattern(0, 64, 5));
  };
  return { rig, evil, good, raw, front, goodStillWorks };
}

for (const persistent of [false, true]) {
  test(`bad requests get BLKIF_RSP_ERROR and the ring goes on (persistent grants ${persistent ? 'on' : 'off'})`, async (t) => {
    const { rig, raw, good, goodStillWorks } = await setup(t, { persistent });
    const data = raw.page(false, 0xaa);
    const ro = raw.page(true, 0xbb);
    // A ref the good guest granted to dom0: valid in its table, never granted by this guest.
    const [gpfn] = good.hc.populatePhysmap(1) as [number];
    good.hc.memory.frame(gpfn).fill(0x77);
    const othersRef = good.hc.grantAccess(0, gpfn, false);
    const seg = (gref: number, firstSect = 0, lastSect = 7): BlkifSegment => ({ gref, firstSect, lastSect });
    const indirectPage = raw.page(false);
    const cases: [string, BlkifRequest, number][] = [
      ['a good read', rw(BLKIF_OP_READ, 0, [seg(data.ref)]), BLKIF_RSP_OKAY],
      ['a ref never granted', rw(BLKIF_OP_READ, 0, [seg(4000)]), BLKIF_RSP_ERROR],
      ["another domain's ref", rw(BLKIF_OP_WRITE, 0, [seg(othersRef)]), BLKIF_RSP_ERROR],
      ['a read into a read-only grant', rw(BLKIF_OP_READ, 0, [seg(ro.ref)]), BLKIF_RSP_ERROR],
      ['sectors past the end', rw(BLKIF_OP_READ, SECTORS - 4, [seg(data.ref)]), BLKIF_RSP_ERROR],
      ['a sector number beyond 2^53', rw(BLKIF_OP_READ, Number.MAX_SAFE_INTEGER, [seg(data.ref)]), BLKIF_RSP_ERROR],
      ['zero segments', rw(BLKIF_OP_READ, 0, [], 0), BLKIF_RSP_ERROR],
      ['12 direct segments', rw(BLKIF_OP_READ, 0, Array.from({ length: 11 }, () => seg(data.ref)), 12), BLKIF_RSP_ERROR],
      ['255 direct segments', rw(BLKIF_OP_WRITE, 0, [seg(data.ref)], 255), BLKIF_RSP_ERROR],
      ['last_sect past the page', rw(BLKIF_OP_READ, 0, [seg(data.ref, 0, 8)]), BLKIF_RSP_ERROR],
      ['first_sect after last_sect', rw(BLKIF_OP_READ, 0, [seg(data.ref, 5, 2)]), BLKIF_RSP_ERROR],
      ['an unknown operation', rw(200, 0, [seg(data.ref)]), BLKIF_RSP_EOPNOTSUPP],
      ['the reserved operation', rw(4, 0, [seg(data.ref)]), BLKIF_RSP_EOPNOTSUPP],
      ['a discard past the end', { kind: 'discard', operation: BLKIF_OP_DISCARD, flag: 0, handle: 0, id: 1n, sectorNumber: 8, nrSectors: SECTORS }, BLKIF_RSP_ERROR],
      ['an indirect request of 0 segments', { kind: 'indirect', operation: BLKIF_OP_INDIRECT, indirectOp: BLKIF_OP_READ, nrSegments: 0, id: 1n, sectorNumber: 0, handle: 0, indirectGrefs: [indirectPage.ref] }, BLKIF_RSP_ERROR],
      ['an indirect request of 257 segments', { kind: 'indirect', operation: BLKIF_OP_INDIRECT, indirectOp: BLKIF_OP_READ, nrSegments: 257, id: 1n, sectorNumber: 0, handle: 0, indirectGrefs: [indirectPage.ref] }, BLKIF_RSP_ERROR],
      ['an indirect flush', { kind: 'indirect', operation: BLKIF_OP_INDIRECT, indirectOp: 3, nrSegments: 1, id: 1n, sectorNumber: 0, handle: 0, indirectGrefs: [indirectPage.ref] }, BLKIF_RSP_ERROR],
      ['an indirect page that was never granted', { kind: 'indirect', operation: BLKIF_OP_INDIRECT, indirectOp: BLKIF_OP_READ, nrSegments: 2, id: 1n, sectorNumber: 0, handle: 0, indirectGrefs: [4001] }, BLKIF_RSP_ERROR],
    ];
    // An indirect page whose segments are bad.
    encodeBlkifSegment(new DataView(indirectPage.page.buffer, indirectPage.page.byteOffset, PAGE_SIZE), 0, seg(data.ref, 3, 9));
    cases.push(['an indirect segment past its page', { kind: 'indirect', operation: BLKIF_OP_INDIRECT, indirectOp: BLKIF_OP_READ, nrSegments: 1, id: 1n, sectorNumber: 0, handle: 0, indirectGrefs: [indirectPage.ref] }, BLKIF_RSP_ERROR]);
    for (const [what, req, status] of cases) {
      raw.send(req);
      const [rsp] = await raw.take(1);
      assert.equal(rsp!.status, status, what);
      assert.equal(rsp!.operation, req.operation, what);
    }
    assert.ok(good.hc.memory.frame(gpfn).every((b) => b === 0x77), "the other domain's page is untouched");
    // Still serving this guest, and everyone else.
    raw.send(rw(BLKIF_OP_READ, 0, [seg(data.ref)]));
    assert.equal((await raw.take(1))[0]!.status, BLKIF_RSP_OKAY);
    await goodStillWorks();
    assert.equal(rig.h.hv.dom0.shutdownReason, null);
  });
}

test('a read-only disk refuses a write the frontend sends anyway', async (t) => {
  const rig = new Rig();
  t.after(() => rig.close());
  const g = rig.guest();
  await rig.attach(g, 'vdev=xvda, access=ro, target=/test/ro', new RamDisk(MiB));
  const raw = await RawFront.connect(rig, g, false);
  const p = raw.page(true);
  raw.send(rw(BLKIF_OP_WRITE, 0, [{ gref: p.ref, firstSect: 0, lastSect: 7 }]));
  assert.equal((await raw.take(1))[0]!.status, BLKIF_RSP_ERROR);
});

test('req_prod far beyond the ring: the ring halts and the device closes; others keep working', async (t) => {
  const { rig, raw, evil, goodStillWorks } = await setup(t, { persistent: true });
  const be = `/local/domain/0/backend/vbd/${evil.domid}/51712`;
  raw.ring.reqProdPvt = raw.ring.rspProd + 1000;
  raw.ring.pushRequests();
  raw.port.notify();
  await within(rig.xs0.wait(`${be}/state`, (v) => v === String(XenbusState.Closing)), 'the backend closes the device');
  assert.match(await rig.xs0.read(`${be}/error`), /broke the ring protocol: req_prod/);
  assert.equal(evil.domain.view.foreignPins, 0, 'the backend let go of the ring');
  await goodStillWorks();
});

test('more persistent grants than the limit: the oldest are unmapped, every request is served', async (t) => {
  const { rig, raw, evil, goodStillWorks } = await setup(t, { persistent: true, maxPersistentGrants: 4 });
  const pages = Array.from({ length: 20 }, () => raw.page(false));
  for (let round = 0; round < 3; round++) {
    for (const p of pages) raw.send(rw(BLKIF_OP_READ, 0, [{ gref: p.ref, firstSect: 0, lastSect: 7 }]));
    for (const r of await raw.take(pages.length)) assert.equal(r.status, BLKIF_RSP_OKAY);
  }
  const be = (await rig.daemon()).device(evil.domid, 51712)!;
  assert.ok(be.persistentGrants[0]! <= 4, `pool holds ${be.persistentGrants[0]}`);
  assert.ok(evil.domain.view.foreignPins <= 5, 'only the pool and the ring are mapped');
  await goodStillWorks();
});

test('a frontend rewriting its ring slots while the backend reads them hurts only itself', async (t) => {
  const { rig, raw, evil, good, goodStillWorks } = await setup(t, { persistent: false });
  const data = raw.page(false);
  const [gpfn] = good.hc.populatePhysmap(1) as [number];
  good.hc.memory.frame(gpfn).fill(0x55);
  const othersRef = good.hc.grantAccess(0, gpfn, false);
  const base = raw.ringPfn * PAGE_SIZE + SRING_RING;
  const words: { offset: number; values: number[] }[] = [];
  for (let slot = 0; slot < raw.ring.nrEnts; slot++) {
    const o = base + slot * BLKIF_SLOT_SIZE;
    words.push({ offset: o, values: [0x0100, 0x0101, 0x0c01, 0x0006, 0x01000106, 0xff05, 0x0103] });
    words.push({ offset: o + 16, values: [0, 8, 0xfffffff8] });
    words.push({ offset: o + 20, values: [0, 0, 0x7fffffff] });
    words.push({ offset: o + 24, values: [data.ref, othersRef, 0, -1, data.ref] });
    words.push({ offset: o + 28, values: [0x0700, 0x0007, 0xffff, 0x0100] });
  }
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(new URL('../../../../support/blk-flipper.js', import.meta.url), {
    workerData: { memory: evil.domain.view.buffers.memory, words, stop } satisfies FlipJob,
  });
  await once(worker, 'message');
  const N = 2000;
  for (let i = 0; i < N; i++) {
    raw.send(rw(BLKIF_OP_READ, 0, [{ gref: data.ref, firstSect: 0, lastSect: 7 }]));
    if (i % 16 === 15) await raw.take(16);
  }
  Atomics.store(new Int32Array(stop), 0, 1);
  const [flips] = await once(worker, 'message');
  assert.ok((flips as number) > 0);
  const be = (await rig.daemon()).device(evil.domid, 51712)!;
  assert.equal(be.stats.requests, N, 'every request was answered');
  assert.ok(good.hc.memory.frame(gpfn).every((b) => b === 0x55), "the other domain's page is untouched");
  assert.equal(evil.domain.view.foreignPins, 1, 'no mapping leaked (only the ring is mapped)');
  await goodStillWorks();
});

// hunt24: responses go out as blkback works, so a frontend on another core that moves req_prod
// on each time rsp_prod moves kept one service() call, and dom0's thread, for ever (1,280,064
// requests in one call in the hunt's model). Here the frontend's part runs right after blkback
// publishes, as that core would see it: it takes the answers and refills the freed slots,
// publishing req_prod without an event. Each turn of dom0's event loop may take one call's
// budget at most, and the rest must still be answered, each request once. With a disk that
// answers in microtasks (a thin image's unallocated sectors), a completion must not start
// service() again in the same turn either.
for (const [kind, wrap] of [['answers at once', (d: Disk) => d], ['answers in microtasks', (d: Disk) => new GatedDisk(d)]] as const) {
  test(`a frontend refilling its ring each time blkback publishes gets one service() budget per turn; every request is answered once (a disk that ${kind})`, async (t) => {
    const rig = new Rig();
    t.after(() => rig.close());
    const evil = rig.guest();
    const disk = new RecordingDisk(wrap(new RamDisk(MiB)));
    await rig.attach(evil, 'vdev=xvda, target=/test/evil', disk);
    const raw = await RawFront.connect(rig, evil, true);
    const data = raw.page(false);
    const r = raw.ring;
    const TOTAL = 2000;
    let sent = 0;
    const answers: { id: number; status: number }[] = [];
    const slot = new Uint8Array(BLKIF_SLOT_SIZE);
    const frontend = (): void => {
      while (r.rspCons !== r.rspProd) {
        r.copyResponse(r.rspCons, slot);
        r.rspCons = r.rspCons + 1;
        const rsp = decodeBlkifResponse(new DataView(slot.buffer), 0);
        answers.push({ id: Number(rsp.id), status: rsp.status });
      }
      while (sent < TOTAL && r.reqProdPvt - r.rspCons < r.nrEnts) {
        const req = { ...rw(BLKIF_OP_READ, 0, [{ gref: data.ref, firstSect: 0, lastSect: 7 }]), id: BigInt(sent++) };
        encodeBlkifRequest(r.view, r.slotOffset(r.reqProdPvt), req);
        r.reqProdPvt = r.reqProdPvt + 1;
      }
      r.pushRequests();
    };
    const memory = evil.domain.view.buffers.memory;
    const push = BackRing.prototype.pushResponsesAndCheckNotify;
    BackRing.prototype.pushResponsesAndCheckNotify = function (this: BackRing): boolean {
      const notify = push.call(this);
      if (this.view.buffer === memory) frontend();
      return notify;
    };
    t.after(() => (BackRing.prototype.pushResponsesAndCheckNotify = push));
    // The disk's reads in each turn of the event loop.
    let most = 0;
    let seen = 0;
    let ticking = true;
    const tick = (): void => {
      most = Math.max(most, disk.calls.length - seen);
      seen = disk.calls.length;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    t.after(() => (ticking = false));
    frontend();
    raw.port.notify();
    assert.ok(await waitFor(() => answers.length === TOTAL, 20_000), `${answers.length} of ${TOTAL} answered`);
    ticking = false;
    tick();
    assert.ok(most <= SERVICE_REQUESTS, `${most} requests taken in one turn`);
    assert.deepEqual(answers.map((a) => a.id).sort((a, b) => a - b), [...Array(TOTAL).keys()], 'each request answered once');
    assert.ok(answers.every((a) => a.status === BLKIF_RSP_OKAY));
    assert.equal(disk.calls.length, TOTAL, 'each request read once');
  });
}
