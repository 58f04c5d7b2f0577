// One VHD file of a chain: its footer, dynamic header, BAT and sector bitmaps, checked at open,
// and the allocation of blocks in it. A fixed image is every block allocated, no bitmaps.
//
// Allocating a block is crash-safe by its order of writes (docs/BLOCK.md):
//   0. the file is long enough for the new block (it is extended several blocks ahead at a
//      time, the next extension started while half of the last one is still free, so that
//      most allocations wait for no ftruncate; a full disk fails here, nothing changed yet);
//   1. the data, into the new block (new space nothing on disk points at); the block is then
//      allocated in memory (BAT entry and bitmap), which is what reads and writes use;
//   2. its bitmap, then its BAT entry, written back with those of the other blocks allocated
//      meanwhile (bitmaps all at once, then adjacent BAT sectors in one write), at the latest
//      by the next flush;
//   3. the footer, moved to the new end at the next flush or close.
// So a BAT entry on disk never points at a block whose bitmap is not written (its space may
// hold the old footer's bytes before), and a bitmap is only ever written after the data it
// claims. A flush writes back, then fdatasyncs, so what it acknowledges survives kill -9. A
// crash loses at most unflushed writes, and may leave the end of
// the file without a footer: open then takes the copy at the start and (writable) truncates
// after the last block and writes the footer there, dropping blocks whose BAT entry was never
// written and the space extended ahead.
import { close } from 'node:fs';
import { promisify } from 'node:util';
import { DirectWrites } from '../direct.js';
import { datasync, fsError } from '../disk.js';
import { pread, pwrite, transfer } from '../fileio.js';
import { GrowAhead } from '../growahead.js';
import { openNamed } from '../named.js';
import { allSet, setBits } from './bitmap.js';
import { batBytes, batRuns, checkBat, decodeBat, type Extent } from './bat.js';
import { FOOTER_BYTES, decodeFooter, encodeFooter, virtualBytes, type Footer } from './footer.js';
import { BAT_UNUSED, VHD_DEFAULT_BLOCK, VHD_SECTOR, VhdError, bitmapBytes, type DiskTypeName } from './format.js';
import { HEADER_BYTES, decodeHeader, type DynamicHeader } from './header.js';
import { decodeLocator } from './locators.js';

const closeP = promisify(close);

/** Page size: new blocks' data starts on one at least. */
const PAGE = 4096;

/**
 * What new blocks' data is aligned to, at most: the page cache holds a file's data in folios
 * as large as its alignment in the file allows (ext4's large folios), and 1 MiB reads of a
 * block whose data is aligned to a page only (as VHD tools lay blocks out) took 21% longer
 * than a raw file's, 12% at 64 KiB, 3% at 256 KiB (docs/PERFORMANCE.md). The gap before each
 * block's bitmap is a hole (no disk space), at most an eighth of a block (DATA_ALIGN_SHARE);
 * smaller when the disk's blocks would not all fit under the largest offset a BAT entry holds.
 */
const DATA_ALIGN = 256 * 1024;
const DATA_ALIGN_SHARE = 8;

/** The last byte offset a block may start at: a BAT entry is a 32-bit sector number, all ones meaning unused. */
const MAX_BLOCK_START = (BAT_UNUSED - 1) * VHD_SECTOR;

/** Blocks the file is extended ahead by, so that most allocations need no ftruncate. */
const EXTEND_AHEAD_BLOCKS = 16;

/** BAT sectors this close together are written as one range (the sectors between rewritten as they are). */
const BAT_RUN_GAP = 8;

/** Allocated blocks whose bitmap and BAT entry wait in memory before a write-back starts without a flush. */
const PENDING_LIMIT = 64;

/** The longest parent locator we read. */
const MAX_LOCATOR_BYTES = 8192;

export interface OpenImageOptions {
  readonly readOnly: boolean;
  /** Block size a fixed image is mapped in (its chain's); default 2 MiB. */
  readonly blockSize?: number;
  /** Data written in aligned buffers goes around the page cache (direct.ts): a copy's destination. */
  readonly directWrites?: boolean;
  /** A parent, opened at the real path its chain's walk checked: a symbolic link swapped in since is refused. */
  readonly noFollow?: boolean;
}

export class VhdImage {
  readonly type: DiskTypeName;
  /** Virtual size in bytes. */
  readonly bytes: number;
  readonly blockSize: number;
  readonly sectorsPerBlock: number;
  /**
   * BAT (dynamic and differencing) as reads and writes use it; for a fixed image, empty. It is
   * the BAT on disk but for the blocks allocated since the last write-back (`#pending`).
   */
  readonly bat: Uint32Array;
  readonly blocks: number;
  #fd: number;
  #path: string;
  readonly #bitmapBytes: number;
  /** Cached bitmaps, loaded on first use; `#full[b]` = 1: every sector of block b is here. */
  readonly #bitmaps: (Uint8Array | undefined)[] = [];
  readonly #loading = new Map<number, Promise<Uint8Array>>();
  readonly #full: Uint8Array;
  /** Where the footer goes and the next block goes. */
  #nextFree: number;
  /** The file's size, extended ahead of #nextFree by allocations. */
  readonly #grow: GrowAhead;
  readonly #footerBytes: Uint8Array;
  /** The footer is not (known to be) at the end of the file: flush and close truncate after the last block and write it. */
  #tailDirty: boolean;
  /** Allocations in flight, by block. */
  readonly #allocating = new Map<number, Promise<void>>();
  /**
   * The placing of blocks that must wait (for the file to grow, or for the footer to be written
   * at the end), one after another; while any waits, or the footer is being written, no block
   * is placed at once (`#place`).
   */
  #placing: Promise<unknown> = Promise.resolve();
  #waitingToPlace = 0;
  #restoring = 0;
  /** What new blocks' data is aligned to; bytes a block takes in the file, its bitmap and that alignment included. */
  readonly #dataAlign: number;
  readonly #blockSpan: number;
  /** The bitmap of every block allocated whole (an image with no parent): all set, shared, never changed. */
  readonly #wholeBitmap: Uint8Array;
  readonly #blockLocks = new Map<number, Promise<unknown>>();
  /** Blocks allocated in memory whose bitmap and BAT entry are not written back yet. */
  #pending = new Set<number>();
  /** The write-back in progress (one at a time). */
  #writingBack: Promise<void> = Promise.resolve();
  /** Where blocks' data goes around the page cache, if opened so. */
  #direct: DirectWrites | undefined;

  private constructor(
    path: string, fd: number, readonly readOnly: boolean, readonly footer: Footer,
    readonly header: DynamicHeader | undefined, bat: Uint32Array, blockSize: number, nextFree: number, fileEnd: number, tailDirty: boolean,
  ) {
    this.#path = path;
    this.#fd = fd;
    this.type = footer.type;
    this.bytes = virtualBytes(footer);
    this.blockSize = blockSize;
    this.sectorsPerBlock = blockSize / VHD_SECTOR;
    this.blocks = Math.ceil(this.bytes / blockSize);
    this.bat = bat;
    this.#bitmapBytes = bitmapBytes(blockSize);
    const span = (align: number) => Math.ceil((this.#bitmapBytes + blockSize) / align) * align;
    let align = Math.min(DATA_ALIGN, Math.max(PAGE, blockSize / DATA_ALIGN_SHARE));
    if (nextFree + this.blocks * span(align) > MAX_BLOCK_START) {
      // Only a disk of nearly 2 TiB comes here (and then the blocks left to allocate are counted).
      let unallocated = 0;
      for (let b = 0; b < bat.length && b < this.blocks; b++) if (bat[b] === BAT_UNUSED) unallocated++;
      while (align > PAGE && nextFree + unallocated * span(align) > MAX_BLOCK_START) align /= 2;
    }
    this.#dataAlign = align;
    this.#blockSpan = span(align);
    this.#wholeBitmap = new Uint8Array(this.#bitmapBytes).fill(0xff);
    this.#full = new Uint8Array(this.blocks);
    if (footer.type === 'fixed') for (let b = 0; b < this.blocks; b++) this.#full[b] = (b + 1) * blockSize <= this.bytes ? 1 : 0;
    this.#nextFree = nextFree;
    this.#grow = new GrowAhead(fd, this, EXTEND_AHEAD_BLOCKS * this.#blockSpan, fileEnd);
    this.#footerBytes = encodeFooter(footer);
    this.#tailDirty = tailDirty;
  }

  static async open(path: string, opts: OpenImageOptions): Promise<VhdImage> {
    const { fd, stats } = await openNamed(path, { what: 'VHD image', kind: 'file', write: !opts.readOnly, noFollow: opts.noFollow });
    try {
      const image = await VhdImage.#read(path, fd, stats.size, opts);
      if (image.#tailDirty && !opts.readOnly) await image.#restoreTail();
      if (opts.directWrites && !opts.readOnly) image.#direct = await DirectWrites.open(image.path, image.#fd);
      return image;
    } catch (e) {
      await closeP(fd);
      throw e;
    }
  }

  static async #read(path: string, fd: number, size: number, opts: OpenImageOptions): Promise<VhdImage> {
    if (size < FOOTER_BYTES) throw new VhdError(path, 'file size', `${size} bytes is too short for a footer (truncated?)`);
    const tail = new Uint8Array(FOOTER_BYTES);
    await pread(fd, path, tail, size - FOOTER_BYTES);
    let footer: Footer;
    let footerAtEnd = true;
    try {
      footer = decodeFooter(tail, path);
    } catch (e) {
      // A crash while a block was allocated leaves no footer at the end: the copy at the start
      // (dynamic and differencing images only) stands in for it.
      const head = new Uint8Array(FOOTER_BYTES);
      await pread(fd, path, head, 0);
      let copy: Footer | undefined;
      try {
        copy = decodeFooter(head, path);
      } catch {
        throw e;
      }
      if (copy.type === 'fixed') throw e;
      footer = copy;
      footerAtEnd = false;
    }
    const limit = footerAtEnd ? size - FOOTER_BYTES : size;
    if (footer.type === 'fixed') {
      const bytes = virtualBytes(footer);
      if (limit < bytes) throw new VhdError(path, 'file size', `${size} bytes is too short for a fixed image of ${bytes} bytes (truncated?)`);
      return new VhdImage(path, fd, opts.readOnly, footer, undefined, new Uint32Array(0), opts.blockSize ?? VHD_DEFAULT_BLOCK, limit, size, false);
    }
    const headerAt = Number(footer.dataOffset);
    if (headerAt + HEADER_BYTES > limit) throw new VhdError(path, 'footer data offset', `header at byte ${headerAt} is outside the file (truncated?)`);
    const hb = new Uint8Array(HEADER_BYTES);
    await pread(fd, path, hb, headerAt);
    const header = decodeHeader(hb, path);
    const bytes = virtualBytes(footer);
    if (header.maxTableEntries * header.blockSize < bytes) {
      throw new VhdError(path, 'dynamic header max table entries', `${header.maxTableEntries} blocks do not cover the disk's ${bytes} bytes`);
    }
    const reserved: Extent[] = [
      { what: 'footer copy', start: 0, end: FOOTER_BYTES },
      { what: 'dynamic header', start: headerAt, end: headerAt + HEADER_BYTES },
      { what: 'BAT', start: header.tableOffset, end: header.tableOffset + batBytes(header.maxTableEntries) },
    ];
    header.locators.forEach((l, i) => {
      if (l.length > l.space || l.length > MAX_LOCATOR_BYTES) {
        throw new VhdError(path, `parent locator ${i} length`, `${l.length} bytes is more than its ${Math.min(l.space, MAX_LOCATOR_BYTES)} bytes of space`);
      }
      reserved.push({ what: `parent locator ${i}`, start: l.offset, end: l.offset + l.space });
    });
    for (const r of reserved) {
      if (r.end > limit) throw new VhdError(path, r.what, `ends at byte ${r.end}, outside the file's ${limit} bytes (truncated?)`);
      for (const o of reserved) {
        if (o !== r && r.start < o.end && o.start < r.end) throw new VhdError(path, r.what, `overlaps the ${o.what}`);
      }
    }
    const raw = new Uint8Array(batBytes(header.maxTableEntries));
    await pread(fd, path, raw, header.tableOffset);
    const bat = decodeBat(raw, header.maxTableEntries);
    const blockEnd = checkBat(bat, bitmapBytes(header.blockSize) + header.blockSize, reserved, limit, path);
    const metaEnd = Math.max(...reserved.map((r) => Math.ceil(r.end / VHD_SECTOR) * VHD_SECTOR));
    const nextFree = footerAtEnd ? limit : Math.max(metaEnd, blockEnd);
    return new VhdImage(path, fd, opts.readOnly, footer, header, bat, header.blockSize, nextFree, size, !footerAtEnd);
  }

  /** Where the file is (its name in errors and the base of its relative parent locators). */
  get path(): string {
    return this.#path;
  }

  /** The file was renamed (or linked) to `path` while open: a snapshot made it a base. */
  moved(path: string): void {
    this.#path = path;
  }

  get uuid(): Uint8Array {
    return this.footer.uuid;
  }

  isAllocated(b: number): boolean {
    return this.type === 'fixed' ? b < this.blocks : b < this.bat.length && this.bat[b] !== BAT_UNUSED;
  }

  /** Every sector of the (allocated) block is in this image: read it without its bitmap. */
  isFull(b: number): boolean {
    return this.#full[b] === 1;
  }

  /** Sectors of block b inside the disk (the last block may be short). */
  sectorsIn(b: number): number {
    return Math.min(this.sectorsPerBlock, Math.ceil(this.bytes / VHD_SECTOR) - b * this.sectorsPerBlock);
  }

  /** Byte offset of sector `s` of allocated block `b`. */
  #dataAt(b: number, s: number): number {
    return this.type === 'fixed' ? b * this.blockSize + s * VHD_SECTOR : this.bat[b]! * VHD_SECTOR + this.#bitmapBytes + s * VHD_SECTOR;
  }

  /** The bitmap of an allocated block (loaded once). */
  bitmap(b: number): Promise<Uint8Array> | Uint8Array {
    const have = this.#bitmaps[b];
    if (have) return have;
    let p = this.#loading.get(b);
    if (!p) {
      p = this.#loadBitmap(b);
      this.#loading.set(b, p);
      void p.finally(() => this.#loading.delete(b)).catch(() => {});
    }
    return p;
  }

  async #loadBitmap(b: number): Promise<Uint8Array> {
    let bm: Uint8Array = new Uint8Array(this.#bitmapBytes);
    if (this.type === 'fixed') setBits(bm, 0, this.sectorsIn(b));
    else await pread(this.#fd, this.path, bm, this.bat[b]! * VHD_SECTOR);
    bm = this.#bitmaps[b] ??= bm;
    if (allSet(bm, 0, this.sectorsIn(b))) this.#full[b] = 1;
    return bm;
  }

  /** Byte offset in the file of the data of allocated block `b` (its sector 0). */
  dataStart(b: number): number {
    return this.#dataAt(b, 0);
  }

  read(b: number, s: number, bufs: readonly Uint8Array[]): Promise<void> {
    return transfer('read', this.#fd, this.#path, bufs, this.#dataAt(b, s), 'error');
  }

  /** Fill `bufs` from byte `pos` of the file (inside a block's data: `dataStart`). */
  readAt(pos: number, bufs: readonly Uint8Array[]): Promise<void> {
    return transfer('read', this.#fd, this.#path, bufs, pos, 'error');
  }

  write(b: number, s: number, bufs: readonly Uint8Array[]): Promise<void> {
    return this.#writeData(bufs, this.#dataAt(b, s));
  }

  /** Blocks' data, at byte `pos` of the file: around the page cache where opened so and it fits. */
  #writeData(bufs: readonly Uint8Array[], pos: number): Promise<void> {
    const buffered = () => transfer('write', this.#fd, this.#path, bufs, pos, 'error');
    return this.#direct ? this.#direct.write(bufs, pos, buffered) : buffered();
  }

  /** After data was written to an allocated block: its sectors' bits, set on disk. */
  markWritten(b: number, s: number, count: number): Promise<void> | undefined {
    if (this.#full[b] === 1) return undefined;
    return this.#lockBlock(b, async () => {
      const bm = await this.bitmap(b);
      if (allSet(bm, s, count)) return;
      // Bits are set only once their data is written, so a bitmap on disk never claims a
      // sector whose data is not there.
      const next = bm.slice();
      setBits(next, s, count);
      await pwrite(this.#fd, this.path, next, this.bat[b]! * VHD_SECTOR);
      this.#bitmaps[b] = next;
      if (allSet(next, 0, this.sectorsIn(b))) this.#full[b] = 1;
    });
  }

  /**
   * Allocate block `b` with `bufs` written at its sector `s`. A differencing image marks only
   * those sectors (the rest still comes from the parent); an image with no parent marks the
   * whole block, whose other sectors read as the zeros of new file space. Returns false if the
   * block was allocated by another request meanwhile (write to it then). Allocations of
   * different blocks run side by side: each waits only for its place in the file.
   */
  allocate(b: number, s: number, bufs: readonly Uint8Array[]): Promise<boolean> {
    if (this.isAllocated(b)) return Promise.resolve(false);
    const other = this.#allocating.get(b);
    if (other) return other.then(() => false, () => false);
    let bm = this.#wholeBitmap;
    if (this.type === 'differencing') {
      let count = 0;
      for (const x of bufs) count += x.byteLength / VHD_SECTOR;
      bm = new Uint8Array(this.#bitmapBytes);
      setBits(bm, s, count);
    }
    // A failed data write leaves its place as unused space: nothing points at it.
    const write = (start: number): Promise<void> => this.#writeData(bufs, start + this.#bitmapBytes + s * VHD_SECTOR).then(() => {
      this.bat[b] = start / VHD_SECTOR;
      this.#bitmaps[b] = bm;
      if (bm === this.#wholeBitmap || allSet(bm, 0, this.sectorsIn(b))) this.#full[b] = 1;
      this.#pending.add(b);
      if (this.#pending.size >= PENDING_LIMIT) this.#writeBack().catch(() => {});
    });
    let place: number | Promise<number>;
    try {
      place = this.#place();
    } catch (e) {
      return Promise.reject(e);
    }
    const done = typeof place === 'number' ? write(place) : place.then(write);
    this.#allocating.set(b, done);
    void done.finally(() => this.#allocating.delete(b)).catch(() => {});
    return done.then(() => true);
  }

  /**
   * The next block's place in the file. At once (no async step: the common case, as a raw
   * file's write has none) when the file is already long enough and no other placing waits;
   * otherwise in turn, after the file was extended (if that fails, nothing was placed and the
   * disk is full).
   */
  #place(): number | Promise<number> {
    if (this.#waitingToPlace === 0 && this.#restoring === 0) {
      const start = this.#nextStart();
      if (start + this.#bitmapBytes + this.blockSize + FOOTER_BYTES <= this.#grow.size) {
        this.#placed(start);
        // Less than half of the space extended ahead left: the next extension starts now.
        const end = this.#nextFree + FOOTER_BYTES;
        if (this.#grow.nearing(end)) this.#grow.start(end + this.#grow.ahead);
        return start;
      }
    }
    this.#waitingToPlace++;
    const run = this.#placing.then(async () => {
      const start = this.#nextStart();
      await this.#grow.reach(start + this.#bitmapBytes + this.blockSize + FOOTER_BYTES);
      this.#placed(start);
      return start;
    }).finally(() => this.#waitingToPlace--);
    this.#placing = run.catch(() => {});
    return run;
  }

  /**
   * Where the next block starts: its data aligned (`#dataAlign`, a page at least, so that a
   * 4 KiB read or write touches one page of the page cache, not two), its bitmap just before.
   * The gap left is a hole (or holds the old footer).
   */
  #nextStart(): number {
    const start = Math.ceil((this.#nextFree + this.#bitmapBytes) / this.#dataAlign) * this.#dataAlign - this.#bitmapBytes;
    if (start > MAX_BLOCK_START) throw new VhdError(this.path, 'BAT', `no block can start at byte ${start}, past what a BAT entry addresses`, 'ENOSPC');
    return start;
  }

  #placed(start: number): void {
    this.#nextFree = start + this.#bitmapBytes + this.blockSize;
    this.#tailDirty = true;
  }

  /** Every allocation started so far, settled. */
  async #allocated(): Promise<void> {
    while (this.#allocating.size > 0) await Promise.allSettled(this.#allocating.values());
  }

  /**
   * Write the bitmaps and BAT entries of blocks allocated in memory (one write-back at a time);
   * on failure they stay pending for the next one.
   */
  #writeBack(): Promise<void> {
    const run = this.#writingBack.then(async () => {
      if (this.#pending.size === 0) return;
      const blocks = [...this.#pending];
      this.#pending = new Set();
      try {
        // Bitmaps first (under each block's lock: one written for a later write to the block, by
        // markWritten, is not overtaken by this older one), then the BAT entries: a block's
        // bitmap space may hold the old footer's bytes until then, which no BAT entry may expose.
        await Promise.all(blocks.map((b) => {
          const write = () => pwrite(this.#fd, this.path, this.#bitmaps[b]!, this.bat[b]! * VHD_SECTOR);
          // A block allocated whole is never marked again: no later bitmap to keep order with.
          return this.#bitmaps[b] === this.#wholeBitmap ? write() : this.#lockBlock(b, write);
        }));
        const entries = new Map(blocks.map((b) => [b, this.bat[b]!]));
        // Blocks allocated meanwhile (the new #pending) have no bitmap written: still unused on disk.
        await Promise.all(batRuns(this.bat, entries, BAT_RUN_GAP, this.#pending).map((r) => pwrite(this.#fd, this.path, r.bytes, this.header!.tableOffset + r.first * VHD_SECTOR)));
      } catch (e) {
        for (const b of blocks) this.#pending.add(b);
        throw e;
      }
    });
    this.#writingBack = run.catch(() => {});
    return run;
  }

  /**
   * Cut the file after the last block and write the footer there (durably, with `sync`). In
   * turn with the placing of blocks: none is placed meanwhile (not even at once), so the cut
   * spares every block placed so far, and a later block's bitmap (which may go where this
   * footer goes) is written after it.
   */
  #restoreTail(sync = true): Promise<void> {
    this.#restoring++;
    const run = this.#placing.then(async () => {
      await this.#grow.cut(this.#nextFree + FOOTER_BYTES);
      await pwrite(this.#fd, this.path, this.#footerBytes, this.#nextFree);
      if (sync) await datasync(this.#fd, this.path);
      this.#tailDirty = false;
    }).finally(() => this.#restoring--);
    this.#placing = run.catch(() => {});
    return run;
  }


  #lockBlock(b: number, fn: () => Promise<void>): Promise<void> {
    const prev = this.#blockLocks.get(b) ?? Promise.resolve();
    const p = prev.then(fn);
    const tail = p.catch(() => {});
    this.#blockLocks.set(b, tail);
    void tail.then(() => {
      if (this.#blockLocks.get(b) === tail) this.#blockLocks.delete(b);
    });
    return p;
  }

  /** Parent locators' data, read and resolved against this file's directory, in header order. */
  async parentPaths(): Promise<string[]> {
    const out: string[] = [];
    for (const l of this.header?.locators ?? []) {
      const data = new Uint8Array(l.length);
      await pread(this.#fd, this.path, data, l.offset);
      const p = decodeLocator(l.code, data, this.path);
      if (p !== undefined) out.push(p);
    }
    return out;
  }

  async flush(): Promise<void> {
    if (this.readOnly) return;
    await this.#allocated();
    await this.#writeBack();
    if (this.#tailDirty) await this.#restoreTail(false);
    await datasync(this.#fd, this.path);
  }

  async close(): Promise<void> {
    const fd = this.#fd;
    if (fd < 0) return;
    await this.#allocated();
    if (!this.readOnly) {
      // Blocks' metadata and the footer go back; a close that fails here leaves what open repairs.
      await this.#writeBack().catch(() => {});
      if (this.#tailDirty) await this.#restoreTail(false).catch(() => {});
    }
    // No ftruncate may reach the descriptor once it is closed (and maybe reused).
    await this.#grow.settled();
    await this.#direct?.close().catch(() => {});
    this.#fd = -1;
    await closeP(fd).catch((e: NodeJS.ErrnoException) => {
      throw fsError('close', this.path, e);
    });
  }
}
