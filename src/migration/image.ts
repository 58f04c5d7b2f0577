// A domain's save image: what travels in a save file or a migration stream, and its encoding
// as xl + libxl + libxc write it (format.ts). Reading validates everything before anything is
// created: magic, byte order, versions and flags of each layer, known record types, record
// lengths, page counts and pfns within the domain's RAM, duplicates, the END of each layer,
// and the guest's suspend record (valid structured-clone data of xenode's shape).
import { PAGE_SIZE } from '../abi/xen.js';
import { decodeSuspendRecord, MAX_SUSPEND_RECORD_BYTES } from '../abi/suspend.js';
import { XenError } from '../errors.js';
import type { DomainConfig } from '../toolstack/domconfig.js';
import {
  DHDR_TYPE_XENODE, LIBXL_CHECKPOINT_END, LIBXL_END, LIBXL_IDENT, LIBXL_LIBXC_CONTEXT, LIBXL_OPT_BIG_ENDIAN, LIBXL_OPT_LEGACY,
  LIBXL_VERSION, LIBXL_XENODE_XENSTORE_DATA, MAX_BATCH_PAGES, MAX_SYNC_RECORDS, PAGE_SHIFT, PFINFO_NOTAB, PFINFO_XALLOC, PFINFO_XTAB,
  REC_END, REC_OPTIONAL, REC_PAGE_DATA, REC_SHARED_INFO, REC_STATIC_DATA_END, REC_VERIFY, REC_XENODE_SUSPEND_RECORD, REC_XENODE_SYNC, XC_ID,
  XC_MARKER, XC_OPT_BIG_ENDIAN, XC_VERSION, XEN_MAJOR, XEN_MINOR, XL_BYTEORDER, XL_HEADER_BYTES, XL_MAGIC,
  XL_MANDATORY_FLAG_ALL, XL_MANDATORY_FLAG_JSON, XL_MANDATORY_FLAG_STREAMv2, padded, record,
} from './format.js';
import { configFromJson, geometryOf, type Geometry } from './config.js';
import type { ByteSource } from './source.js';

export interface DomainImage {
  readonly config: DomainConfig;
  /** RAM frames below this pfn are populated; those absent from `pages` are zero. */
  readonly hwm: number;
  /** Populated frames with data (a live migration's later rounds replace earlier ones). */
  readonly pages: FrameSink;
  readonly sharedInfo: Uint8Array;
  /** Where the guest's suspend record is in its RAM. */
  readonly suspendRecord: { readonly pfn: number; readonly bytes: number };
  /** The guest's own xenstore data (`data/...`), relative keys and values. */
  readonly xenstore: readonly (readonly [string, string])[];
}

/**
 * Where a reader puts the RAM frames it reads: a Map (a save file, checked whole before a
 * domain is built) or the memory of a domain being built (a migration stream, applied as it
 * arrives: receive.ts). `delete`: the frame is zero.
 */
export interface FrameSink {
  get(pfn: number): Uint8Array | undefined;
  set(pfn: number, data: Uint8Array): unknown;
  delete(pfn: number): unknown;
  /** Frames may go in once this resolves: until then the rest of the stream waits unread (TCP's backpressure). */
  ready?(): Promise<unknown>;
  /** Where `pfn`'s data is written in place (a domain's RAM), instead of set() with a buffer of its own. */
  frame?(pfn: number): Uint8Array | undefined;
}

/** Bounds on what a restore accepts beyond what the configuration implies. */
export const MAX_CONFIG_JSON_BYTES = 1 << 20;
const MAX_XENSTORE_BYTES = 1 << 20;
const MAX_OPTIONAL_RECORD_BYTES = 1 << 20;

// ---------------- writing ----------------

function u32be(...v: number[]): Buffer {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeUInt32BE(x >>> 0, 4 * i));
  return b;
}

/** xl's header with the configuration as JSON optional data; then libxl's header and LIBXC_CONTEXT. */
export function encodeHeaders(config: DomainConfig): Buffer[] {
  const json = Buffer.from(`${JSON.stringify(config)}\0`);
  const hdr = Buffer.alloc(XL_HEADER_BYTES);
  XL_MAGIC.copy(hdr, 0);
  hdr.writeUInt32LE(XL_BYTEORDER, 32);
  hdr.writeUInt32LE(XL_MANDATORY_FLAG_STREAMv2 | XL_MANDATORY_FLAG_JSON, 36);
  hdr.writeUInt32LE(0, 40);
  hdr.writeUInt32LE(4 + json.length, 44);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  const libxl = Buffer.alloc(16);
  libxl.writeBigUInt64BE(LIBXL_IDENT, 0);
  libxl.writeUInt32BE(LIBXL_VERSION, 8);
  libxl.writeUInt32BE(0, 12);
  const xc = Buffer.concat([Buffer.alloc(8, 0xff), u32be(XC_ID, XC_VERSION), Buffer.alloc(8)]);
  const dhdr = Buffer.alloc(16);
  dhdr.writeUInt32LE(DHDR_TYPE_XENODE, 0);
  dhdr.writeUInt16LE(PAGE_SHIFT, 4);
  dhdr.writeUInt32LE(XEN_MAJOR, 8);
  dhdr.writeUInt32LE(XEN_MINOR, 12);
  return [hdr, len, json, libxl, ...record(LIBXL_LIBXC_CONTEXT), xc, dhdr, ...record(REC_STATIC_DATA_END)];
}

const ZERO_PAGE = Buffer.alloc(PAGE_SIZE);

function isZero(page: Uint8Array): boolean {
  return ZERO_PAGE.equals(page);
}

/**
 * PAGE_DATA records for `pfns` (ascending or not), in batches of MAX_BATCH_PAGES; zero pages
 * go as XALLOC (allocate only, no data). `memory` is the domain's whole buffer. The data of
 * consecutive pfns goes as one chunk. `copy`: the data is copied (the domain runs on while the
 * stream is written); a suspended domain's frames are written from its memory as they are.
 */
export function encodePages(memory: SharedArrayBuffer, pfns: readonly number[], opts: { copy?: boolean } = {}): { chunks: Buffer[]; bytes: number } {
  return encodeFrames((pfn) => new Uint8Array(memory, pfn * PAGE_SIZE, PAGE_SIZE), pfns, opts);
}

/**
 * encodePages with each frame's bytes from `frameOf` (a page-sized view): a live migration's
 * copies of the frames, so that what is sent is what the sender compares with next. Frames whose
 * views lie end to end in one buffer go as one chunk.
 */
export function encodeFrames(frameOf: (pfn: number) => Uint8Array, pfns: readonly number[], opts: { copy?: boolean } = {}): { chunks: Buffer[]; bytes: number } {
  const copy = opts.copy ?? true;
  const chunks: Buffer[] = [];
  let bytes = 0;
  for (let i = 0; i < pfns.length; i += MAX_BATCH_PAGES) {
    const batch = pfns.slice(i, i + MAX_BATCH_PAGES);
    const head = Buffer.alloc(8 + 8 * batch.length);
    head.writeUInt32LE(batch.length, 0);
    const data: Buffer[] = [];
    let run: Uint8Array | undefined;
    let runBytes = 0;
    const endRun = () => {
      if (run && runBytes) {
        const view = Buffer.from(run.buffer, run.byteOffset, runBytes);
        data.push(copy ? Buffer.from(view) : view);
      }
      run = undefined;
      runBytes = 0;
    };
    batch.forEach((pfn, j) => {
      const frame = frameOf(pfn);
      const zero = isZero(frame);
      // The type in the top four bits, the pfn (below 2^52) in the rest.
      head.writeUInt32LE(pfn >>> 0, 8 + 8 * j);
      head.writeUInt32LE(((zero ? PFINFO_XALLOC : PFINFO_NOTAB) << 28 | Math.floor(pfn / 2 ** 32)) >>> 0, 12 + 8 * j);
      if (zero) return endRun();
      if (run && frame.buffer === run.buffer && frame.byteOffset === run.byteOffset + runBytes) runBytes += PAGE_SIZE;
      else {
        endRun();
        run = frame;
        runBytes = PAGE_SIZE;
      }
    });
    endRun();
    const rec = record(REC_PAGE_DATA, [head, ...data]);
    for (const c of rec) bytes += c.length;
    chunks.push(...rec);
  }
  return { chunks, bytes };
}

/** The records after the memory: SHARED_INFO, the suspend record's place, libxc's END; xenstore data, libxl's END. */
export function encodeTrailer(img: Pick<DomainImage, 'sharedInfo' | 'suspendRecord' | 'xenstore'>): Buffer[] {
  const sr = Buffer.alloc(16);
  sr.writeBigUInt64LE(BigInt(img.suspendRecord.pfn), 0);
  sr.writeBigUInt64LE(BigInt(img.suspendRecord.bytes), 8);
  const xs = Buffer.from(img.xenstore.map(([k, v]) => `${k}\0${v}\0`).join(''));
  return [
    ...record(REC_SHARED_INFO, [img.sharedInfo]), ...record(REC_XENODE_SUSPEND_RECORD, [sr]), ...record(REC_END),
    ...(img.xenstore.length ? record(LIBXL_XENODE_XENSTORE_DATA, [xs]) : []), ...record(LIBXL_END),
  ];
}

// ---------------- reading ----------------

function bad(what: string): XenError {
  return new XenError('EINVAL', `not a valid save image: ${what}`);
}

/** xl's header and the configuration in it. */
async function readXlHeader(src: ByteSource): Promise<DomainConfig> {
  const hdr = await src.read(XL_HEADER_BYTES, "xl's save-file header");
  if (!hdr.subarray(0, 32).equals(XL_MAGIC)) throw bad('wrong magic number (corrupt, or for a different tool?)');
  if (hdr.readUInt32LE(32) !== XL_BYTEORDER) throw bad('wrong byte order');
  const mandatory = hdr.readUInt32LE(36);
  const optional = hdr.readUInt32LE(40);
  const optLen = hdr.readUInt32LE(44);
  if (mandatory & ~XL_MANDATORY_FLAG_ALL) throw bad(`mandatory flag(s) 0x${(mandatory & ~XL_MANDATORY_FLAG_ALL).toString(16)} are not supported`);
  if (!(mandatory & XL_MANDATORY_FLAG_STREAMv2)) throw bad('a legacy (v1) stream: only stream v2 is supported');
  if (!(mandatory & XL_MANDATORY_FLAG_JSON)) throw bad('the configuration is not in JSON format');
  if (optional !== 0) throw bad(`optional flag(s) 0x${optional.toString(16)} are not supported`);
  if (optLen < 4 || optLen > 4 + MAX_CONFIG_JSON_BYTES) throw bad(`optional data of ${optLen} octets (the configuration must be there, at most ${MAX_CONFIG_JSON_BYTES} octets)`);
  const opt = await src.read(optLen, "xl's optional data");
  const len = opt.readUInt32LE(0);
  if (len !== optLen - 4 || len < 1 || opt[optLen - 1] !== 0) throw bad('the configuration length does not match the optional data');
  return configFromJson(opt.subarray(4, optLen - 1).toString('utf8'));
}

interface Rec {
  readonly type: number;
  readonly body: Buffer;
}

/** A record's type and length, checked against `maxBody`; its body is next in `src`. */
async function readRecordHeader(src: ByteSource, layer: string, maxBody: (type: number) => number): Promise<{ type: number; length: number }> {
  const h = await src.read(8, `a ${layer} record header`);
  const type = h.readUInt32LE(0);
  const length = h.readUInt32LE(4);
  const max = maxBody(type);
  if (length > max) throw bad(`${layer} record type 0x${type.toString(16)} at offset ${src.offset - 8} claims ${length} octets (at most ${max})`);
  return { type, length };
}

async function readBody(src: ByteSource, layer: string, type: number, length: number): Promise<Buffer> {
  const body = await src.read(padded(length), `${layer} record 0x${type.toString(16)}`);
  return body.subarray(0, length);
}

async function readRecord(src: ByteSource, layer: string, maxBody: (type: number) => number): Promise<Rec> {
  const { type, length } = await readRecordHeader(src, layer, maxBody);
  return { type, body: await readBody(src, layer, type, length) };
}

/** A sync record (REC_XENODE_SYNC), between the pre-copy's records. */
export function encodeSync(): Buffer[] {
  return record(REC_XENODE_SYNC);
}

/**
 * The whole image from `src`, checked against the domain's geometry (from its configuration).
 * Its frames go where `sinkFor` says once the configuration is known (a new Map by default);
 * `onSync` is called at each sync record, once everything before it is in.
 */
export async function readImage(src: ByteSource, sinkFor: (config: DomainConfig) => FrameSink = () => new Map(), onSync?: () => void): Promise<DomainImage> {
  const config = await readXlHeader(src);
  const geo = geometryOf(config);
  const sink = sinkFor(config);
  const lh = await src.read(16, "libxl's header");
  if (lh.readBigUInt64BE(0) !== LIBXL_IDENT) throw bad("no LibxlFmt header after xl's");
  if (lh.readUInt32BE(8) !== LIBXL_VERSION) throw bad(`libxl stream version ${lh.readUInt32BE(8)} (only ${LIBXL_VERSION})`);
  const lopt = lh.readUInt32BE(12);
  if (lopt & LIBXL_OPT_BIG_ENDIAN) throw bad('a big-endian libxl stream');
  if (lopt & LIBXL_OPT_LEGACY) throw bad('a legacy-converted libxl stream');
  let mem: Omit<DomainImage, 'config' | 'xenstore'> | undefined;
  let xenstore: [string, string][] = [];
  for (;;) {
    const r = await readRecord(src, 'libxl', (t) => (t === LIBXL_XENODE_XENSTORE_DATA ? MAX_XENSTORE_BYTES : t & REC_OPTIONAL ? MAX_OPTIONAL_RECORD_BYTES : 0));
    if (r.type === LIBXL_END) break;
    if (r.type === LIBXL_LIBXC_CONTEXT) {
      if (mem) throw bad('two LIBXC_CONTEXT records');
      mem = await readLibxc(src, geo, sink, onSync);
    } else if (r.type === LIBXL_XENODE_XENSTORE_DATA) {
      if (xenstore.length) throw bad('two xenstore data records');
      xenstore = parseXenstoreData(r.body);
    } else if (r.type === LIBXL_CHECKPOINT_END) {
      throw bad('CHECKPOINT_END: checkpointed (Remus/COLO) streams are not supported');
    } else if (!(r.type & REC_OPTIONAL)) {
      throw bad(`unknown mandatory libxl record type 0x${r.type.toString(16)}`);
    }
  }
  if (!mem) throw bad('no LIBXC_CONTEXT record: the stream has no memory');
  return { config, ...mem, xenstore };
}

function parseXenstoreData(body: Buffer): [string, string][] {
  const parts = body.toString('latin1').split('\0');
  if (parts.pop() !== '' || parts.length % 2) throw bad('xenstore data is not NUL-terminated key/value pairs');
  const out: [string, string][] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const key = parts[i]!;
    if (!/^data(\/[A-Za-z0-9_@-][A-Za-z0-9_@.-]*)*$/.test(key)) throw bad(`xenstore data key '${key.slice(0, 64)}' is not under data/`);
    out.push([key, Buffer.from(parts[i + 1]!, 'latin1').toString('utf8')]);
  }
  return out;
}

async function readLibxc(src: ByteSource, geo: Geometry, pages: FrameSink, onSync?: () => void): Promise<Omit<DomainImage, 'config' | 'xenstore'>> {
  const ih = await src.read(24, "libxc's image header");
  if (ih.readBigUInt64BE(0) !== XC_MARKER) throw bad("libxc's image header has no marker (a legacy image?)");
  if (ih.readUInt32BE(8) !== XC_ID) throw bad("libxc's image header is not XENF");
  if (ih.readUInt32BE(12) !== XC_VERSION && ih.readUInt32BE(12) !== 2) throw bad(`libxc image version ${ih.readUInt32BE(12)} (2 or 3 are read)`);
  if (ih.readUInt16BE(16) & XC_OPT_BIG_ENDIAN) throw bad('a big-endian libxc image');
  const dh = await src.read(16, "libxc's domain header");
  if (dh.readUInt32LE(0) !== DHDR_TYPE_XENODE) throw bad(`domain type 0x${dh.readUInt32LE(0).toString(16)} is not a xenode domain (0x${DHDR_TYPE_XENODE.toString(16)})`);
  if (dh.readUInt16LE(4) !== PAGE_SHIFT) throw bad(`page shift ${dh.readUInt16LE(4)} (pages here are 4 KiB)`);
  let hwm = geo.first;
  let sharedInfo: Uint8Array | undefined;
  let suspendRecord: { pfn: number; bytes: number } | undefined;
  let syncs = 0;
  let staticEnd = false;
  let verifying = false;
  const maxPageData = 8 + MAX_BATCH_PAGES * (8 + PAGE_SIZE);
  for (;;) {
    await pages.ready?.();
    const { type, length } = await readRecordHeader(src, 'libxc', (t) => (t === REC_PAGE_DATA ? maxPageData : t === REC_SHARED_INFO ? PAGE_SIZE
      : t === REC_XENODE_SUSPEND_RECORD ? 16 : t === REC_XENODE_SYNC ? 0 : t & REC_OPTIONAL ? MAX_OPTIONAL_RECORD_BYTES : 0));
    if (type === REC_PAGE_DATA) {
      hwm = Math.max(hwm, await readPageData(src, length, geo, pages, verifying));
      continue;
    }
    const r = { type, body: await readBody(src, 'libxc', type, length) };
    switch (r.type) {
      case REC_END:
        if (!sharedInfo) throw bad('no SHARED_INFO record');
        if (!suspendRecord) throw bad("no suspend record: the guest's runtime did not suspend");
        checkSuspendRecord(suspendRecord, pages, geo.first, hwm);
        return { hwm, pages, sharedInfo, suspendRecord };
      case REC_STATIC_DATA_END:
        if (staticEnd) throw bad('two STATIC_DATA_END records');
        staticEnd = true;
        break;
      case REC_SHARED_INFO:
        if (sharedInfo) throw bad('two SHARED_INFO records');
        if (r.body.length !== PAGE_SIZE) throw bad(`SHARED_INFO of ${r.body.length} octets (one page)`);
        sharedInfo = r.body;
        break;
      case REC_VERIFY:
        verifying = true;
        break;
      case REC_XENODE_SYNC:
        if (++syncs > MAX_SYNC_RECORDS) throw bad(`more than ${MAX_SYNC_RECORDS} sync records`);
        onSync?.();
        break;
      case REC_XENODE_SUSPEND_RECORD: {
        if (suspendRecord) throw bad('two suspend records');
        if (r.body.length !== 16) throw bad(`the suspend record's place is ${r.body.length} octets (16)`);
        const pfn = r.body.readBigUInt64LE(0);
        const bytes = r.body.readBigUInt64LE(8);
        if (pfn >= BigInt(geo.end) || bytes < 1n || bytes > BigInt(MAX_SUSPEND_RECORD_BYTES)) throw bad(`suspend record at pfn ${pfn}, ${bytes} octets`);
        suspendRecord = { pfn: Number(pfn), bytes: Number(bytes) };
        break;
      }
      default:
        if (!(r.type & REC_OPTIONAL)) throw bad(`unknown mandatory libxc record type 0x${r.type.toString(16)}`);
    }
  }
}

/**
 * One PAGE_DATA record of `length` octets into `pages`; returns one past its highest pfn. Its
 * header is checked whole first (count, types, pfns, duplicates, the length its pages make); then
 * the body waits in the source and each frame's data goes from the received chunks straight
 * where the sink says (a domain's RAM: no buffer of the record's own, and no second copy). After
 * VERIFY, pages are compared instead.
 */
async function readPageData(src: ByteSource, length: number, geo: Geometry, pages: FrameSink, verifying: boolean): Promise<number> {
  if (length < 8) throw bad('PAGE_DATA without a count');
  const count = (await src.read(8, 'PAGE_DATA count')).readUInt32LE(0);
  if (count < 1 || count > MAX_BATCH_PAGES) throw bad(`PAGE_DATA of ${count} pages (1..${MAX_BATCH_PAGES})`);
  if (length < 8 + 8 * count) throw bad(`PAGE_DATA of ${count} pages has only ${length} octets`);
  const pfnInfo = await src.read(8 * count, 'PAGE_DATA pfns');
  const seen = new Set<number>();
  const entries: [number, number][] = [];
  let withData = 0;
  for (let i = 0; i < count; i++) {
    const hi = pfnInfo.readUInt32LE(4 + 8 * i);
    const type = hi >>> 28;
    const pfn = (hi & 0x0fff_ffff) * 2 ** 32 + pfnInfo.readUInt32LE(8 * i);
    if (type !== PFINFO_NOTAB && type !== PFINFO_XALLOC && type !== PFINFO_XTAB) throw bad(`page type 0x${type.toString(16)} of pfn ${pfn}`);
    if (pfn < geo.first || pfn >= geo.end) throw bad(`pfn ${pfn} is outside the domain's RAM (${geo.first}..${geo.end - 1})`);
    if (seen.has(pfn)) throw bad(`pfn ${pfn} twice in one PAGE_DATA record`);
    seen.add(pfn);
    entries.push([pfn, type]);
    if (type === PFINFO_NOTAB) withData++;
  }
  if (length !== 8 + 8 * count + withData * PAGE_SIZE) {
    throw bad(`PAGE_DATA of ${count} pages (${withData} with data) is ${length} octets, not ${8 + 8 * count + withData * PAGE_SIZE}`);
  }
  // The length just checked is a multiple of 8: the record has no padding after its frames.
  const rest = withData * PAGE_SIZE;
  await src.need(rest, 'PAGE_DATA frames');
  let top = geo.first;
  for (const [pfn, type] of entries) {
    if (type === PFINFO_XTAB) continue;
    if (verifying) {
      const data = type === PFINFO_NOTAB ? src.take(PAGE_SIZE) : undefined;
      const have = pages.get(pfn);
      const same = data ? have !== undefined && Buffer.from(have).equals(data) : have === undefined || isZero(have);
      if (!same) throw new XenError('EIO', `VERIFY: pfn ${pfn} differs from what was sent before`);
      continue;
    }
    if (type === PFINFO_NOTAB) {
      const into = pages.frame?.(pfn);
      if (into) src.takeInto(into);
      else pages.set(pfn, src.take(PAGE_SIZE));
    } else {
      pages.delete(pfn);
    }
    top = Math.max(top, pfn + 1);
  }
  return top;
}

function checkSuspendRecord(r: { pfn: number; bytes: number }, pages: FrameSink, first: number, hwm: number): void {
  const n = Math.ceil(r.bytes / PAGE_SIZE);
  if (r.pfn < first || r.pfn + n > hwm) throw bad(`the suspend record (pfn ${r.pfn}, ${r.bytes} octets) is outside the populated RAM`);
  const bytes = new Uint8Array(n * PAGE_SIZE);
  for (let i = 0; i < n; i++) {
    const p = pages.get(r.pfn + i);
    if (p) bytes.set(p, i * PAGE_SIZE);
  }
  decodeSuspendRecord(bytes.subarray(0, r.bytes), first, hwm);
}
