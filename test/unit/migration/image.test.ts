// The save image as xl, libxl and libxc frame it, written and read back; and every kind of bad
// image refused with a clear error before anything is created: wrong magic, byte order,
// versions and flags, record lengths past the end, page counts and pfns out of bounds,
// duplicates, an END that never comes, a suspend state that is not structured-clone data, a
// stream that stalls. Then a bounded fuzz: flipped bytes give a XenError or a valid image.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { PAGE_SIZE } from '../../../src/abi/xen.js';
import { isXenError } from '../../../src/errors.js';
import {
  MAX_BATCH_PAGES, MAX_SYNC_RECORDS, PFINFO_NOTAB, REC_END, REC_PAGE_DATA, REC_SHARED_INFO, REC_VERIFY, REC_XENODE_SYNC, XL_MAGIC, record,
} from '../../../src/migration/format.js';
import { encodeFrames, encodePages, encodeSync, readImage, type FrameSink } from '../../../src/migration/image.js';
import { ByteSource } from '../../../src/migration/source.js';
import { rng } from '../../support/random.js';
import { CONFIG, GEO, TRAILER_XC_END, imageParts, parse, whole } from '../../support/save-image.js';

function refused(errno: string, message: RegExp) {
  return (e: Error) => {
    assert.ok(isXenError(e), `not a XenError: ${e.name}: ${e.message}`);
    assert.equal(e.errno, errno, e.message);
    assert.match(e.message, message);
    return true;
  };
}

const cat = (...b: Buffer[]) => Buffer.concat(b);

function pageRecord(entries: [number, number][], data: Buffer[] = []): Buffer {
  const head = Buffer.alloc(8 + 8 * entries.length);
  head.writeUInt32LE(entries.length, 0);
  entries.forEach(([pfn, type], i) => head.writeBigUInt64LE((BigInt(type) << 60n) | BigInt(pfn), 8 + 8 * i));
  return cat(...record(REC_PAGE_DATA, [head, ...data]));
}

test('an image reads back as it was written: configuration, frames, zero frames, suspend record, xenstore data', async () => {
  const p = imageParts({ populated: 1500 });
  const img = await parse(whole(p));
  assert.deepEqual(img.config, JSON.parse(JSON.stringify(CONFIG)));
  assert.equal(img.hwm, p.recordPfn + 1);
  const mem = new Uint8Array(p.memory);
  for (let pfn = GEO.first; pfn < img.hwm; pfn++) {
    const want = mem.subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
    const got = img.pages.get(pfn);
    if (want.every((b) => b === 0)) assert.equal(got, undefined, `zero frame ${pfn} travels as XALLOC, without data`);
    else assert.ok(got && Buffer.from(got).equals(want), `frame ${pfn}`);
  }
  assert.equal(img.suspendRecord.pfn, p.recordPfn);
  assert.deepEqual(img.xenstore, [['data/kv/ready', '1']]);
  // 1501 frames: two PAGE_DATA records, the first of libxc's maximum batch.
  assert.equal(p.pages.readUInt32LE(8), MAX_BATCH_PAGES);
});

/** A sink that takes frames in place, as a domain being built does (IncomingDomain). */
function inPlaceSink(): { sink: FrameSink; mem: Uint8Array; set: number } {
  const mem = new Uint8Array(GEO.end * PAGE_SIZE);
  const out = { mem, set: 0, sink: undefined as unknown as FrameSink };
  out.sink = {
    frame: (pfn) => mem.subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE),
    get: (pfn) => mem.subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE),
    set: () => void out.set++,
    delete: (pfn) => void mem.fill(0, pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE),
  };
  return out;
}

/** `bytes` in pieces of these sizes in turn, so that frames and headers straddle them. */
function pieces(bytes: Buffer, sizes: readonly number[]): Readable {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) out.push(bytes.subarray(at, (at += sizes[i % sizes.length]!)));
  return Readable.from(out);
}

test('frames go where the sink says, from pieces of any size; a record cut short writes none of its frames', async () => {
  const p = imageParts({ populated: 1500 });
  const into = inPlaceSink();
  const { mem } = into;
  await readImage(new ByteSource(pieces(whole(p), [4093, 1, 8, 65536, 3]), { stallMs: 2000 }), () => into.sink);
  assert.equal(into.set, 0, 'no frame was handed over in a buffer of its own');
  const want = new Uint8Array(p.memory);
  for (let pfn = GEO.first; pfn <= p.recordPfn; pfn++) {
    assert.ok(Buffer.from(mem.subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE)).equals(want.subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE)), `frame ${pfn}`);
  }
  // Cut inside the second PAGE_DATA record's frames: the first record's are in, none of the second's.
  const second = p.head.length + 8 + p.pages.readUInt32LE(4) + 8; // its body
  const frames = second + 8 + 8 * whole(p).readUInt32LE(second);
  const cut = inPlaceSink();
  await assert.rejects(readImage(new ByteSource(pieces(whole(p).subarray(0, frames + 100 * PAGE_SIZE), [5000]), { stallMs: 2000 }), () => cut.sink),
    refused('EINVAL', /truncated: PAGE_DATA frames/));
  assert.ok(cut.mem.subarray((GEO.first + 1) * PAGE_SIZE, (GEO.first + 2) * PAGE_SIZE).some((b) => b !== 0), 'the first record is in');
  assert.ok(cut.mem.subarray((GEO.first + MAX_BATCH_PAGES) * PAGE_SIZE).every((b) => b === 0), 'a frame of the record cut short was written');
});

test('frames encoded from copies (a live migration\'s) read back as the copies, whatever the memory holds by then', async () => {
  const p = imageParts({ populated: 300 });
  const mem = new Uint8Array(p.memory);
  const pfns: number[] = [];
  for (let pfn = GEO.first; pfn <= p.recordPfn; pfn++) pfns.push(pfn);
  // The copies: the first 200 end to end in one slab (one chunk a run), the rest each in a buffer of its own.
  const slab = new Uint8Array(200 * PAGE_SIZE);
  const copies = new Map<number, Uint8Array>();
  pfns.forEach((pfn, i) => {
    const c = i < 200 ? slab.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE) : new Uint8Array(PAGE_SIZE);
    c.set(mem.subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE));
    copies.set(pfn, c);
  });
  const sent = encodeFrames((pfn) => copies.get(pfn)!, pfns, { copy: false });
  // The guest runs on: every frame changes after its copy was taken, one zero frame among them.
  const zeroed = pfns.find((pfn) => copies.get(pfn)!.every((b) => b === 0))!;
  for (const pfn of pfns) mem.fill(0xee, pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
  const img = await parse(cat(p.head, ...sent.chunks, p.trailer));
  for (const pfn of pfns) {
    const want = copies.get(pfn)!;
    const got = img.pages.get(pfn);
    if (want.every((b) => b === 0)) assert.equal(got, undefined, `zero frame ${pfn} travels as XALLOC`);
    else assert.ok(got && Buffer.from(got).equals(want), `frame ${pfn} is its copy`);
  }
  assert.equal(img.pages.get(zeroed), undefined);
  // As encodePages of the memory as it was: the same bytes.
  pfns.forEach((pfn) => mem.set(copies.get(pfn)!, pfn * PAGE_SIZE));
  assert.ok(Buffer.concat(sent.chunks).equals(Buffer.concat(encodePages(p.memory, pfns).chunks)));
});

test("xl's header: the magic, byte order, flags and optional data are checked", async () => {
  const p = imageParts();
  const img = whole(p);
  assert.ok(img.subarray(0, 32).equals(XL_MAGIC));
  const at = (off: number, v: number) => {
    const b = Buffer.from(img);
    b.writeUInt32LE(v, off);
    return b;
  };
  const magic = Buffer.from(img);
  magic[3] ^= 0x20;
  await assert.rejects(parse(magic), refused('EINVAL', /wrong magic number/));
  await assert.rejects(parse(at(32, 0x04030201)), refused('EINVAL', /wrong byte order/));
  await assert.rejects(parse(at(36, 0x7)), refused('EINVAL', /mandatory flag\(s\) 0x4 are not supported/));
  await assert.rejects(parse(at(36, 0x1)), refused('EINVAL', /legacy \(v1\) stream/));
  await assert.rejects(parse(at(40, 0x1)), refused('EINVAL', /optional flag/));
  await assert.rejects(parse(at(44, 0xffffffff)), refused('EINVAL', /optional data of 4294967295 octets/));
  await assert.rejects(parse(at(48, 5)), refused('EINVAL', /configuration length does not match/));
  await assert.rejects(parse(img.subarray(0, 40)), refused('EINVAL', /truncated: xl's save-file header/));
});

test('the configuration in the header is checked as a configuration file would be', async () => {
  const bad: [object, RegExp][] = [
    [{ name: '123' }, /name '123' is only digits/],
    [{ kernel: 'relative.ts' }, /kernel is not an absolute path/],
    [{ memory: 1 << 30 }, /memory is not an integer in/],
    [{ vcpus: 4 }, /vcpus is not 1/],
    [{ onCrash: 'explode' }, /onCrash is not one of/],
    [{ vifs: [{ devid: 0, mac: 'ff:ff:ff:ff:ff:ff:00' }] }, /vifs\[0\]\.mac is not a lowercase MAC/],
    [{ disks: [{ vdev: 'xvda' }] }, /disks\[0\]\.format is not one of/],
    [{ disks: 'all' }, /disks is not a list/],
    // Fields that were once carried through unchecked.
    [{ pool: '../Pool-0' }, /pool '\.\.\/Pool-0' is not a pool name/],
    [{ cpuCap: 7000 }, /cpuCap is not an integer in 0\.\.6400/],
    [{ forwards: [{ proto: 'tcp', hostAddress: '127.0.0.1', hostPort: 70000, guestPort: 80 }] }, /forwards\[0\]\.hostPort is not an integer in 1\.\.65535/],
    [{ forwards: [{ proto: 'sctp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 }] }, /forwards\[0\]\.proto is not one of tcp, udp/],
    [{ forwards: [{ proto: 'tcp', hostAddress: 'example.org', hostPort: 8080, guestPort: 80 }] }, /forwards\[0\]\.hostAddress is not an IPv4 address/],
    [{ forwards: 'all' }, /forwards is not a list/],
    [{ forwards: [{ proto: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 }, { proto: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 81 }] },
      /forwards\[1\]: tcp 127\.0\.0\.1:8080 is already forwarded by forwards\[0\]/],
  ];
  for (const [patch, message] of bad) {
    const p = imageParts({ config: { ...CONFIG, ...patch } as typeof CONFIG });
    await assert.rejects(parse(whole(p)), refused('EINVAL', message), JSON.stringify(patch));
  }
  const notJson = imageParts();
  const b = whole(notJson);
  b[48 + 4] = 0x7b + 1; // the JSON's opening brace
  await assert.rejects(parse(b), refused('EINVAL', /not JSON/));
});

test('the configuration read back is made of its checked fields: what else the image carries is dropped', async () => {
  const forwards = [{ proto: 'udp', hostAddress: '127.0.0.1', hostPort: 5353, guestPort: 53 }];
  const disk = {
    target: '/srv/img.raw', format: 'raw', vdev: 'xvda', devid: 51712, access: 'rw', cdrom: false, specification: 'xen', directIoSafe: false, discard: true, trusted: true,
  };
  const kept = { ...CONFIG, pool: 'web-pool', cpuCap: 50, forwards, disks: [disk] };
  const config = { ...kept, extra: 'x', vifs: CONFIG.vifs.map((v) => ({ ...v, smuggled: 1 })), disks: [{ ...disk, smuggled: { a: 1 } }] };
  const img = await parse(whole(imageParts({ config: config as typeof CONFIG })));
  assert.deepEqual(img.config, JSON.parse(JSON.stringify(kept)));
});

test('sync records: each is answered once everything before it is in; a body or more than the bound is refused', async () => {
  const p = imageParts({ populated: 1500 });
  const sync = cat(...encodeSync());
  // A sync record after the first batch: its answer comes once that batch is in the sink.
  const batch = 8 + 8 * 1024;
  const firstLen = 8 + p.pages.readUInt32LE(4);
  const seen: number[] = [];
  const sink = new Map<number, Uint8Array>();
  const img = await readImage(new ByteSource(Readable.from([cat(p.head, p.pages.subarray(0, firstLen), sync, p.pages.subarray(firstLen), sync, p.trailer)]), { stallMs: 2000 }), () => sink, () => seen.push(sink.size));
  assert.ok(batch < firstLen);
  assert.equal(seen.length, 2);
  assert.equal(seen[0], 1024 - [...Array(1024).keys()].filter((i) => i % 4 === 3).length);
  assert.equal(img.hwm, p.recordPfn + 1);
  await assert.rejects(parse(cat(p.head, cat(...record(REC_XENODE_SYNC, [Buffer.from('x')])), p.pages, p.trailer)), refused('EINVAL', /claims 1 octets \(at most 0\)/));
  const many = cat(...Array<Buffer>(MAX_SYNC_RECORDS + 1).fill(sync));
  await assert.rejects(parse(cat(p.head, many, p.pages, p.trailer)), refused('EINVAL', new RegExp(`more than ${MAX_SYNC_RECORDS} sync records`)));
  // A file restore has nobody to answer: up to the bound, they are skipped.
  await parse(cat(p.head, cat(...Array<Buffer>(MAX_SYNC_RECORDS).fill(sync)), p.pages, p.trailer));
});

test("libxl's and libxc's headers: ident, versions, endianness, marker, XENF, the xenode domain type, page size", async () => {
  const p = imageParts();
  const x = p.libxlAt;
  const cases: [number, (b: Buffer) => void, RegExp][] = [
    [x, (b) => (b[x] = 0), /no LibxlFmt header/],
    [x + 8, (b) => b.writeUInt32BE(1, x + 8), /libxl stream version 1/],
    [x + 12, (b) => b.writeUInt32BE(1, x + 12), /big-endian libxl stream/],
    [x + 12, (b) => b.writeUInt32BE(2, x + 12), /legacy-converted/],
    [x + 24, (b) => (b[x + 24] = 0), /no marker/],
    [x + 32, (b) => (b[x + 32] = 0), /not XENF/],
    [x + 36, (b) => b.writeUInt32BE(9, x + 36), /libxc image version 9/],
    [x + 48, (b) => b.writeUInt32LE(1, x + 48), /domain type 0x1 is not a xenode domain/],
    [x + 52, (b) => b.writeUInt16LE(21, x + 52), /page shift 21/],
  ];
  for (const [, mutate, message] of cases) {
    const b = whole(p);
    mutate(b);
    await assert.rejects(parse(b), refused('EINVAL', message), String(message));
  }
});

test('records: lengths past the end or over the bound, unknown mandatory types, duplicates, a missing END', async () => {
  const p = imageParts();
  const xcTail = p.trailer.subarray(0, TRAILER_XC_END);
  const libxlTail = p.trailer.subarray(TRAILER_XC_END);
  // A PAGE_DATA whose length runs past the end of the stream.
  const long = Buffer.from(p.pages);
  long.writeUInt32LE(long.readUInt32LE(4) + 4096, 4);
  await assert.rejects(parse(cat(p.head, long, p.trailer)), refused('EINVAL', /truncated|PAGE_DATA of/));
  // A length over what any record of its type may have.
  const huge = Buffer.from(p.pages);
  huge.writeUInt32LE(0x7fffffff, 4);
  await assert.rejects(parse(cat(p.head, huge, p.trailer)), refused('EINVAL', /claims 2147483647 octets \(at most \d+\)/));
  await assert.rejects(parse(cat(p.head, cat(...record(0x42)), p.pages, p.trailer)), refused('EINVAL', /unknown mandatory libxc record type 0x42/));
  // An optional record nobody knows is skipped, as the spec says.
  await parse(cat(p.head, cat(...record(0x80000042, [Buffer.from('later')])), p.pages, p.trailer));
  const shared = cat(...record(REC_SHARED_INFO, [Buffer.alloc(PAGE_SIZE)]));
  await assert.rejects(parse(cat(p.head, shared, p.pages, p.trailer)), refused('EINVAL', /two SHARED_INFO records/));
  await assert.rejects(parse(cat(p.head, cat(...record(REC_SHARED_INFO, [Buffer.alloc(100)])), p.pages, p.trailer)), refused('EINVAL', /at most 4096|SHARED_INFO of 100 octets/));
  // No libxc END: the stream just stops.
  await assert.rejects(parse(cat(p.head, p.pages, xcTail.subarray(0, xcTail.length - 8))), refused('EINVAL', /truncated/));
  // libxc's END without the suspend record.
  await assert.rejects(parse(cat(p.head, p.pages, xcTail.subarray(0, 8 + PAGE_SIZE), cat(...record(REC_END)), libxlTail)), refused('EINVAL', /no suspend record/));
  // No libxl END.
  await assert.rejects(parse(cat(p.head, p.pages, xcTail)), refused('EINVAL', /truncated: a libxl record header/));
  await assert.rejects(parse(cat(p.head, p.pages, xcTail, cat(...record(0x9)), libxlTail)), refused('EINVAL', /unknown mandatory libxl record type 0x9/));
  await assert.rejects(parse(cat(p.head, p.pages, xcTail, cat(...record(0x4)), libxlTail)), refused('EINVAL', /CHECKPOINT_END/));
});

test('PAGE_DATA: counts, pfns within the RAM, types, duplicates, and data that matches the count', async () => {
  const p = imageParts();
  const withPages = (rec: Buffer) => parse(cat(p.head, p.pages, rec, p.trailer));
  const page = Buffer.alloc(PAGE_SIZE, 7);
  await assert.rejects(withPages(pageRecord([])), refused('EINVAL', /PAGE_DATA of 0 pages/));
  const many: [number, number][] = Array.from({ length: MAX_BATCH_PAGES + 1 }, (_, i) => [GEO.first + i, 0xe]);
  await assert.rejects(withPages(pageRecord(many)), refused('EINVAL', /PAGE_DATA of 1025 pages/));
  await assert.rejects(withPages(pageRecord([[GEO.end, PFINFO_NOTAB]], [page])), refused('EINVAL', new RegExp(`pfn ${GEO.end} is outside the domain's RAM`)));
  await assert.rejects(withPages(pageRecord([[3, PFINFO_NOTAB]], [page])), refused('EINVAL', /pfn 3 is outside/));
  await assert.rejects(withPages(pageRecord([[GEO.first, 0x1]], [page])), refused('EINVAL', /page type 0x1/));
  await assert.rejects(withPages(pageRecord([[GEO.first, 0], [GEO.first, 0]], [page, page])), refused('EINVAL', /twice in one PAGE_DATA/));
  await assert.rejects(withPages(pageRecord([[GEO.first, 0], [GEO.first + 1, 0]], [page])), refused('EINVAL', /2 pages \(2 with data\) is \d+ octets, not/));
  // A later PAGE_DATA of a frame replaces it (a live migration's rounds).
  const img = await withPages(pageRecord([[GEO.first + 5, PFINFO_NOTAB]], [page]));
  assert.ok(Buffer.from(img.pages.get(GEO.first + 5)!).equals(page));
});

test('VERIFY: pages sent again after it must match what was sent', async () => {
  const p = imageParts();
  const mem = new Uint8Array(p.memory);
  const pfn = GEO.first + 1;
  const same = Buffer.from(mem.subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE));
  const verify = cat(...record(REC_VERIFY));
  await parse(cat(p.head, p.pages, verify, pageRecord([[pfn, 0]], [same]), p.trailer));
  const other = Buffer.from(same);
  other[100] ^= 1;
  await assert.rejects(parse(cat(p.head, p.pages, verify, pageRecord([[pfn, 0]], [other]), p.trailer)), refused('EIO', new RegExp(`VERIFY: pfn ${pfn} differs`)));
});

test('the suspend record: inside the populated RAM, valid structured-clone data of the right shape', async () => {
  const p = imageParts();
  const corrupt = whole(p);
  // The record's first page: V8's serialization header, then the object; break the header.
  const recAt = corrupt.indexOf(Buffer.from(new Uint8Array(p.memory, p.recordPfn * PAGE_SIZE, 32)));
  assert.ok(recAt > 0);
  corrupt[recAt] = 0x00;
  corrupt[recAt + 1] = 0xee;
  await assert.rejects(parse(corrupt), refused('EINVAL', /not valid structured-clone data|not a version 1 xenode record/));
  // A structured-clone value that is not xenode's record.
  const q = imageParts({ state: 1 });
  const mem = new Uint8Array(q.memory);
  const { serialize } = await import('node:v8');
  const bogus = serialize({ version: 1, hasState: true, state: 1, io: [[0, 1]] });
  mem.fill(0, q.recordPfn * PAGE_SIZE, (q.recordPfn + 1) * PAGE_SIZE);
  mem.set(bogus, q.recordPfn * PAGE_SIZE);
  const pfns = Array.from({ length: q.recordPfn + 1 - GEO.first }, (_, i) => GEO.first + i);
  const pages = Buffer.concat(encodePages(q.memory, pfns).chunks);
  const trailer = Buffer.from(q.trailer);
  trailer.writeBigUInt64LE(BigInt(bogus.length), 8 + PAGE_SIZE + 8 + 8);
  await assert.rejects(parse(cat(q.head, pages, trailer)), refused('EINVAL', /I\/O pages outside RAM/));
  // The record's place outside the populated frames.
  const far = Buffer.from(p.trailer);
  far.writeBigUInt64LE(BigInt(GEO.end - 1), 8 + PAGE_SIZE + 8);
  await assert.rejects(parse(cat(p.head, p.pages, far)), refused('EINVAL', /outside the populated RAM/));
});

test('a suspend record with a sparse list (a few bytes, a length in the millions) is refused before it is walked', async () => {
  const { serialize } = await import('node:v8');
  const tcpip: unknown[] = [];
  tcpip.length = 2 ** 24;
  const rec = serialize({ version: 1, hasState: false, io: [], tcpip });
  const q = imageParts();
  const mem = new Uint8Array(q.memory);
  mem.fill(0, q.recordPfn * PAGE_SIZE, (q.recordPfn + 1) * PAGE_SIZE);
  mem.set(rec, q.recordPfn * PAGE_SIZE);
  const pfns = Array.from({ length: q.recordPfn + 1 - GEO.first }, (_, i) => GEO.first + i);
  const trailer = Buffer.from(q.trailer);
  trailer.writeBigUInt64LE(BigInt(rec.length), 8 + PAGE_SIZE + 8 + 8);
  await assert.rejects(parse(cat(q.head, Buffer.concat(encodePages(q.memory, pfns).chunks), trailer)), refused('EINVAL', /TCP\/IP stacks: not a list of at most 257/));
});

test('a stream that stalls is refused after the stall timeout', async () => {
  const p = imageParts();
  const s = new PassThrough();
  s.write(whole(p).subarray(0, 5000));
  const t0 = performance.now();
  await assert.rejects(parse(s, 100), refused('ETIMEDOUT', /the stream stalled: nothing came for 100 ms/));
  assert.ok(performance.now() - t0 < 10_000);
  s.destroy();
});

test('bounded fuzz: flipped bytes give a XenError or a valid image, never anything else', async () => {
  const base = whole(imageParts({ populated: 8 }));
  const r = rng(16);
  const deadline = performance.now() + 8000;
  let refusedN = 0;
  for (let i = 0; i < 400 && performance.now() < deadline; i++) {
    const b = Buffer.from(base);
    const flips = 1 + Math.floor(r() * 6);
    for (let k = 0; k < flips; k++) {
      // Mostly in the headers and record headers, where a flip changes meaning.
      const at = r() < 0.7 ? Math.floor(r() * 600) : Math.floor(r() * b.length);
      b[at] ^= 1 << Math.floor(r() * 8);
    }
    const cut = r() < 0.2 ? Math.floor(r() * b.length) : b.length;
    try {
      await parse(b.subarray(0, cut), 200);
    } catch (e) {
      assert.ok(isXenError(e), `iteration ${i}: ${(e as Error).name}: ${(e as Error).message}`);
      refusedN++;
    }
  }
  assert.ok(refusedN > 0);
});
