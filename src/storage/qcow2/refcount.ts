// Refcounts: the refcount table (in memory, as it is small) and refcount blocks (loaded when
// needed). A new cluster's refcount is set in memory and written back with the others at the
// disk's next flush, before any table that points at the cluster (qcow2.ts orders it); a
// release is written through. New clusters are appended at the end of the file; a cluster freed
// in the middle stays a hole, as a leak-free unreferenced cluster with refcount 0.
import type { ImageFile } from './file.js';
import { Qcow2Error } from './errors.js';
import type { Qcow2Header } from './header.js';

/** Bits 9..55 of a table entry hold the offset; the rest are reserved. */
const OFFSET_MASK_HI = 0x00ffffff;
/** Refcount blocks cached: each covers (cluster size)² * 8 / refcount bits of the file. */
const BLOCK_CACHE = 64;

export class Refcounts {
  readonly #file: ImageFile;
  readonly #cs: number;
  readonly #bits: number;
  /** log2 of the bytes of file one refcount block covers. */
  readonly #blockShift: number;
  readonly #table: number[];
  readonly #tableOffset: number;
  readonly #blocks = new Map<number, Uint8Array | Promise<Uint8Array>>();
  /** Where the next appended cluster goes. */
  #end: number;
  /** Per refcount block (by table index): the byte range of it changed in memory and not written yet. */
  readonly #dirty = new Map<number, { lo: number; hi: number }>();
  /** Refcount blocks made since the last write-back, which the table on disk does not point at yet (by table index). */
  readonly #newBlocks = new Set<number>();
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(file: ImageFile, h: Qcow2Header, table: number[]) {
    this.#file = file;
    this.#cs = 2 ** h.clusterBits;
    this.#bits = 2 ** h.refcountOrder;
    this.#blockShift = h.clusterBits + (h.clusterBits + 3 - h.refcountOrder);
    this.#table = table;
    this.#tableOffset = h.refcountTableOffset;
    this.#end = Math.ceil(file.size / this.#cs) * this.#cs;
  }

  /** The refcount table; for a writable image also where appending starts. */
  static async load(file: ImageFile, h: Qcow2Header, writable: boolean): Promise<Refcounts> {
    const cs = 2 ** h.clusterBits;
    const raw = new Uint8Array(h.refcountTableClusters * cs);
    await file.read(h.refcountTableOffset, [raw]);
    const v = new DataView(raw.buffer);
    const table: number[] = [];
    for (let i = 0; i < raw.byteLength / 8; i++) {
      const off = (v.getUint32(i * 8) & OFFSET_MASK_HI) * 2 ** 32 + ((v.getUint32(i * 8 + 4) & 0xfffffe00) >>> 0);
      table.push(off);
    }
    const r = new Refcounts(file, h, table);
    if (writable) await r.#findEnd();
    return r;
  }

  /**
   * Appending starts past the last cluster with a refcount, not just the file's end: a crash
   * between a new cluster's refcount and its data leaves a counted cluster past the end.
   */
  async #findEnd(): Promise<void> {
    let idx = this.#table.length - 1;
    while (idx >= 0 && this.#table[idx] === 0) idx--;
    if (idx < 0) return;
    const block = await this.#block(idx);
    const perBlock = (this.#cs * 8) / this.#bits;
    let i = perBlock - 1;
    while (i >= 0 && this.#entry(block, i) === 0) i--;
    this.#end = Math.max(this.#end, idx * 2 ** this.#blockShift + (i + 1) * this.#cs);
  }

  /** The refcount of the cluster at byte `off` of the file. */
  async get(off: number): Promise<number> {
    const idx = Math.floor(off / 2 ** this.#blockShift);
    if (idx >= this.#table.length || this.#table[idx] === 0) return 0;
    return this.#entry(await this.#block(idx), this.#index(off));
  }

  /**
   * Reserve the next cluster at the end of the file and give it refcount 1 (in memory, written
   * back by `writeBack`); its offset. At once when the refcount block is loaded or new.
   */
  allocate(): number | Promise<number> {
    return this.allocateRun(1) ?? this.#locked(async () => {
      for (;;) {
        const idx = Math.floor(this.#end / 2 ** this.#blockShift);
        if (idx >= this.#table.length) {
          throw new Qcow2Error('ENOSPC', this.#file.path, 'refcount_table_clusters', `the refcount table covers ${this.#table.length} blocks and growing it is not supported`);
        }
        await this.#block(idx);
        const off = this.allocateRun(1);
        if (off !== undefined) return off;
      }
    });
  }

  /**
   * `n` clusters in a row at the end of the file, each given refcount 1 in memory: the first's
   * offset, or undefined (no cluster reserved, though a new refcount block for the file's end
   * may have been placed, written at the next flush) unless their refcount blocks are loaded or new.
   */
  allocateRun(n: number): number | undefined {
    if (!this.#endBlock()) return undefined;
    const off = this.#end;
    const blocks: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const idx = Math.floor((off + i * this.#cs) / 2 ** this.#blockShift);
      const block = idx < this.#table.length && this.#table[idx] !== 0 ? this.#blocks.get(idx) : undefined;
      if (!(block instanceof Uint8Array)) return undefined;
      blocks.push(block);
    }
    for (let i = 0; i < n; i++) this.#setDirty(Math.floor((off + i * this.#cs) / 2 ** this.#blockShift), off + i * this.#cs, blocks[i]!);
    this.#end = off + n * this.#cs;
    return off;
  }

  /**
   * The refcount block for the cluster at the end of the file, if it is loaded; where the
   * table has none for that part of the file, a new one is made in memory and placed there (it
   * covers itself: its own refcount is 1), with no I/O: `writeBack` writes and syncs it before
   * the table entry that points at it. Appending then goes on after it.
   */
  #endBlock(): Uint8Array | undefined {
    const off = this.#end;
    const idx = Math.floor(off / 2 ** this.#blockShift);
    if (idx >= this.#table.length) return undefined;
    if (this.#table[idx] === 0) {
      const block = new Uint8Array(this.#cs);
      this.#putEntry(block, this.#index(off), 1);
      this.#table[idx] = off;
      this.#blocks.set(idx, block);
      this.#dirty.set(idx, { lo: 0, hi: this.#cs });
      this.#newBlocks.add(idx);
      this.#end = off + this.#cs;
      return block;
    }
    const block = this.#blocks.get(idx);
    return block instanceof Uint8Array ? block : undefined;
  }

  /** Refcount 1 for the new cluster at `off`, in memory; its bytes noted for the write-back. */
  #setDirty(idx: number, off: number, block: Uint8Array): void {
    const i = this.#index(off);
    if (this.#entry(block, i) !== 0) {
      throw new Qcow2Error('EIO', this.#file.path, 'refcount block', `cluster at ${off} has refcount ${this.#entry(block, i)} where 0 was expected (corrupt refcounts)`);
    }
    this.#putEntry(block, i, 1);
    const lo = Math.floor((i * this.#bits) / 8);
    const hi = lo + Math.max(1, this.#bits / 8);
    const d = this.#dirty.get(idx);
    if (d) {
      d.lo = Math.min(d.lo, lo);
      d.hi = Math.max(d.hi, hi);
    } else this.#dirty.set(idx, { lo, hi });
  }

  /** Refcounts set in memory since the last write-back (or new blocks not in the table yet). */
  get dirty(): boolean {
    return this.#dirty.size > 0 || this.#newBlocks.size > 0;
  }

  /**
   * Write the refcounts set in memory since the last write-back (one write a refcount block);
   * new blocks are written whole, synced, and only then entered in the refcount table. The
   * caller syncs before anything points at the clusters counted.
   */
  async writeBack(): Promise<void> {
    const dirty = [...this.#dirty];
    const added = [...this.#newBlocks];
    this.#dirty.clear();
    this.#newBlocks.clear();
    try {
      await Promise.all(dirty.map(([idx, { lo, hi }]) => {
        const block = this.#blocks.get(idx) as Uint8Array;
        return this.#file.write(this.#table[idx]! + lo, [block.slice(lo, hi)]);
      }));
      if (added.length > 0) {
        await this.#file.sync();
        await Promise.all(added.map((idx) => {
          const entry = new Uint8Array(8);
          new DataView(entry.buffer).setBigUint64(0, BigInt(this.#table[idx]!));
          return this.#file.write(this.#tableOffset + idx * 8, [entry]);
        }));
      }
    } catch (e) {
      for (const [idx, r] of dirty) {
        const d = this.#dirty.get(idx);
        this.#dirty.set(idx, d ? { lo: Math.min(d.lo, r.lo), hi: Math.max(d.hi, r.hi) } : r);
      }
      for (const idx of added) this.#newBlocks.add(idx);
      throw e;
    }
  }

  /** Drop a reference to the cluster at `off` (one no mapping points at any more, durably). */
  release(off: number): Promise<void> {
    return this.#locked(async () => {
      const now = await this.get(off);
      if (now === 0) throw new Qcow2Error('EIO', this.#file.path, 'refcount block', `cluster at ${off} is released but has refcount 0`);
      await this.#set(off, now, now - 1, await this.#block(Math.floor(off / 2 ** this.#blockShift)));
    });
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => {});
    return run;
  }

  #index(off: number): number {
    return Math.floor((off % 2 ** this.#blockShift) / this.#cs);
  }

  /** Update the entry in `block` (loaded) at once; the promise is its write to the file. */
  #set(off: number, expect: number, value: number, block: Uint8Array): Promise<void> {
    const idx = Math.floor(off / 2 ** this.#blockShift);
    const i = this.#index(off);
    const now = this.#entry(block, i);
    if (now !== expect) {
      throw new Qcow2Error('EIO', this.#file.path, 'refcount block', `cluster at ${off} has refcount ${now} where ${expect} was expected (corrupt refcounts)`);
    }
    if (value >= 2 ** Math.min(this.#bits, 53)) {
      throw new Qcow2Error('EOVERFLOW', this.#file.path, 'refcount_order', `refcount ${value} of cluster at ${off} overflows ${this.#bits} bits`);
    }
    this.#putEntry(block, i, value);
    const byte = Math.floor((i * this.#bits) / 8);
    const len = Math.max(1, this.#bits / 8);
    return this.#file.write(this.#table[idx]! + byte, [block.slice(byte, byte + len)]);
  }

  #entry(block: Uint8Array, i: number): number {
    if (this.#bits < 8) return (block[(i * this.#bits) >> 3]! >> ((i * this.#bits) & 7)) & ((1 << this.#bits) - 1);
    let x = 0;
    for (let b = i * (this.#bits / 8); b < (i + 1) * (this.#bits / 8); b++) x = x * 256 + block[b]!;
    return x;
  }

  #putEntry(block: Uint8Array, i: number, value: number): void {
    if (this.#bits < 8) {
      const at = (i * this.#bits) >> 3;
      const shift = (i * this.#bits) & 7;
      const mask = ((1 << this.#bits) - 1) << shift;
      block[at] = (block[at]! & ~mask) | (value << shift);
      return;
    }
    for (let b = (i + 1) * (this.#bits / 8) - 1; b >= i * (this.#bits / 8); b--) {
      block[b] = value % 256;
      value = Math.floor(value / 256);
    }
  }

  #block(idx: number): Promise<Uint8Array> | Uint8Array {
    const have = this.#blocks.get(idx);
    if (have) return have;
    const off = this.#table[idx]!;
    if (off % this.#cs !== 0 || off < this.#cs || off + this.#cs > this.#file.size) {
      throw new Qcow2Error('EIO', this.#file.path, `refcount_table[${idx}]`, `refcount block at ${off} is not a cluster inside the file after the header`);
    }
    const load = (async () => {
      const block = new Uint8Array(this.#cs);
      await this.#file.read(off, [block]);
      this.#blocks.set(idx, block);
      return block;
    })();
    load.catch(() => this.#blocks.delete(idx));
    if (this.#blocks.size >= BLOCK_CACHE) {
      // Only a block with nothing waiting to be written goes.
      for (const k of this.#blocks.keys()) {
        if (!this.#dirty.has(k)) {
          this.#blocks.delete(k);
          break;
        }
      }
    }
    this.#blocks.set(idx, load);
    return load;
  }
}
