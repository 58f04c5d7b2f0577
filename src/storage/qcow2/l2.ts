// The guest-to-file cluster map: the L1 table (in memory) and L2 tables (loaded on demand,
// cached). Changes are made in memory at once, so reads see them, and reach the file only when
// the disk flushes (qcow2.ts orders that: data and refcounts synced, then L2 entries, synced,
// then L1 entries), which is what makes a crash leave at most leaked clusters.
import type { ImageFile } from './file.js';
import { Qcow2Error } from './errors.js';
import type { Qcow2Header } from './header.js';

const COPIED = 0x80000000; // bit 63, in the high word
const COMPRESSED = 0x40000000; // bit 62
const OFFSET_MASK_HI = 0x00ffffff; // bits 32..55
/** L2 tables kept in memory; only clean ones are dropped. */
const L2_CACHE = 128;

export type Mapping =
  | { kind: 'unallocated' }
  /** Reads as zeros (the v3 zero flag); `host` is a preallocated cluster or 0. */
  | { kind: 'zero'; host: number }
  /** `copied`: refcount is exactly 1, so the cluster may be written in place. */
  | { kind: 'data'; host: number; copied: boolean }
  | { kind: 'compressed'; host: number; bytes: number };

const UNALLOCATED: Mapping = { kind: 'unallocated' };

interface L2Table {
  raw: Uint8Array;
  view: DataView;
  /**
   * Entries changed since the last write-back, as the range [lo, hi] that writeL2 writes in one
   * go (lo > hi: none); all of them for a new table. A range, not a set: a set of thousands of
   * entries grew (and was rehashed) on every allocating write.
   */
  all: boolean;
  lo: number;
  hi: number;
}

const isDirty = (t: L2Table): boolean => t.all || t.lo <= t.hi;

/** The host offset in a standard L2 (or L1) entry's words: bits 9..55. */
const hostOf = (hi: number, lo: number): number => (hi & OFFSET_MASK_HI) * 2 ** 32 + ((lo & 0xfffffe00) >>> 0);

export class ClusterMap {
  readonly #file: ImageFile;
  readonly #h: Qcow2Header;
  readonly #cs: number;
  /** log2 of the entries of an L2 table. */
  readonly #l2Bits: number;
  readonly #l1: number[];
  readonly #l1Dirty = new Set<number>();
  readonly #l2 = new Map<number, L2Table | Promise<L2Table>>();
  /** Tables in #l2 with changes not written back: counted as they change, asked per allocation. */
  #dirtyTables = 0;
  /** Metadata ranges no data cluster or L2 table may overlap: [start, end). */
  readonly #reserved: [number, number][];

  private constructor(file: ImageFile, h: Qcow2Header, l1: number[]) {
    this.#file = file;
    this.#h = h;
    this.#cs = 2 ** h.clusterBits;
    this.#l2Bits = h.clusterBits - 3;
    this.#l1 = l1;
    this.#reserved = [
      [0, this.#cs],
      [h.l1TableOffset, h.l1TableOffset + h.l1Size * 8],
      [h.refcountTableOffset, h.refcountTableOffset + h.refcountTableClusters * this.#cs],
    ];
  }

  static async load(file: ImageFile, h: Qcow2Header): Promise<ClusterMap> {
    const cs = 2 ** h.clusterBits;
    const entries = Math.ceil(h.size / (cs * (cs / 8)));
    const raw = new Uint8Array(entries * 8);
    await file.read(h.l1TableOffset, [raw]);
    const v = new DataView(raw.buffer);
    const l1: number[] = [];
    for (let i = 0; i < entries; i++) l1.push(hostOf(v.getUint32(i * 8), v.getUint32(i * 8 + 4)));
    return new ClusterMap(file, h, l1);
  }

  get dirtyTables(): number {
    return this.#dirtyTables;
  }

  /** The mapping of guest cluster `gc`: at once if its L2 table is in memory. Throws a corrupt pointer's error. */
  lookup(gc: number): Mapping | Promise<Mapping> {
    const l1i = gc >>> this.#l2Bits;
    if (this.#l1[l1i] === 0) return UNALLOCATED;
    const t = this.#table(l1i);
    return t instanceof Promise ? t.then((x) => this.#decode(x, gc)) : this.#decode(t, gc);
  }

  /**
   * The file offset of guest cluster `gc` if it is a data cluster (with `copied`: one written in
   * place) whose table is in memory and whose entry is sound; -1 otherwise (then `lookup` says
   * what it is, or why it is refused). The per-request path: no object made, nothing thrown.
   */
  dataHost(gc: number, copied: boolean): number {
    const l1i = gc >>> this.#l2Bits;
    if (this.#l1[l1i] === 0) return -1;
    const t = this.#l2.get(l1i);
    if (t === undefined || t instanceof Promise) return -1;
    const i = gc & ((1 << this.#l2Bits) - 1);
    const hi = t.view.getUint32(i * 8);
    const lo = t.view.getUint32(i * 8 + 4);
    if (hi & COMPRESSED || (copied && !(hi & COPIED)) || this.#readsZero(lo)) return -1;
    const host = hostOf(hi, lo);
    return host !== 0 && this.#clusterFits(host) ? host : -1;
  }

  /** Whether guest cluster `gc` has an L2 table, in which `set` can record it. */
  hasTable(gc: number): boolean {
    return this.#l1[gc >>> this.#l2Bits] !== 0;
  }

  /** A new, empty L2 table at `host` (a cluster just allocated) for guest cluster `gc`. */
  addTable(gc: number, host: number): void {
    const l1i = gc >>> this.#l2Bits;
    const raw = new Uint8Array(this.#cs);
    this.#l2.set(l1i, { raw, view: new DataView(raw.buffer), all: true, lo: 1, hi: 0 });
    this.#dirtyTables++;
    this.#l1[l1i] = host;
    this.#l1Dirty.add(l1i);
  }

  /** Map guest cluster `gc` to the data cluster at `host` (refcount 1), in memory: at once if its table is in memory. */
  set(gc: number, host: number): void | Promise<void> {
    const t = this.#table(gc >>> this.#l2Bits);
    if (t instanceof Promise) return t.then((x) => this.#put(x, gc, host));
    this.#put(t, gc, host);
  }

  #put(t: L2Table, gc: number, host: number): void {
    const i = gc & ((1 << this.#l2Bits) - 1);
    t.view.setUint32(i * 8, COPIED + Math.floor(host / 2 ** 32));
    t.view.setUint32(i * 8 + 4, host % 2 ** 32);
    if (t.all) return;
    if (t.lo > t.hi) {
      this.#dirtyTables++;
      t.lo = t.hi = i;
    } else if (i < t.lo) t.lo = i;
    else if (i > t.hi) t.hi = i;
  }

  /** Write changed L2 entries (whole new tables) to the file. */
  async writeL2(): Promise<void> {
    // Entries stay dirty until written (a failed write-back is retried by the next flush);
    // nothing changes them meanwhile, as allocations wait for the flush.
    const writes: Promise<void>[] = [];
    const tables: L2Table[] = [];
    for (const [l1i, t] of this.#l2) {
      if (t instanceof Promise) continue;
      const base = this.#l1[l1i]!;
      if (t.all) writes.push(this.#file.write(base, [t.raw]));
      // One write from the first changed entry to the last (the ones between as they are).
      else if (t.lo <= t.hi) writes.push(this.#file.write(base + t.lo * 8, [t.raw.slice(t.lo * 8, t.hi * 8 + 8)]));
      else continue;
      tables.push(t);
    }
    await Promise.all(writes);
    for (const t of tables) {
      t.all = false;
      t.lo = 1;
      t.hi = 0;
    }
    this.#dirtyTables -= tables.length;
  }

  /** Write changed L1 entries (each pointing at a table already written and synced). */
  async writeL1(): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const l1i of this.#l1Dirty) {
      const e = new Uint8Array(8);
      const v = new DataView(e.buffer);
      v.setUint32(0, COPIED + Math.floor(this.#l1[l1i]! / 2 ** 32));
      v.setUint32(4, this.#l1[l1i]! % 2 ** 32);
      writes.push(this.#file.write(this.#h.l1TableOffset + l1i * 8, [e]));
    }
    await Promise.all(writes);
    this.#l1Dirty.clear();
  }

  get l1Dirty(): boolean {
    return this.#l1Dirty.size > 0;
  }

  /** Whether a cluster the image points at lies in the file and off the header and tables. */
  #clusterFits(off: number): boolean {
    return off % this.#cs === 0 && off < this.#file.size && !this.#overlapsTables(off);
  }

  /** Check that a cluster the image points at lies in the file and off the header and tables; `field` names the pointer. */
  #checkCluster(field: () => string, off: number): void {
    if (this.#clusterFits(off)) return;
    const bad = off % this.#cs !== 0 ? 'is not cluster-aligned'
      : off >= this.#file.size ? `is past the end of the file (${this.#file.size} bytes)`
      : 'overlaps the header, the L1 table or the refcount table';
    throw new Qcow2Error('EIO', this.#file.path, field(), `cluster at ${off} ${bad}`);
  }

  #overlapsTables(off: number): boolean {
    for (const [s, e] of this.#reserved) if (off < e && s < off + this.#cs) return true;
    return false;
  }

  #table(l1i: number): L2Table | Promise<L2Table> {
    const have = this.#l2.get(l1i);
    if (have) return have;
    const off = this.#l1[l1i]!;
    this.#checkCluster(() => `L1[${l1i}]`, off);
    if (off + this.#cs > this.#file.size) throw new Qcow2Error('EIO', this.#file.path, `L1[${l1i}]`, `L2 table at ${off} reaches past the end of the file`);
    const load = (async () => {
      const raw = new Uint8Array(this.#cs);
      await this.#file.read(off, [raw]);
      const t: L2Table = { raw, view: new DataView(raw.buffer), all: false, lo: 1, hi: 0 };
      this.#l2.set(l1i, t);
      return t;
    })();
    load.catch(() => this.#l2.delete(l1i));
    this.#evict();
    this.#l2.set(l1i, load);
    return load;
  }

  #evict(): void {
    if (this.#l2.size < L2_CACHE) return;
    for (const [k, t] of this.#l2) {
      if (!(t instanceof Promise) && !isDirty(t)) {
        this.#l2.delete(k);
        return;
      }
    }
  }

  #decode(t: L2Table, gc: number): Mapping {
    const i = gc & ((1 << this.#l2Bits) - 1);
    const hi = t.view.getUint32(i * 8);
    const lo = t.view.getUint32(i * 8 + 4);
    if (hi & COMPRESSED) return this.#compressed(gc, hi, lo);
    const host = hostOf(hi, lo);
    if (this.#readsZero(lo)) return { kind: 'zero', host };
    if (host === 0) return UNALLOCATED;
    this.#checkCluster(() => `L2 entry of guest cluster ${gc}`, host);
    return { kind: 'data', host, copied: (hi & COPIED) !== 0 };
  }

  /** An entry's v3 zero flag (bit 0): the cluster reads as zeros. */
  #readsZero(lo: number): boolean {
    return this.#h.version === 3 && (lo & 1) !== 0;
  }

  /** Compressed descriptor: offset in bits 0..x-1 and (sectors - 1) in bits x..61, x = 62 - (cluster_bits - 8). */
  #compressed(gc: number, hi: number, lo: number): Mapping {
    const x = BigInt(62 - (this.#h.clusterBits - 8));
    const e = (BigInt(hi) << 32n) | BigInt(lo);
    const host = Number(e & ((1n << x) - 1n));
    const sectors = Number((e >> x) & ((1n << (62n - x)) - 1n)) + 1;
    const bytes = sectors * 512 - (host % 512);
    if (host < this.#cs || host >= this.#file.size) {
      throw new Qcow2Error('EIO', this.#file.path, `L2 entry of guest cluster ${gc}`, `compressed data at ${host} is outside the file after the header`);
    }
    return { kind: 'compressed', host, bytes };
  }
}
