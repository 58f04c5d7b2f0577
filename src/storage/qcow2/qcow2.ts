// A qcow2 image (version 3, and version 2 read and written the same way) as a Disk. Reads walk
// the cluster map: data clusters are read in place (contiguous ones in one system call), zero
// and unallocated clusters read as zeros or from the backing file, compressed ones are inflated.
// Writes to a cluster the image owns (refcount 1) go in place; any other write allocates a new
// cluster at the end of the file and copies the rest of the cluster from what it replaces (the
// backing file, zeros, or a shared or compressed cluster).
//
// Crash safety: a new cluster's data is written; its refcount and L2 entry are changed in
// memory only (a refcount block the file grows into is made in memory too). A flush then writes
// the changed refcounts and syncs (data and refcounts durable; new refcount blocks are synced
// before the refcount table's entries for them are written), writes the changed L2 entries and
// new L2 tables, syncs, writes the L1 entries of new tables, syncs. So no table on disk ever points at a cluster whose data or refcount is not
// durable, whether the process is killed or the machine loses power: a crash loses only
// unflushed writes, and at most leaks clusters whose refcount was written (`qemu-img check`
// calls them leaked, not corrupt); data past the last counted cluster is unused space, which
// appending skips (the file's end). Clusters a write replaced are released by the flush that
// unmapped them, after its last sync, and synced once more. Lazy refcounts are never used.
import { inflateRawSync, constants as zc } from 'node:zlib';
import { XenError, isXenError } from '../../errors.js';
import { ChainWalk } from '../confine.js';
import { SECTOR_SIZE, checkRange, checkWritable, sgBytes, type Disk, type LayeredDisk } from '../disk.js';
import { RawFile } from '../raw.js';
import { MAX_CHAIN_DEPTH, backingPath, probeFormat } from './backing.js';
import { Qcow2Error } from './errors.js';
import { ImageFile } from './file.js';
import { AUTOCLEAR_OFFSET, INCOMPAT_CORRUPT, MAX_CLUSTER_BITS, parseHeader, type Qcow2Header } from './header.js';
import { ClusterMap, type Mapping } from './l2.js';
import { Refcounts } from './refcount.js';

/** Changed L2 tables held in memory before a write-back is started without a flush. */
const DIRTY_TABLES_LIMIT = 32;
/** A writable image's file is extended this far ahead of its appends (file.ts says why), at least 16 clusters. */
const GROW_AHEAD_BYTES = 16 * 2 ** 20;

export interface Qcow2OpenOptions {
  readOnly: boolean;
  /** The walk of the chain this image is the backing file of (its links so far: loops, depth, confinement). */
  walk?: ChainWalk;
  /**
   * The backing file as an open disk, instead of opening it again: a snapshot under a running
   * guest puts the new image over the disk the guest was using (its file is now the base). It
   * is only read from then on, and closed with this disk.
   */
  backing?: Disk;
  /** What the first flush waits for, once: the backing disk's own flush and the snapshot made durable (with `backing`), or a rename that made this image a VDI's. */
  settle?: () => Promise<void>;
  /**
   * With `backing`: resolves once the backing disk has no write in flight. A write that fills
   * the rest of a new cluster from the backing disk (copy-on-write) waits for it, or it could
   * copy a sector an earlier write is still changing there.
   */
  backingQuiet?: Promise<void>;
  /**
   * Every backing file must lie in this directory (an SR's): an image brought in from outside
   * cannot name another SR's image, or any file of the host (read as raw), as its backing file.
   */
  confine?: string;
}

export class Qcow2Disk implements LayeredDisk {
  readonly sectors: number;
  readonly features;
  readonly #file: ImageFile;
  readonly #h: Qcow2Header;
  readonly #cs: number;
  readonly #map: ClusterMap;
  readonly #refcounts: Refcounts;
  /** Guest clusters being allocated: a second write to one waits, then finds it mapped. */
  readonly #allocating = new Map<number, Promise<void>>();
  /** Clusters unmapped since the last flush, released once the unmapping is durable. */
  #releases: Mapping[] = [];
  /** Allocations in progress, and what a flush waiting for them to drain resolves. */
  #allocs = 0;
  #drained: (() => void) | undefined;
  /** Set while a flush writes metadata back: allocations wait for it. */
  #gate: Promise<void> | undefined;
  #flushChain: Promise<void> = Promise.resolve();
  #inflated: { host: number; data: Uint8Array } | undefined;
  #settle: (() => Promise<void>) | undefined;
  #backingQuiet: Promise<void> | undefined;
  #path: string;

  private constructor(path: string, file: ImageFile, h: Qcow2Header, map: ClusterMap, refcounts: Refcounts,
    readonly backing: Disk | undefined, readonly readOnly: boolean) {
    this.#path = path;
    this.#file = file;
    this.#h = h;
    this.#cs = 2 ** h.clusterBits;
    this.#map = map;
    this.#refcounts = refcounts;
    this.sectors = Math.floor(h.size / SECTOR_SIZE);
    this.features = { flush: !readOnly, discard: false, secureDiscard: false };
  }

  /** The image's file name (for messages, and to know the image again). */
  get path(): string {
    return this.#path;
  }

  /** The file was renamed to `path` (a live leaf-coalesce renamed the parent over its child). */
  moved(path: string): void {
    this.#path = path;
  }

  get header(): Readonly<Qcow2Header> {
    return this.#h;
  }

  static async open(path: string, opts: Qcow2OpenOptions): Promise<Qcow2Disk> {
    // A backing file (opened within a walk) is opened at the real path the walk checked: no symbolic link.
    const file = await ImageFile.open(path, !opts.readOnly, opts.walk !== undefined);
    let backing: Disk | undefined;
    try {
      const first = new Uint8Array(Math.min(file.size, 2 ** MAX_CLUSTER_BITS));
      await file.read(0, [first]);
      const h = parseHeader(path, first, file.size);
      if (!opts.readOnly) {
        await writable(file, h);
        file.growAhead(Math.max(GROW_AHEAD_BYTES, 16 * 2 ** h.clusterBits));
      }
      if (h.backingFile !== undefined) backing = opts.backing ?? await openBacking(path, h, opts.walk ?? await ChainWalk.from(path, opts.confine, MAX_CHAIN_DEPTH));
      const [map, refcounts] = await Promise.all([ClusterMap.load(file, h), Refcounts.load(file, h, !opts.readOnly)]);
      const disk = new Qcow2Disk(path, file, h, map, refcounts, backing, opts.readOnly);
      disk.#settle = opts.settle;
      disk.#backingQuiet = opts.backingQuiet;
      return disk;
    } catch (e) {
      await backing?.close().catch(() => {});
      await file.close();
      throw e;
    }
  }

  /** Guest clusters this image maps itself (data, zero or compressed), runs merged. */
  async *leafExtents(): AsyncGenerator<readonly [number, number]> {
    const spc = this.#cs / SECTOR_SIZE;
    const clusters = Math.ceil(this.sectors / spc);
    let run = -1;
    for (let gc = 0; gc <= clusters; gc++) {
      let mapped = false;
      if (gc < clusters) {
        let m = this.#map.lookup(gc);
        if (m instanceof Promise) m = await m;
        mapped = m.kind !== 'unallocated';
      }
      if (mapped && run < 0) run = gc;
      else if (!mapped && run >= 0) {
        yield [run * spc, Math.min(gc * spc, this.sectors) - run * spc];
        run = -1;
      }
    }
  }

  holdsData(sector: number, count: number): boolean {
    const spc = this.#cs / SECTOR_SIZE;
    const last = Math.floor((sector + count - 1) / spc);
    for (let gc = Math.floor(sector / spc); gc <= last; gc++) {
      const m = this.#map.lookup(gc);
      if (m instanceof Promise) return true; // not known at once
      if (m.kind === 'data' || m.kind === 'compressed') return true;
      if (m.kind === 'unallocated' && this.backing) {
        const first = Math.max(sector, gc * spc);
        const end = Math.min(sector + count, (gc + 1) * spc, this.backing.sectors);
        if (end > first && (this.backing.holdsData?.(first, end - first) ?? true)) return true;
      }
    }
    return false;
  }

  read(sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    try {
      const bytes = sgBytes(bufs);
      checkRange(this, sector, bytes / SECTOR_SIZE);
      // The common case, a request over allocated clusters that lie in a row in the file (a
      // 1 MiB read: 16 of them) whose L2 tables are in memory, costs a lookup a cluster more
      // than a raw file's read, and one system call.
      const start = sector * SECTOR_SIZE;
      const gc = Math.floor(start / this.#cs);
      const host = this.#map.dataHost(gc, false);
      if (host >= 0) {
        const last = Math.floor((start + bytes - 1) / this.#cs);
        let c = gc + 1;
        while (c <= last && this.#map.dataHost(c, false) === host + (c - gc) * this.#cs) c++;
        if (c > last) return this.#file.read(host + start - gc * this.#cs, bufs);
      }
      return this.#read(start, bytes, bufs);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async #read(start: number, bytes: number, bufs: readonly Uint8Array[]): Promise<void> {
    const jobs: Promise<void>[] = [];
    // Runs of data clusters contiguous in the file are read in one system call.
    let run: { host: number; at: number; len: number } | undefined;
    const endRun = (): void => {
      if (run) jobs.push(this.#file.read(run.host, slice(bufs, run.at, run.len)));
      run = undefined;
    };
    try {
      for (let at = 0; at < bytes;) {
        const pos = start + at;
        const gc = Math.floor(pos / this.#cs);
        const inOff = pos - gc * this.#cs;
        const len = Math.min(this.#cs - inOff, bytes - at);
        let m = this.#map.lookup(gc);
        if (m instanceof Promise) m = await m;
        if (m.kind === 'data') {
          if (run && run.host + run.len === m.host + inOff) run.len += len;
          else {
            endRun();
            run = { host: m.host + inOff, at, len };
          }
        } else {
          endRun();
          jobs.push(this.#readOther(m, pos, slice(bufs, at, len)));
        }
        at += len;
      }
      endRun();
    } catch (e) {
      // A corrupt entry further on fails the request; the reads already started must not go unheard.
      for (const j of jobs) j.catch(() => {});
      throw e;
    }
    await Promise.all(jobs);
  }

  write(sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    try {
      checkWritable(this);
      const bytes = sgBytes(bufs);
      checkRange(this, sector, bytes / SECTOR_SIZE);
      const start = sector * SECTOR_SIZE;
      const first = Math.floor(start / this.#cs);
      const last = Math.floor((start + bytes - 1) / this.#cs);
      if (first === last) return this.#writeCluster(first, start - first * this.#cs, bufs as Uint8Array[], bytes);
      return this.#writeWhole(first, last, start - first * this.#cs, bufs) ?? this.#writeClusters(start, bytes, bufs);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async #writeClusters(start: number, bytes: number, bufs: readonly Uint8Array[]): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (let at = 0; at < bytes;) {
      const pos = start + at;
      const gc = Math.floor(pos / this.#cs);
      const inOff = pos - gc * this.#cs;
      const len = Math.min(this.#cs - inOff, bytes - at);
      jobs.push(this.#writeCluster(gc, inOff, slice(bufs, at, len), len));
      at += len;
    }
    await Promise.all(jobs);
  }

  flush(): Promise<void> {
    const run = this.#flushChain.then(async () => {
      // Flushes run one at a time: the first one that gets through settles for all.
      if (this.#settle) {
        await this.#settle();
        this.#settle = undefined;
      }
      await this.#writeBack();
    });
    this.#flushChain = run.catch(() => {});
    return run;
  }

  discard(): never {
    throw new XenError('EOPNOTSUPP', `${this.path}: discard is not supported on qcow2 images`);
  }

  async close(): Promise<void> {
    try {
      await this.closeTop();
    } finally {
      await this.backing?.close();
    }
  }

  /**
   * Close this image only, not its backing disk (a snapshot abandoned before its switch). Its
   * metadata changed since the last flush is written back, in the flush's order; a close that
   * changed none syncs nothing, as a raw file's close (its data is in the page cache, which a
   * kill -9 keeps; a flush is what makes it durable).
   */
  async closeTop(): Promise<void> {
    try {
      await this.#flushChain;
      if (!this.readOnly && this.#metadataChanged()) await this.flush();
    } finally {
      await this.#file.close();
    }
  }

  /** Something a flush would write back: allocations in flight, changed refcounts or tables, clusters to release, a snapshot to settle. */
  #metadataChanged(): boolean {
    return this.#allocs > 0 || this.#settle !== undefined || this.#refcounts.dirty || this.#map.dirtyTables > 0 || this.#map.l1Dirty || this.#releases.length > 0;
  }

  /** Unallocated, zero and compressed clusters. */
  async #readOther(m: Mapping, pos: number, bufs: Uint8Array[]): Promise<void> {
    if (m.kind === 'unallocated' && this.backing) return this.#readBacking(pos, bufs);
    if (m.kind === 'compressed') {
      const data = await this.#inflate(m.host, m.bytes, Math.floor(pos / this.#cs));
      let o = pos % this.#cs;
      for (const b of bufs) {
        b.set(data.subarray(o, o + b.byteLength));
        o += b.byteLength;
      }
      return;
    }
    for (const b of bufs) b.fill(0);
  }

  /** From the backing file; what lies past its end reads as zeros. */
  async #readBacking(pos: number, bufs: Uint8Array[]): Promise<void> {
    const backing = this.backing!;
    const len = bufs.reduce((n, b) => n + b.byteLength, 0);
    const have = Math.max(0, Math.min(len, backing.sectors * SECTOR_SIZE - pos));
    if (have > 0) await backing.read(pos / SECTOR_SIZE, slice(bufs, 0, have));
    for (const b of slice(bufs, have, len - have)) b.fill(0);
  }

  async #inflate(host: number, bytes: number, gc: number): Promise<Uint8Array> {
    if (this.#inflated?.host === host) return this.#inflated.data;
    const raw = new Uint8Array(Math.min(bytes, this.#file.size - host));
    await this.#file.read(host, [raw]);
    let data: Uint8Array;
    try {
      data = inflateRawSync(raw, { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: this.#cs });
    } catch (e) {
      throw new Qcow2Error('EIO', this.path, `L2 entry of guest cluster ${gc}`, `compressed cluster at ${host} does not inflate: ${(e as Error).message}`);
    }
    if (data.byteLength < this.#cs) {
      throw new Qcow2Error('EIO', this.path, `L2 entry of guest cluster ${gc}`, `compressed cluster at ${host} inflates to ${data.byteLength} bytes, not ${this.#cs}`);
    }
    this.#inflated = { host, data };
    return data;
  }

  /**
   * The common cases without an async step of their own (each costs dom0 CPU per request under
   * blkback): a cluster the image owns is written in place; a new one over zeros, whose table and
   * refcount block are in memory, is placed and written at once. The rest goes the long way.
   */
  #writeCluster(gc: number, inOff: number, bufs: Uint8Array[], len: number): Promise<void> {
    if (!this.#allocating.has(gc)) {
      const host = this.#map.dataHost(gc, true);
      if (host >= 0) return this.#file.write(host + inOff, bufs);
      const m = this.#map.lookup(gc);
      if (!(m instanceof Promise)) {
        const placed = this.#allocateAtOnce(gc, m, inOff, bufs, len);
        if (placed) return placed;
      }
    }
    return this.#writeClusterSlow(gc, inOff, bufs);
  }

  /** A new cluster for `gc` when nothing must be read or waited for first; undefined (nothing done) otherwise. */
  #allocateAtOnce(gc: number, old: Mapping, inOff: number, bufs: Uint8Array[], len: number): Promise<void> | undefined {
    const whole = len === this.#cs;
    if (this.#gate || !(whole || this.#readsAsZeros(old)) || !this.#map.hasTable(gc)) return undefined;
    const host = this.#refcounts.allocateRun(1);
    if (host === undefined) return undefined;
    this.#allocs++;
    const end = (): void => {
      this.#allocating.delete(gc);
      if (--this.#allocs === 0) this.#drained?.();
    };
    const mapped = (): void => {
      if (old.kind !== 'unallocated' && old.host !== 0) this.#releases.push(old);
      end();
      if (this.#map.dirtyTables > DIRTY_TABLES_LIMIT) this.flush().catch(() => {});
    };
    // Over zeros only the data is written: the rest of a new cluster reads as zeros already.
    const done = this.#file.write(host + (whole ? 0 : inOff), bufs).then(() => {
      const set = this.#map.set(gc, host);
      if (set === undefined) return mapped();
      return set.then(mapped, (e: unknown) => {
        end();
        throw e;
      });
    }, (e: unknown) => {
      end();
      throw e;
    });
    this.#allocating.set(gc, done);
    return done;
  }

  async #writeClusterSlow(gc: number, inOff: number, bufs: Uint8Array[]): Promise<void> {
    for (;;) {
      const busy = this.#allocating.get(gc);
      if (busy) {
        await busy.catch(() => {});
        continue;
      }
      let m = this.#map.lookup(gc);
      if (m instanceof Promise) m = await m;
      if (this.#allocating.has(gc)) continue;
      if (m.kind === 'data' && m.copied) return this.#file.write(m.host + inOff, bufs);
      const done = this.#allocate(gc, m, inOff, bufs);
      this.#allocating.set(gc, done);
      try {
        return await done;
      } finally {
        this.#allocating.delete(gc);
      }
    }
  }

  /**
   * A write over clusters first..last in one system call, as a raw file's: when each is written
   * in place and they lie in a row in the file, or each is new over zeros (no backing file) and
   * they are placed in a row. Undefined (nothing done) otherwise: cluster by cluster then.
   */
  #writeWhole(first: number, last: number, inOff: number, bufs: readonly Uint8Array[]): Promise<void> | undefined {
    if (this.#gate) return undefined;
    let inPlace = 0;
    let host = 0;
    for (let gc = first; gc <= last; gc++) {
      if (this.#allocating.has(gc)) return undefined;
      const m = this.#map.lookup(gc);
      if (m instanceof Promise) return undefined;
      if (m.kind === 'data' && m.copied) {
        if (gc === first) host = m.host;
        else if (m.host !== host + (gc - first) * this.#cs) return undefined;
        inPlace++;
      } else if (!(this.#readsAsZeros(m) && (m.kind === 'unallocated' || m.host === 0) && this.#map.hasTable(gc))) return undefined;
    }
    const n = last - first + 1;
    if (inPlace === n) return this.#file.write(host + inOff, bufs);
    if (inPlace > 0) return undefined;
    const placed = this.#refcounts.allocateRun(n);
    if (placed === undefined) return undefined;
    this.#allocs++;
    const done = (async () => {
      try {
        // New clusters lie past anything written to the file: around the data they read as zeros.
        await this.#file.write(placed + inOff, bufs);
        for (let i = 0; i < n; i++) await this.#map.set(first + i, placed + i * this.#cs);
      } finally {
        if (--this.#allocs === 0) this.#drained?.();
      }
    })();
    for (let gc = first; gc <= last; gc++) this.#allocating.set(gc, done);
    void done.finally(() => {
      for (let gc = first; gc <= last; gc++) if (this.#allocating.get(gc) === done) this.#allocating.delete(gc);
    }).catch(() => {});
    return done.then(() => {
      if (this.#map.dirtyTables > DIRTY_TABLES_LIMIT) this.flush().catch(() => {});
    });
  }

  /** A new cluster for guest cluster `gc`, holding `bufs` at `inOff` and the old content around it. */
  async #allocate(gc: number, old: Mapping, inOff: number, bufs: Uint8Array[]): Promise<void> {
    while (this.#gate) await this.#gate;
    this.#allocs++;
    try {
      const len = bufs.reduce((n, b) => n + b.byteLength, 0);
      // A new cluster lies past anything ever written to the file, so it reads as zeros already:
      // over zeros only the data is written (as qemu does with write-zeroes for the rest).
      let list = bufs;
      let at = inOff;
      if (len < this.#cs && !this.#readsAsZeros(old)) {
        const base = await this.#oldContent(gc, old);
        list = [base.subarray(0, inOff), ...bufs, base.subarray(inOff + len)];
        at = 0;
      }
      if (!this.#map.hasTable(gc)) await this.#newTable(gc);
      let host = this.#refcounts.allocate();
      if (typeof host !== 'number') host = await host;
      await this.#file.write(host + at, list);
      await this.#map.set(gc, host);
      if (old.kind !== 'unallocated' && old.host !== 0) this.#releases.push(old);
    } finally {
      if (--this.#allocs === 0) this.#drained?.();
    }
    if (this.#map.dirtyTables > DIRTY_TABLES_LIMIT) this.flush().catch(() => {});
  }

  /** L2 tables are allocated one at a time, so two writes never give one guest range two tables. */
  #tableAlloc: Promise<void> = Promise.resolve();
  #newTable(gc: number): Promise<void> {
    const run = this.#tableAlloc.then(async () => {
      if (this.#map.hasTable(gc)) return;
      this.#map.addTable(gc, await this.#refcounts.allocate());
    });
    this.#tableAlloc = run.catch(() => {});
    return run;
  }

  #readsAsZeros(m: Mapping): boolean {
    return m.kind === 'zero' || (m.kind === 'unallocated' && !this.backing);
  }

  /** What a partial write to guest cluster `gc` keeps around it. */
  async #oldContent(gc: number, old: Mapping): Promise<Uint8Array> {
    const buf = new Uint8Array(this.#cs);
    const pos = gc * this.#cs;
    if (old.kind === 'data') await this.#file.read(old.host, [buf]);
    else {
      if (old.kind === 'unallocated') await this.#backingQuiet;
      await this.#readOther(old, pos, [buf.subarray(0, Math.min(this.#cs, this.#h.size - pos))]);
    }
    return buf;
  }

  async #writeBack(): Promise<void> {
    if (this.readOnly) return;
    let open!: () => void;
    this.#gate = new Promise((r) => (open = r));
    try {
      if (this.#allocs > 0) await new Promise<void>((r) => (this.#drained = r));
      this.#drained = undefined;
      await this.#refcounts.writeBack();
      await this.#file.sync();
      if (this.#map.dirtyTables > 0) {
        await this.#map.writeL2();
        await this.#file.sync();
      }
      if (this.#map.l1Dirty) {
        await this.#map.writeL1();
        await this.#file.sync();
      }
      // Released only once nothing on disk points at them any more, and synced: a flush leaves
      // no leaked cluster behind (a close with nothing changed since syncs nothing more).
      const releases = this.#releases;
      this.#releases = [];
      for (const m of releases) await this.#release(m);
      if (releases.length > 0) await this.#file.sync();
    } finally {
      this.#gate = undefined;
      open();
    }
  }

  /** Drop the references an unmapped cluster held (a compressed one holds one in each cluster it touches). */
  async #release(m: Mapping): Promise<void> {
    if (m.kind === 'unallocated') return;
    const first = Math.floor(m.host / this.#cs);
    const last = m.kind === 'compressed' ? Math.floor((m.host + m.bytes - 1) / this.#cs) : first;
    for (let c = first; c <= last; c++) await this.#refcounts.release(c * this.#cs);
  }
}

/** Refuse to write what we cannot keep consistent; clear autoclear bits we do not maintain (as the spec asks). */
async function writable(file: ImageFile, h: Qcow2Header): Promise<void> {
  if (h.incompatible & INCOMPAT_CORRUPT) throw new Qcow2Error('EROFS', file.path, 'incompatible_features', 'the image is marked corrupt: open it read-only or repair it with `qemu-img check -r all`');
  if (h.nbSnapshots > 0) throw new Qcow2Error('EOPNOTSUPP', file.path, 'nb_snapshots', `${h.nbSnapshots} internal snapshots: such images are opened read-only`);
  if (h.version === 3 && h.autoclear !== 0n) {
    await file.write(AUTOCLEAR_OFFSET, [new Uint8Array(8)]);
    await file.sync();
    h.autoclear = 0n;
  }
}

async function openBacking(path: string, h: Qcow2Header, walk: ChainWalk): Promise<Disk> {
  const where = backingPath(path, h.backingFile!);
  const fail = (errno: XenError['errno'], what: string): never => {
    throw new Qcow2Error(errno, path, 'backing_file', `${where}: ${what}`);
  };
  // Before the file is read at all (its format is probed from its first bytes).
  const real = await walk.link(where, (errno, why) => {
    throw new Qcow2Error(errno, path, 'backing_file', why);
  });
  const format = h.backingFormat ?? await probeFormat(real, { noFollow: true }).catch((e: unknown) => fail(isXenError(e) ? e.errno : 'EIO', (e as Error).message));
  try {
    if (format === 'raw') return await RawFile.open(real, { readOnly: true, noFollow: true });
    if (format === 'qcow2') return await Qcow2Disk.open(real, { readOnly: true, walk });
  } catch (e) {
    if (e instanceof Qcow2Error) throw e;
    fail(isXenError(e) ? e.errno : 'EIO', (e as Error).message);
  }
  return fail('EOPNOTSUPP', `backing format '${format}' is not supported (raw and qcow2 are)`);
}

/** The part [at, at + len) of a scatter list, as views. */
function slice(bufs: readonly Uint8Array[], at: number, len: number): Uint8Array[] {
  if (bufs.length === 1 && at === 0 && len === bufs[0]!.byteLength) return bufs as Uint8Array[];
  const out: Uint8Array[] = [];
  for (const b of bufs) {
    if (len === 0) break;
    if (at >= b.byteLength) {
      at -= b.byteLength;
      continue;
    }
    const n = Math.min(b.byteLength - at, len);
    out.push(b.subarray(at, at + n));
    at = 0;
    len -= n;
  }
  return out;
}
