// A VHD disk: a leaf image and the parents its locators lead to (at most 30 in all), behind the
// Disk interface blkback serves. Reads use a merged block map: for each block, the chain's
// images that have it allocated, top first, so a read goes straight to the image holding its
// data however deep the chain (unallocated levels are never visited). Writes go to the leaf,
// allocating blocks there (image.ts says in which order, for crash safety).
import { stat } from 'node:fs/promises';
import { XenError } from '../../errors.js';
import { ChainWalk } from '../confine.js';
import { SECTOR_SIZE, checkRange, checkWritable, sgBytes, type LayeredDisk } from '../disk.js';
import { testBit } from './bitmap.js';
import { VHD_MAX_CHAIN, VhdError, uuidString } from './format.js';
import { VhdImage } from './image.js';

const NONE: readonly number[] = Object.freeze([]);

export class VhdDisk implements LayeredDisk {
  readonly sectors: number;
  readonly readOnly: boolean;
  readonly features = { flush: true, discard: false, secureDiscard: false } as const;
  /** Leaf first. */
  readonly images: readonly VhdImage[];
  readonly #leaf: VhdImage;
  readonly #spb: number;
  /** Per block: indexes into images that have it allocated, top first. */
  readonly #owners: (readonly number[])[];
  /**
   * Per block, once a read found that the topmost image holding it has every sector of it
   * (`isFull`, which never reverts): where its data starts in that image's file (-1: not known),
   * and which image. A read inside such a block is then one typed-array lookup and the same
   * pread as a raw file's. Reset whenever the block's owners change.
   */
  readonly #wholeAt: Float64Array;
  readonly #wholeIn: Uint8Array;
  /** A disk made over this one (overDisk) before it took over: told of blocks this one allocates meanwhile. */
  #above: VhdDisk | undefined;
  /** What the first flush waits for (overDisk's `settle`), once. */
  #settle: (() => Promise<void>) | undefined;
  #settled: Promise<void> | undefined;

  /** `under`: the owners of a disk whose images are `images` without the first, which is empty. */
  private constructor(images: VhdImage[], readOnly: boolean, under?: readonly (readonly number[])[]) {
    this.images = images;
    this.#leaf = images[0]!;
    this.readOnly = readOnly;
    this.sectors = Math.floor(this.#leaf.bytes / SECTOR_SIZE);
    this.#spb = this.#leaf.sectorsPerBlock;
    const blocks = this.#leaf.blocks;
    this.#owners = new Array<readonly number[]>(blocks);
    for (let b = 0; b < blocks; b++) this.#owners[b] = under ? shift(under[b] ?? NONE) : this.#ownersOf(b);
    this.#wholeAt = new Float64Array(blocks).fill(-1);
    this.#wholeIn = new Uint8Array(blocks);
  }

  #setOwners(b: number, own: readonly number[]): void {
    this.#owners[b] = own;
    this.#wholeAt[b] = -1;
  }

  /** Indexes of the images that have block b, top first. */
  #ownersOf(b: number): readonly number[] {
    let own: number[] | undefined;
    for (let i = 0; i < this.images.length; i++) if (this.images[i]!.isAllocated(b)) (own ??= []).push(i);
    return own ?? NONE;
  }

  /**
   * Open `path` and its parents (read-only); every file is checked before any I/O is served.
   * With `confine`, every parent must lie in that directory (an SR's): an image brought in from
   * outside cannot name another SR's image, or any file of the host, as its parent (ChainWalk).
   */
  static async open(path: string, opts: { readOnly: boolean; directWrites?: boolean; confine?: string; settle?: () => Promise<void> }): Promise<VhdDisk> {
    const images: VhdImage[] = [];
    try {
      let image = await VhdImage.open(path, { readOnly: opts.readOnly, directWrites: opts.directWrites });
      images.push(image);
      const walk = await ChainWalk.from(path, opts.confine, VHD_MAX_CHAIN - 1);
      while (image.type === 'differencing') {
        const child = image;
        const parentPath = await findParent(child);
        const real = await walk.link(parentPath, (errno, why, what) => {
          throw what === 'chain' ? new VhdError(path, 'chain', why, errno) : new VhdError(child.path, 'parent locator', why, errno);
        });
        const parent = await VhdImage.open(real, { readOnly: true, blockSize: image.blockSize, noFollow: true });
        images.push(parent);
        const want = uuidString(image.header!.parentUuid);
        if (uuidString(parent.uuid) !== want) {
          throw new VhdError(image.path, 'parent uuid', `${want} is not the uuid of ${parentPath} (${uuidString(parent.uuid)})`);
        }
        if (parent.blockSize !== image.blockSize) {
          throw new VhdError(parentPath, 'dynamic header block size', `${parent.blockSize} differs from its child's ${image.blockSize} (${image.path})`);
        }
        image = parent;
      }
    } catch (e) {
      await Promise.all(images.map((i) => i.close().catch(() => {})));
      throw e;
    }
    const disk = new VhdDisk(images, opts.readOnly);
    // What its first flush waits for (a rename that made it a VDI's image, made durable).
    disk.#settle = opts.settle;
    return disk;
  }

  /**
   * A new leaf at `path` over the images of `below`, a disk in use whose leaf is becoming the
   * new leaf's parent (a snapshot under a running guest): no file of `below` is opened again,
   * and what its images cached stays true, as they are only read once the new disk serves.
   * It is made before the guest's I/O pauses, so blocks `below` allocates until then are
   * passed up to it. `settle` is what its first flush waits for (the parent's own flush, the
   * snapshot's rename made durable): a flush of the new disk covers the writes made before it.
   * `drop()` closes only the new leaf (the snapshot was abandoned; `below` goes on).
   */
  static async overDisk(path: string, below: VhdDisk, settle?: () => Promise<void>): Promise<{ disk: VhdDisk; drop(): Promise<void> }> {
    const leaf = await VhdImage.open(path, { readOnly: false });
    let disk: VhdDisk;
    try {
      const parent = below.images[0]!;
      if (leaf.type !== 'differencing' || uuidString(leaf.header!.parentUuid) !== uuidString(parent.uuid)) {
        throw new VhdError(path, 'parent uuid', `is not the uuid of ${parent.path} (${uuidString(parent.uuid)})`);
      }
      if (leaf.blockSize !== parent.blockSize) throw new VhdError(path, 'dynamic header block size', `${leaf.blockSize} differs from its parent's ${parent.blockSize}`);
      if (below.images.length + 1 > VHD_MAX_CHAIN) throw new VhdError(path, 'chain', `would be deeper than ${VHD_MAX_CHAIN} images`, 'EMLINK');
      if (below.#above) throw new XenError('EBUSY', `${parent.path}: another disk is being made over it`);
      disk = new VhdDisk([leaf, ...below.images], false, below.#owners);
    } catch (e) {
      await leaf.close().catch(() => {});
      throw e;
    }
    disk.#settle = settle;
    below.#above = disk;
    return {
      disk,
      drop: async () => {
        if (below.#above === disk) below.#above = undefined;
        await leaf.close();
      },
    };
  }

  /**
   * The leaf of `top`, a disk in use, over the images of `below` instead of its own parents,
   * which hold the same data for it (a migration's leaf over the copy of its base): the leaf's
   * image object is shared, so both see each other's writes, and blocks `top` allocates until
   * it is no longer used are passed up. `release()` closes `top`'s other images once it is not
   * used any more.
   */
  static rebase(top: VhdDisk, below: VhdDisk): { disk: VhdDisk; release(): Promise<void> } {
    const leaf = top.images[0]!;
    if (top.#above) throw new XenError('EBUSY', `${leaf.path}: another disk is being made over it`);
    if (leaf.blockSize !== below.images[0]!.blockSize) throw new VhdError(leaf.path, 'dynamic header block size', `${leaf.blockSize} differs from its new parent's ${below.images[0]!.blockSize}`);
    if (below.images.length + 1 > VHD_MAX_CHAIN) throw new VhdError(leaf.path, 'chain', `would be deeper than ${VHD_MAX_CHAIN} images`, 'EMLINK');
    const disk = new VhdDisk([leaf, ...below.images], false);
    top.#above = disk;
    return { disk, release: async () => void await Promise.all(top.images.slice(1).map((i) => i.close())) };
  }

  async *leafExtents(): AsyncGenerator<readonly [number, number]> {
    const leaf = this.#leaf;
    for (let b = 0; b < leaf.blocks; b++) {
      if (!leaf.isAllocated(b)) continue;
      const n = leaf.sectorsIn(b);
      const base = b * this.#spb;
      if (leaf.isFull(b)) {
        yield [base, n];
        continue;
      }
      const bm = await leaf.bitmap(b);
      let run = -1;
      for (let s = 0; s <= n; s++) {
        const set = s < n && testBit(bm, s);
        if (set && run < 0) run = s;
        else if (!set && run >= 0) {
          yield [base + run, s - run];
          run = -1;
        }
      }
    }
  }

  holdsData(sector: number, count: number): boolean {
    const last = Math.floor((sector + count - 1) / this.#spb);
    for (let b = Math.floor(sector / this.#spb); b <= last; b++) if (this.#owners[b]!.length > 0) return true;
    return false;
  }

  read(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void {
    const count = sgBytes(bufs) / SECTOR_SIZE;
    checkRange(this, sector, count);
    const b = Math.floor(sector / this.#spb);
    const s = sector - b * this.#spb;
    if (s + count <= this.#spb) {
      const at = this.#wholeAt[b]!;
      if (at >= 0) return this.images[this.#wholeIn[b]!]!.readAt(at + s * SECTOR_SIZE, bufs);
      return this.#readBlock(b, s, count, bufs);
    }
    return this.#split(sector, count, bufs, (blk, first, n, part) => this.#readBlock(blk, first, n, part));
  }

  write(sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    checkWritable(this);
    const count = sgBytes(bufs) / SECTOR_SIZE;
    checkRange(this, sector, count);
    const b = Math.floor(sector / this.#spb);
    const s = sector - b * this.#spb;
    // The common case, inside one block the leaf has whole: one write, as a raw file's.
    if (s + count <= this.#spb) return this.#leaf.isFull(b) ? this.#leaf.write(b, s, bufs) : this.#writeBlock(b, s, count, bufs);
    return this.#split(sector, count, bufs, (blk, first, n, part) => this.#writeBlock(blk, first, n, part));
  }

  /** Run `fn` on each block's share of a request, all at once. */
  async #split(sector: number, count: number, bufs: readonly Uint8Array[],
    fn: (b: number, s: number, n: number, part: Uint8Array[]) => Promise<void> | void): Promise<void> {
    const jobs: (Promise<void> | void)[] = [];
    let off = 0;
    while (off < count) {
      const at = sector + off;
      const b = Math.floor(at / this.#spb);
      const s = at - b * this.#spb;
      const n = Math.min(count - off, this.#spb - s);
      jobs.push(fn(b, s, n, sgSlice(bufs, off * SECTOR_SIZE, n * SECTOR_SIZE)));
      off += n;
    }
    await Promise.all(jobs);
  }

  #readBlock(b: number, s: number, count: number, bufs: readonly Uint8Array[]): Promise<void> | void {
    const own = this.#owners[b]!;
    if (own.length === 0) return zero(bufs);
    const top = this.images[own[0]!]!;
    if (top.isFull(b)) {
      this.#wholeAt[b] = top.dataStart(b);
      this.#wholeIn[b] = own[0]!;
      return top.read(b, s, bufs);
    }
    return this.#readMixed(b, s, count, bufs, own);
  }

  /** Sector by sector: each run from the topmost image whose bitmap has it, zeros where none. */
  #readMixed(b: number, s: number, count: number, bufs: readonly Uint8Array[], own: readonly number[]): Promise<void> | void {
    const maps = own.map((i) => this.images[i]!.bitmap(b));
    // Bitmaps are cached after their first use: then no await at all.
    if (maps.some((m) => m instanceof Promise)) {
      return Promise.all(maps).then((loaded) => this.#readRuns(b, s, count, bufs, own, loaded));
    }
    return this.#readRuns(b, s, count, bufs, own, maps as Uint8Array[]);
  }

  #readRuns(b: number, s: number, count: number, bufs: readonly Uint8Array[], own: readonly number[], maps: readonly Uint8Array[]): Promise<void> | void {
    const jobs: Promise<void>[] = [];
    const levelOf = (at: number): number => {
      for (let k = 0; k < maps.length; k++) if (testBit(maps[k]!, at)) return k;
      return -1;
    };
    let i = 0;
    while (i < count) {
      const level = levelOf(s + i);
      let n = 1;
      while (i + n < count && levelOf(s + i + n) === level) n++;
      const part = sgSlice(bufs, i * SECTOR_SIZE, n * SECTOR_SIZE);
      if (level < 0) zero(part);
      else jobs.push(this.images[own[level]!]!.read(b, s + i, part));
      i += n;
    }
    if (jobs.length === 1) return jobs[0];
    if (jobs.length > 1) return Promise.all(jobs).then(() => undefined);
  }

  async #writeBlock(b: number, s: number, count: number, bufs: readonly Uint8Array[]): Promise<void> {
    const leaf = this.#leaf;
    // Another request's allocation of the block may fail (a full disk): then try ours.
    while (!leaf.isAllocated(b)) {
      if (await leaf.allocate(b, s, bufs).finally(() => this.#noteAllocated(b))) return;
    }
    await leaf.write(b, s, bufs);
    await leaf.markWritten(b, s, count);
  }

  /** Once the leaf has a block (even if its footer's move then failed), reads start there. */
  #noteAllocated(b: number): void {
    if (this.#leaf.isAllocated(b) && this.#owners[b]![0] !== 0) this.#setOwners(b, [0, ...this.#owners[b]!]);
    if (this.#above) this.#above.#setOwners(b, this.#above.#ownersOf(b));
  }

  async flush(): Promise<void> {
    if (this.#settle) {
      const settle = this.#settle;
      this.#settled ??= settle().catch((e: unknown) => {
        this.#settled = undefined;
        throw e;
      });
      await this.#settled;
      if (this.#settle === settle) this.#settle = undefined;
    }
    await this.#leaf.flush();
  }

  discard(): never {
    throw new XenError('EOPNOTSUPP', `${this.#leaf.path}: discard is not supported on VHD images`);
  }

  async close(): Promise<void> {
    await Promise.all(this.images.map((i) => i.close()));
  }
}

/** The first parent locator that names an existing file (libvhd's order). */
async function findParent(image: VhdImage): Promise<string> {
  const paths = await image.parentPaths();
  if (paths.length === 0) throw new VhdError(image.path, 'parent locator', 'a differencing image has no readable parent locator', 'ENOENT');
  for (const p of paths) {
    if (await stat(p).then((st) => st.isFile() || st.isBlockDevice(), () => false)) return p;
  }
  throw new VhdError(image.path, 'parent locator', `no parent at ${[...new Set(paths)].join(' or ')}`, 'ENOENT');
}

function shift(own: readonly number[]): readonly number[] {
  return own.length === 0 ? NONE : own.map((i) => i + 1);
}

function zero(bufs: readonly Uint8Array[]): void {
  for (const b of bufs) b.fill(0);
}

/** The buffers covering bytes [off, off+len) of a scatter-gather list. */
function sgSlice(bufs: readonly Uint8Array[], off: number, len: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const b of bufs) {
    if (len === 0) break;
    if (off >= b.byteLength) {
      off -= b.byteLength;
      continue;
    }
    const n = Math.min(len, b.byteLength - off);
    out.push(off === 0 && n === b.byteLength ? b : b.subarray(off, off + n));
    off = 0;
    len -= n;
  }
  return out;
}
