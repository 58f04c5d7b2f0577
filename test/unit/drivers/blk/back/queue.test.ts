// blkback's runs: segments on adjacent frames of the frontend become one buffer for the disk,
// but only where the bytes really are adjacent. A segment that stops short of its page's end,
// or starts past its page's start, breaks the run; so does a frame out of order. Requests are
// put on the ring by hand (test/support/blk-rawfront.ts), with sector ranges no blkfront of ours would send.
// Also here: a barrier that waits for earlier requests still writes its own segments (blkback
// keeps a copy of its slot, from which #rw reads them once the barrier runs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_OKAY, encodeBlkifSegment, type BlkifRequest, type BlkifSegment,
} from '../../../../../src/abi/blkif.js';
import { PAGE_SIZE } from '../../../../../src/abi/xen.js';
import { ioPages } from '../../../../../src/guest/iopages.js';
import { RamDisk } from '../../../../../src/storage/ram.js';
import { RawFront, rw } from '../../../../support/blk-rawfront.js';
import { GatedDisk, RecordingDisk, Rig, pattern } from '../../../../support/blk.js';

const MiB = 1 << 20;
const SECTORS = MiB / 512;
const FRAMES = 16;

/** A segment on frame `frame` (of the test's run of adjacent frames), sectors first..last. */
interface Seg {
  readonly frame: number;
  readonly first: number;
  readonly last: number;
}

// Eleven segments (a full direct request): which ones may join the one before.
const LAYOUT: readonly Seg[] = [
  { frame: 0, first: 2, last: 7 }, // starts mid-page: a run may start there
  { frame: 1, first: 0, last: 7 }, // joins
  { frame: 2, first: 0, last: 3 }, // joins, and stops mid-page
  { frame: 3, first: 0, last: 7 }, // must not join: sectors 4..7 of frame 2 lie between
  { frame: 4, first: 1, last: 7 }, // must not join: sector 0 of frame 4 lies between
  { frame: 5, first: 0, last: 5 }, // joins
  { frame: 7, first: 0, last: 7 }, // must not join: frame 6 is skipped
  { frame: 6, first: 0, last: 7 }, // must not join: before the previous one
  { frame: 8, first: 0, last: 3 }, // must not join: frame 7 came last
  { frame: 8, first: 4, last: 7 }, // joins: the rest of the same frame
  { frame: 9, first: 0, last: 7 }, // joins
];
/** The runs LAYOUT makes, in sectors. */
const LAYOUT_RUNS = [6 + 8 + 4, 8, 7 + 6, 8, 8, 4 + 4 + 8];

/** For the indirect request: two more, one joining the last run and one apart. */
const LAYOUT_INDIRECT: readonly Seg[] = [...LAYOUT, { frame: 10, first: 0, last: 7 }, { frame: 12, first: 3, last: 7 }];
const LAYOUT_INDIRECT_RUNS = [...LAYOUT_RUNS.slice(0, -1), 16 + 8, 5];

const sectorsOf = (segs: readonly Seg[]) => segs.reduce((n, s) => n + s.last - s.first + 1, 0);

async function setup(t: import('node:test').TestContext, persistent: boolean, maxPersistentGrants?: number) {
  const rig = new Rig(maxPersistentGrants === undefined ? {} : { maxPersistentGrants });
  t.after(() => rig.close());
  const g = rig.guest();
  const ram = new RamDisk(MiB);
  ram.write(0, [pattern(0, SECTORS, 0x5a)]);
  const disk = new RecordingDisk(ram);
  await rig.attach(g, 'vdev=xvda, target=/test/a', disk);
  const raw = await RawFront.connect(rig, g, persistent);
  // A run of adjacent frames, each granted to dom0 read-write.
  const frames = ioPages(g.hc).alloc(FRAMES * PAGE_SIZE);
  const pfn0 = frames.byteOffset / PAGE_SIZE;
  const refs = Array.from({ length: FRAMES }, (_, i) => g.hc.grantAccess(0, pfn0 + i, false));
  const indirectPage = raw.page(false);
  const be = (await rig.daemon()).device(g.domid, 51712)!;

  /** Send one read or write over `segs` (through an indirect page if `indirect`); its status. */
  const send = async (op: number, sector: number, segs: readonly Seg[], indirect: boolean): Promise<number> => {
    const seg: BlkifSegment[] = segs.map((s) => ({ gref: refs[s.frame]!, firstSect: s.first, lastSect: s.last }));
    let req: BlkifRequest;
    if (!indirect) {
      req = rw(op, sector, seg);
    } else {
      const view = new DataView(indirectPage.page.buffer, indirectPage.page.byteOffset, PAGE_SIZE);
      seg.forEach((s, i) => encodeBlkifSegment(view, i * 8, s));
      req = { kind: 'indirect', operation: BLKIF_OP_INDIRECT, indirectOp: op, nrSegments: seg.length, id: 1n, sectorNumber: sector, handle: 0, indirectGrefs: [indirectPage.ref] };
    }
    const calls = disk.calls.length;
    raw.send(req);
    const [rsp] = await raw.take(1);
    assert.equal(disk.calls.length, calls + 1, 'one disk call per request');
    return rsp!.status;
  };

  /** The disk got the runs `runs` (in sectors), each where the first of its segments lies. */
  const sawRuns = (segs: readonly Seg[], runs: readonly number[]) => {
    const call = disk.calls.at(-1)!;
    assert.deepEqual(call.runs.map((r) => r.byteLength / 512), runs, 'runs, in sectors');
    let i = 0;
    for (const [k, r] of call.runs.entries()) {
      const s = segs[i]!;
      assert.equal(r.buffer, g.hc.memory.buffers.memory);
      assert.equal(r.byteOffset, frames.byteOffset + s.frame * PAGE_SIZE + s.first * 512, `run ${k} starts at segment ${i}`);
      let n = r.byteLength / 512;
      while (n > 0) n -= segs[i]!.last - segs[i++]!.first + 1;
    }
  };

  return { rig, g, ram, raw, be, frames, send, sawRuns };
}

for (const persistent of [false, true]) {
  for (const indirect of [false, true]) {
    const what = `${indirect ? 'an indirect' : 'a direct'} request, persistent grants ${persistent ? 'on' : 'off'}`;
    const segs = indirect ? LAYOUT_INDIRECT : LAYOUT;
    const runs = indirect ? LAYOUT_INDIRECT_RUNS : LAYOUT_RUNS;
    const n = sectorsOf(segs);

    test(`segments on adjacent frames are read as one run, and only the sectors they name are filled (${what})`, async (t) => {
      const { frames, send, sawRuns } = await setup(t, persistent);
      frames.fill(0xee);
      assert.equal(await send(BLKIF_OP_READ, 100, segs, indirect), BLKIF_RSP_OKAY);
      sawRuns(segs, runs);
      // Where each sector of the disk should have landed; everything else keeps its 0xee.
      const expect = new Uint8Array(FRAMES * PAGE_SIZE).fill(0xee);
      const data = pattern(100, n, 0x5a);
      let at = 0;
      for (const s of segs) {
        const bytes = (s.last - s.first + 1) * 512;
        expect.set(data.subarray(at, at + bytes), s.frame * PAGE_SIZE + s.first * 512);
        at += bytes;
      }
      for (let f = 0; f < FRAMES; f++) {
        assert.deepEqual(frames.subarray(f * PAGE_SIZE, (f + 1) * PAGE_SIZE), expect.subarray(f * PAGE_SIZE, (f + 1) * PAGE_SIZE), `frame ${f}`);
      }
    });

    test(`segments on adjacent frames are written as one run, taking only the sectors they name (${what})`, async (t) => {
      const { ram, frames, send, sawRuns } = await setup(t, persistent);
      // Every sector of every frame is different (it says which frame and sector it is).
      frames.set(pattern(0, FRAMES * 8, 0x77));
      assert.equal(await send(BLKIF_OP_WRITE, 500, segs, indirect), BLKIF_RSP_OKAY);
      sawRuns(segs, runs);
      const expect: Uint8Array[] = segs.map((s) => frames.slice(s.frame * PAGE_SIZE + s.first * 512, s.frame * PAGE_SIZE + (s.last + 1) * 512));
      const onDisk = new Uint8Array((n + 2) * 512);
      ram.read(499, [onDisk]);
      assert.deepEqual(onDisk.subarray(0, 512), pattern(499, 1, 0x5a), 'the sector before is untouched');
      assert.deepEqual(onDisk.subarray(512, (n + 1) * 512), new Uint8Array(Buffer.concat(expect)));
      assert.deepEqual(onDisk.subarray((n + 1) * 512), pattern(500 + n, 1, 0x5a), 'the sector after is untouched');
    });
  }
}

test('a pool full of grants in use: the rest of the request is mapped for it alone, runs still join, and the data is right', async (t) => {
  const { g, be, frames, send, sawRuns } = await setup(t, true, 4);
  frames.fill(0xee);
  assert.equal(await send(BLKIF_OP_READ, 100, LAYOUT, false), BLKIF_RSP_OKAY);
  // Frames 0..3 fill the pool and stay in use until the request ends: the other seven
  // segments cannot evict them, and are mapped for this request only.
  assert.equal(be.stats.transientMaps, 7);
  assert.equal(be.persistentGrants[0], 4);
  assert.equal(g.domain.view.foreignPins, 1 + 4, 'the ring and the pool: every transient mapping was undone');
  sawRuns(LAYOUT, LAYOUT_RUNS);
  let at = 0;
  const data = pattern(100, sectorsOf(LAYOUT), 0x5a);
  for (const s of LAYOUT) {
    const bytes = (s.last - s.first + 1) * 512;
    const where = s.frame * PAGE_SIZE + s.first * 512;
    assert.deepEqual(frames.subarray(where, where + bytes), data.subarray(at, at + bytes), `frame ${s.frame} sectors ${s.first}..${s.last}`);
    at += bytes;
  }
  assert.ok(frames.subarray(11 * PAGE_SIZE).every((x) => x === 0xee), 'frames no segment named are untouched');
});

test('a barrier with data waits for the write before it, writes its own segments, and holds back the read after it', async (t) => {
  const rig = new Rig();
  const ram = new RamDisk(MiB);
  const gated = new GatedDisk(ram);
  t.after(() => (gated.open(), rig.close()));
  const g = rig.guest();
  await rig.attach(g, 'vdev=xvda, target=/test/a', gated);
  const raw = await RawFront.connect(rig, g, false);
  const frames = ioPages(g.hc).alloc(4 * PAGE_SIZE);
  const pfn0 = frames.byteOffset / PAGE_SIZE;
  const refs = [0, 1, 2, 3].map((i) => g.hc.grantAccess(0, pfn0 + i, false));
  frames.set(pattern(1000, 24, 3));
  const seg = (i: number, firstSect = 0, lastSect = 7): BlkifSegment => ({ gref: refs[i]!, firstSect, lastSect });
  gated.shut();
  // All three on the ring before blkback looks: it starts the write, then finds the barrier
  // with the write in flight, in the same pass.
  raw.send({ ...rw(BLKIF_OP_WRITE, 20, [seg(0)]), id: 1n });
  // Sectors 2..7 of frame 1 and all of frame 2, at sector 24: over the end of the first write.
  raw.send({ ...rw(BLKIF_OP_WRITE_BARRIER, 24, [seg(1, 2, 7), seg(2)]), id: 2n });
  raw.send({ ...rw(BLKIF_OP_READ, 20, [seg(3)]), id: 3n });
  while (gated.started === 0) await new Promise((r) => setTimeout(r, 1));
  assert.equal(gated.started, 1, 'the barrier waits for the write, and the read for the barrier');
  gated.open();
  const rsps = await raw.take(3);
  assert.deepEqual(rsps.map((r) => [r.id, r.operation, r.status]), [
    [1n, BLKIF_OP_WRITE, BLKIF_RSP_OKAY], [2n, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_OKAY], [3n, BLKIF_OP_READ, BLKIF_RSP_OKAY],
  ]);
  const expect = new Uint8Array([...frames.subarray(0, 4 * 512), ...frames.subarray(PAGE_SIZE + 2 * 512, 3 * PAGE_SIZE)]);
  const onDisk = new Uint8Array(18 * 512);
  ram.read(20, [onDisk]);
  assert.deepEqual(onDisk, expect, 'the first write, then the barrier over its end');
  assert.deepEqual(frames.subarray(3 * PAGE_SIZE), expect.subarray(0, PAGE_SIZE), 'the read saw the barrier\'s data');
});

test('swapDisk: a write in flight finishes on the old disk, the next request goes to the new one at once, drained says when the old is done', async (t) => {
  const rig = new Rig();
  const [a, b] = [new RamDisk(MiB), new RamDisk(MiB)];
  const gated = new GatedDisk(a);
  t.after(() => (gated.open(), rig.close()));
  const g = rig.guest();
  await rig.attach(g, 'vdev=xvda, target=/test/a', gated);
  const raw = await RawFront.connect(rig, g, false);
  const frames = ioPages(g.hc).alloc(2 * PAGE_SIZE);
  const pfn0 = frames.byteOffset / PAGE_SIZE;
  const refs = [0, 1].map((i) => g.hc.grantAccess(0, pfn0 + i, false));
  frames.set(pattern(0, 16, 7));
  const be = (await rig.daemon()).device(g.domid, 51712)!;
  gated.shut();
  raw.send({ ...rw(BLKIF_OP_WRITE, 8, [{ gref: refs[0]!, firstSect: 0, lastSect: 7 }]), id: 1n });
  while (gated.started === 0) await new Promise((r) => setTimeout(r, 1));
  const { drained } = await be.swapDisk(b, gated);
  let done = false;
  void drained.then(() => (done = true));
  assert.equal(be.disk, b);
  // The old disk is stuck: a request after the swap is served by the new one regardless.
  raw.send({ ...rw(BLKIF_OP_WRITE, 16, [{ gref: refs[1]!, firstSect: 0, lastSect: 7 }]), id: 2n });
  const [second] = await raw.take(1);
  assert.deepEqual([second!.id, second!.status], [2n, BLKIF_RSP_OKAY]);
  const onB = new Uint8Array(8 * 512);
  b.read(16, [onB]);
  assert.deepEqual(onB, frames.subarray(PAGE_SIZE), 'the second write is on the new disk');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(done, false, 'drained waits for the write still in flight on the old disk');
  gated.open();
  const [first] = await raw.take(1);
  assert.deepEqual([first!.id, first!.status], [1n, BLKIF_RSP_OKAY]);
  await drained;
  const onA = new Uint8Array(8 * 512);
  a.read(8, [onA]);
  assert.deepEqual(onA, frames.subarray(0, PAGE_SIZE), 'the first write landed on the old disk');
  await assert.rejects(be.swapDisk(a, gated), /changed meanwhile/, 'a swap from a disk no longer served is refused');
});
