// I/O pages (os.io) and blkfront's zero-copy path: buffers allocated in the guest's RAM are
// granted frame by frame instead of bounced, persistently or per request, and come back with
// the right bytes whatever the shape of the request (several pages, a list ending mid-page,
// indirect, split over several ring requests); anything else falls back to bounce pages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRANT_ENTRIES_PER_FRAME, GTF_permit_access, GTF_readonly } from '../../../../../src/abi/grant_table.js';
import { PAGE_SIZE } from '../../../../../src/abi/xen.js';
import { ioPages } from '../../../../../src/guest/iopages.js';
import { firstRamPfn } from '../../../../../src/hypervisor/layout.js';
import { RamDisk } from '../../../../../src/storage/ram.js';
import { grantEntryAddr, xen } from '../../../../support/hypervisor.js';
import { GatedDisk, RecordingDisk, Rig, pattern, within } from '../../../../support/blk.js';
const MiB = 1 << 20;
/** The guest's valid grant entries (GTF_permit_access) that name a frame under `buf`, with their flags. */
function grantsOn(g, buf) {
    const mem32 = g.domain.view.mem32;
    const first = Math.floor(buf.byteOffset / PAGE_SIZE);
    const last = Math.ceil((buf.byteOffset + buf.byteLength) / PAGE_SIZE) - 1;
    const entries = g.hc.grantQuerySize().nrFrames * GRANT_ENTRIES_PER_FRAME;
    const flags = [];
    for (let ref = 0; ref < entries; ref++) {
        const w = grantEntryAddr(ref) >> 2;
        const f = Atomics.load(mem32, w) & 0xffff;
        const frame = Atomics.load(mem32, w + 1);
        if (f & GTF_permit_access && frame >= first && frame <= last)
            flags.push(f);
    }
    return flags;
}
/** The disk was handed the guest's own memory at `buf` (no bounce page), as one run of `bytes`. */
function sawBuffer(g, call, buf, bytes = buf.byteLength) {
    assert.ok(call, 'the disk was called');
    assert.equal(call.runs.length, 1, `one run (got ${call.runs.map((r) => r.byteLength).join(', ')})`);
    assert.equal(call.runs[0].buffer, g.hc.memory.buffers.memory, "the run is in the guest's RAM");
    assert.equal(call.runs[0].byteOffset, buf.byteOffset, "the run is the guest's buffer, not a bounce page");
    assert.equal(call.runs[0].byteLength, bytes);
}
/** No buffer the disk was handed lies under `buf`: the data went through bounce pages. */
function bounced(call, buf) {
    assert.ok(call, 'the disk was called');
    for (const r of call.runs) {
        const overlaps = r.byteOffset < buf.byteOffset + buf.byteLength && buf.byteOffset < r.byteOffset + r.byteLength;
        assert.ok(!overlaps, `run at ${r.byteOffset}+${r.byteLength} lies under the buffer at ${buf.byteOffset}`);
    }
}
async function setup(t, persistent) {
    const rig = new Rig();
    t.after(() => rig.close());
    const g = rig.guest(2048);
    const disk = new RecordingDisk(new RamDisk(8 * MiB));
    await rig.attach(g, 'vdev=xvda, target=/test/a', disk);
    const f = await within(rig.front(g, 51712, { persistent }), 'connect');
    assert.equal(f.negotiated?.persistent, persistent);
    const be = (await rig.daemon()).device(g.domid, 51712);
    return { rig, g, disk, f, be, io: ioPages(g.hc) };
}
const lastCall = (disk, op) => disk.calls.filter((c) => c.op === op).at(-1);
for (const persistent of [true, false]) {
    const mode = `persistent grants ${persistent ? 'on' : 'off'}`;
    test(`zero copy: I/O-page buffers are granted as they are and read back right (${mode})`, async (t) => {
        const { g, disk, f, be, io } = await setup(t, persistent);
        const refsAfterConnect = g.hc.freeGrantRefs;
        // One page, then 16 pages: each reaches the disk as the guest's own memory, in one run.
        for (const pages of [1, 16]) {
            const sectors = pages * 8;
            const src = io.alloc(pages * PAGE_SIZE);
            src.set(pattern(100, sectors, pages));
            await within(f.write(100, src), `write ${pages} pages`);
            sawBuffer(g, lastCall(disk, 'write'), src);
            const onDisk = new Uint8Array(sectors * 512);
            disk.inner.read(100, [onDisk]);
            assert.deepEqual(onDisk, pattern(100, sectors, pages), `${pages} pages reached the disk`);
            const dst = io.alloc(pages * PAGE_SIZE);
            await within(f.read(100, dst), `read ${pages} pages into I/O pages`);
            sawBuffer(g, lastCall(disk, 'read'), dst);
            assert.deepEqual(dst, pattern(100, sectors, pages));
            const plain = new Uint8Array(sectors * 512);
            await f.read(100, plain);
            assert.deepEqual(plain, pattern(100, sectors, pages));
        }
        // A list whose last buffer ends mid-page (3 sectors of its page): the rest of that page is
        // not the backend's to touch, on a write or a read.
        const a = io.alloc(2 * PAGE_SIZE);
        const tailPage = io.alloc(PAGE_SIZE);
        const b = tailPage.subarray(0, 3 * 512);
        const data = pattern(300, 19, 7);
        a.set(data.subarray(0, 2 * PAGE_SIZE));
        b.set(data.subarray(2 * PAGE_SIZE));
        tailPage.fill(0xee, b.byteLength);
        await within(f.write(300, [a, b]), 'write a list ending mid-page');
        const w = lastCall(disk, 'write');
        assert.equal(w.runs[0].byteOffset, a.byteOffset, 'zero copy');
        assert.equal(w.runs.reduce((n, r) => n + r.byteLength, 0), 19 * 512, 'exactly 19 sectors written');
        const onDisk = new Uint8Array(20 * 512);
        disk.inner.read(300, [onDisk]);
        assert.deepEqual(onDisk.subarray(0, 19 * 512), data);
        assert.ok(onDisk.subarray(19 * 512).every((x) => x === 0), 'nothing written past the 19 sectors');
        const a2 = io.alloc(2 * PAGE_SIZE);
        const tail2 = io.alloc(PAGE_SIZE).fill(0xee);
        await within(f.read(300, [a2, tail2.subarray(0, 3 * 512)]), 'read a list ending mid-page');
        assert.deepEqual(new Uint8Array([...a2, ...tail2.subarray(0, 3 * 512)]), data);
        assert.ok(tail2.subarray(3 * 512).every((x) => x === 0xee), 'the rest of the last page is untouched');
        const plain = new Uint8Array(19 * 512);
        await f.read(300, plain);
        assert.deepEqual(plain, data);
        // 40 pages: more than 11 segments, one indirect request.
        const big = io.alloc(40 * PAGE_SIZE);
        big.set(pattern(1000, 320, 40));
        let before = be.stats.requests;
        await within(f.write(1000, big), 'indirect write');
        assert.equal(be.stats.requests - before, 1, 'one indirect request');
        sawBuffer(g, lastCall(disk, 'write'), big);
        const big2 = io.alloc(40 * PAGE_SIZE);
        await within(f.read(1000, big2), 'indirect read');
        assert.deepEqual(big2, pattern(1000, 320, 40));
        // 300 pages: past the indirect maximum (256 segments), split over two ring requests.
        const huge = io.alloc(300 * PAGE_SIZE);
        huge.set(pattern(4000, 2400, 300));
        before = be.stats.requests;
        const callsBefore = disk.calls.length;
        await within(f.write(4000, huge), 'a write of 300 pages');
        assert.equal(be.stats.requests - before, 2, 'two ring requests');
        const parts = disk.calls.slice(callsBefore).sort((x, y) => x.sector - y.sector);
        assert.deepEqual(parts.map((c) => c.sector), [4000, 4000 + 256 * 8]);
        sawBuffer(g, parts[0], huge, 256 * PAGE_SIZE);
        sawBuffer(g, parts[1], huge.subarray(256 * PAGE_SIZE), 44 * PAGE_SIZE);
        const huge2 = io.alloc(300 * PAGE_SIZE);
        await within(f.read(4000, huge2), 'a read of 300 pages');
        assert.deepEqual(huge2, pattern(4000, 2400, 300));
        const plainHuge = new Uint8Array(300 * PAGE_SIZE);
        await f.read(4000, plainHuge);
        assert.deepEqual(plainHuge, huge);
        if (!persistent) {
            assert.equal(g.hc.freeGrantRefs, refsAfterConnect, 'every grant of every request was ended');
            for (const buf of [a, tailPage, big, big2, huge, huge2])
                assert.deepEqual(grantsOn(g, buf), []);
        }
    });
    test(`a buffer in guest RAM that is not page-aligned, or a list that is not whole pages, goes through bounce pages (${mode})`, async (t) => {
        const { g, disk, f, io } = await setup(t, persistent);
        const frame = io.alloc(3 * PAGE_SIZE).fill(0xee);
        const odd = frame.subarray(512, 512 + 2 * PAGE_SIZE);
        odd.set(pattern(40, 16, 1));
        await within(f.write(40, odd), 'write from an unaligned buffer');
        bounced(lastCall(disk, 'write'), frame);
        const back = new Uint8Array(16 * 512);
        await f.read(40, back);
        assert.deepEqual(back, pattern(40, 16, 1));
        const frame2 = io.alloc(3 * PAGE_SIZE).fill(0xee);
        await within(f.read(40, frame2.subarray(512, 512 + 2 * PAGE_SIZE)), 'read into an unaligned buffer');
        bounced(lastCall(disk, 'read'), frame2);
        assert.deepEqual(frame2.subarray(512, 512 + 2 * PAGE_SIZE), pattern(40, 16, 1));
        assert.ok(frame2.subarray(0, 512).every((x) => x === 0xee), 'the bytes before are untouched');
        assert.ok(frame2.subarray(512 + 2 * PAGE_SIZE).every((x) => x === 0xee), 'the bytes after are untouched');
        // Aligned, but the first buffer of the list stops mid-page: its page cannot be a segment.
        const short = io.alloc(PAGE_SIZE);
        const whole = io.alloc(PAGE_SIZE);
        await f.read(40, [short.subarray(0, 512), whole]);
        bounced(lastCall(disk, 'read'), short);
        bounced(lastCall(disk, 'read'), whole);
        assert.deepEqual(new Uint8Array([...short.subarray(0, 512), ...whole]), pattern(40, 9, 1));
        assert.ok(short.subarray(512).every((x) => x === 0));
        // An I/O page next to an ordinary array.
        const mixed = [io.alloc(PAGE_SIZE), new Uint8Array(PAGE_SIZE)];
        await f.read(40, mixed);
        bounced(lastCall(disk, 'read'), mixed[0]);
        assert.deepEqual(new Uint8Array([...mixed[0], ...mixed[1]]), pattern(40, 16, 1));
        for (const buf of [frame, frame2, short, whole, mixed[0]])
            assert.deepEqual(grantsOn(g, buf), [], 'no frame of the buffers was granted');
    });
}
test('empty I/O-page buffers in a list hold no data: the pages around them do', async (t) => {
    for (const persistent of [true, false]) {
        const { disk, f, io } = await setup(t, persistent);
        const a = io.alloc(PAGE_SIZE);
        const empty = io.alloc(PAGE_SIZE).fill(0xee);
        const b = io.alloc(2 * PAGE_SIZE);
        a.set(pattern(64, 8, 5));
        b.set(pattern(72, 16, 5));
        await within(f.write(64, [a, empty.subarray(0, 0), b, empty.subarray(PAGE_SIZE)]), 'write');
        const onDisk = new Uint8Array(24 * 512);
        disk.inner.read(64, [onDisk]);
        assert.deepEqual(onDisk, pattern(64, 24, 5), `persistent ${persistent}: the write took a then b`);
        a.fill(0);
        b.fill(0);
        await within(f.read(64, [empty.subarray(0, 0), a, empty.subarray(0, 0), b]), 'read');
        assert.deepEqual(new Uint8Array([...a, ...b]), pattern(64, 24, 5), `persistent ${persistent}: the read filled a then b`);
        assert.ok(empty.every((x) => x === 0xee), `persistent ${persistent}: the frame under the empty buffer is untouched`);
    }
});
test('persistent grants: an I/O-page buffer keeps its grants, and using it again grants nothing more', async (t) => {
    const { g, f, be, io } = await setup(t, true);
    const buf = io.alloc(8 * PAGE_SIZE);
    buf.set(pattern(0, 64, 3));
    await f.write(0, buf);
    assert.equal(f.persistentGrants, 8, 'one grant per frame');
    assert.equal(grantsOn(g, buf).length, 8);
    const mapped = be.persistentGrants[0];
    const maps = be.stats.transientMaps;
    for (let round = 0; round < 10; round++) {
        buf.fill(0);
        await Promise.all([f.read(0, buf.subarray(0, PAGE_SIZE)), f.read(8, buf.subarray(PAGE_SIZE, 5 * PAGE_SIZE)), f.read(56, buf.subarray(7 * PAGE_SIZE))]);
        const expect = pattern(0, 64, 3);
        expect.fill(0, 5 * PAGE_SIZE, 7 * PAGE_SIZE);
        assert.deepEqual(buf, expect, `round ${round}: each read landed in its frames`);
        await f.write(64 + round * 64, buf);
    }
    assert.equal(f.persistentGrants, 8, 'the same 8 grants, used again');
    const flags = grantsOn(g, buf);
    assert.equal(flags.length, 8, 'one grant per frame, still');
    assert.ok(flags.every((x) => (x & GTF_readonly) === 0), 'granted read-write, for reads and writes alike');
    assert.equal(be.persistentGrants[0], mapped, 'the backend mapped nothing new');
    assert.equal(be.stats.transientMaps, maps);
    const onDisk = new Uint8Array(64 * 512);
    await f.read(64 + 9 * 64, onDisk);
    assert.deepEqual(onDisk, buf, 'the last write reached the disk');
});
test('without persistent grants, an I/O-page buffer is granted for the request (read-only for a write) and the grants end with it', async (t) => {
    const rig = new Rig();
    const gated = new GatedDisk(new RamDisk(MiB));
    t.after(() => (gated.open(), rig.close())); // a failed assertion must not leave I/O stuck at the gate
    const g = rig.guest();
    await rig.attach(g, 'vdev=xvda, target=/test/a', gated);
    const f = await within(rig.front(g, 51712, { persistent: false }), 'connect');
    const io = ioPages(g.hc);
    const refs = g.hc.freeGrantRefs;
    const buf = io.alloc(4 * PAGE_SIZE);
    buf.set(pattern(8, 32, 2));
    for (const [op, readonly] of [['write', true], ['read', false]]) {
        const started = gated.started;
        gated.shut();
        const done = op === 'write' ? f.write(8, buf) : f.read(8, buf);
        while (gated.started === started)
            await new Promise((r) => setTimeout(r, 1));
        const flags = grantsOn(g, buf);
        assert.equal(flags.length, 4, `${op}: each frame of the buffer is granted while in flight`);
        assert.ok(flags.every((x) => ((x & GTF_readonly) !== 0) === readonly), `${op}: ${readonly ? 'read-only' : 'read-write'}`);
        gated.open();
        await within(done, op);
        assert.deepEqual(grantsOn(g, buf), [], `${op}: no grant left on the buffer`);
        assert.equal(g.hc.freeGrantRefs, refs, `${op}: every grant reference is free again`);
    }
    assert.deepEqual(buf, pattern(8, 32, 2));
    assert.equal(g.domain.view.foreignPins, 1, 'the backend maps only the ring');
});
test('a backend restart with direct persistent grants in flight: they are revoked, issued again and complete', async (t) => {
    const rig = new Rig();
    const ram = new RamDisk(MiB);
    for (let s = 0; s < 256; s += 8)
        ram.write(s, [pattern(s, 8, 9)]);
    const gated = new GatedDisk(ram);
    t.after(() => (gated.open(), rig.close())); // a failed assertion must not leave I/O stuck at the gate
    const g = rig.guest();
    await rig.attach(g, 'vdev=xvda, target=/test/a', gated);
    const f = await within(rig.front(g), 'connect');
    const io = ioPages(g.hc);
    const region = io.alloc(18 * PAGE_SIZE);
    const bufs = Array.from({ length: 16 }, (_, i) => region.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
    const wbuf = region.subarray(16 * PAGE_SIZE);
    wbuf.set(pattern(500, 16, 4));
    // A first round grants the frames persistently.
    await f.read(0, bufs[0]);
    assert.equal(f.persistentGrants, 1);
    gated.shut();
    const reads = bufs.map((b, i) => f.read(i * 8, b));
    const write = f.write(500, wbuf);
    while (gated.started < 18)
        await new Promise((r) => setTimeout(r, 1));
    assert.equal(f.persistentGrants, 18);
    const fresh = await rig.restartBackend(g, gated);
    t.after(() => fresh.close());
    await within(Promise.all([...reads, write]), 'the I/O, issued again');
    bufs.forEach((b, i) => assert.deepEqual(b, pattern(i * 8, 8, 9)));
    const onDisk = new Uint8Array(16 * 512);
    ram.read(500, [onDisk]);
    assert.deepEqual(onDisk, pattern(500, 16, 4));
    assert.equal(f.status, 'connected');
    assert.ok(fresh.stats.requests >= 17);
    assert.equal(fresh.stats.transientMaps, 0, 'the new backend keeps them persistently');
    // The old connection's grants were ended: each frame has the one grant of the new connection.
    assert.equal(f.persistentGrants, 18);
    assert.equal(grantsOn(g, region).length, 18);
    // And the frames work on as before.
    await f.read(0, region);
    assert.equal(grantsOn(g, region).length, 18, 'no frame granted twice');
    assert.equal(f.persistentGrants, 19, 'the 18 frames, and a page for the indirect segments');
    assert.deepEqual(region.subarray(0, 16 * PAGE_SIZE), pattern(0, 128, 9));
});
test('ioPages.alloc: page-aligned, contiguous, zeroed; bad sizes are EINVAL; past memory= it is ENOMEM and takes nothing', async (t) => {
    const rig = new Rig();
    t.after(() => rig.close());
    const g = rig.guest(16);
    const io = ioPages(g.hc);
    const first = firstRamPfn(g.domain.view.geometry);
    for (const bad of [0, -4096, 1.5, NaN, Infinity, 2 ** 53, '4096']) {
        assert.throws(() => io.alloc(bad), xen('EINVAL'), String(bad));
    }
    assert.equal(g.domain.totPages, 0, 'refusals allocate nothing');
    // Freed frames come back first, scattered, holding their old bytes.
    const pfns = g.hc.populatePhysmap(16);
    for (const p of pfns)
        g.hc.memory.frame(p).fill(0xa5);
    g.hc.decreaseReservation([first + 2, first + 5, first + 9, first + 10, first + 11]);
    assert.equal(g.domain.totPages, 11);
    assert.throws(() => io.alloc(6 * PAGE_SIZE), xen('ENOMEM'), 'more than is left');
    assert.equal(g.domain.totPages, 11, 'nothing taken');
    // Three adjacent frames exist (9, 10, 11), but the scattered ones are handed out first: the
    // search runs out of memory, and gives back every frame it took.
    assert.throws(() => io.alloc(4 * PAGE_SIZE), xen('ENOMEM'), 'no run of 4');
    assert.equal(g.domain.totPages, 11, 'every frame taken on the way was given back');
    const buf = io.alloc(3 * PAGE_SIZE - 100);
    assert.equal(buf.byteLength, 3 * PAGE_SIZE, 'rounded up to whole pages');
    assert.equal(buf.buffer, g.hc.memory.buffers.memory, "in the guest's RAM");
    assert.equal(buf.byteOffset % PAGE_SIZE, 0, 'page-aligned');
    assert.equal(buf.byteOffset / PAGE_SIZE, first + 9, 'the run of three');
    assert.ok(buf.every((x) => x === 0), 'zeroed');
    assert.equal(g.domain.totPages, 14, 'the frames set aside on the way were given back');
    const one = io.alloc(1);
    assert.equal(one.byteLength, PAGE_SIZE);
    assert.ok(one.every((x) => x === 0));
    assert.equal(g.domain.totPages, 15);
    assert.throws(() => io.alloc(2 * PAGE_SIZE), xen('ENOMEM'));
    assert.equal(g.domain.totPages, 15);
});
test('persistent grants without indirect requests: I/O pages past 1056 frames still go zero copy, as the backend pool is sized by what it offers', async (t) => {
    const rig = new Rig();
    t.after(() => rig.close());
    const g = rig.guest(4096);
    const disk = new RecordingDisk(new RamDisk(8 * MiB));
    await rig.attach(g, 'vdev=xvda, target=/test/a', disk);
    const f = await within(rig.front(g, 51712, { persistent: true, maxIndirectSegments: 0 }), 'connect');
    assert.equal(f.negotiated?.maxSegments, 11);
    const be = (await rig.daemon()).device(g.domid, 51712);
    const io = ioPages(g.hc);
    // 1200 frames: more than Linux's default pool (1056), fewer than the backend's own
    // (32 slots x 256 offered indirect segments).
    const buf = io.alloc(1200 * PAGE_SIZE);
    buf.set(pattern(0, 1200 * 8, 7));
    await within(f.write(0, buf), 'write');
    assert.equal(f.persistentGrants, 1200, 'every frame granted persistently, none bounced');
    const maps = be.stats.transientMaps;
    const back = io.alloc(1200 * PAGE_SIZE);
    await within(f.read(0, back), 'read');
    assert.deepEqual(back, buf);
    assert.equal(f.persistentGrants, 2400);
    assert.equal(be.stats.transientMaps, maps, 'the backend kept every grant mapped');
});
//# sourceMappingURL=pages.test.js.map