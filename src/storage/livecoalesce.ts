// Leaf-coalesce under a running guest, as sm's cleanup does it for a VDI in use: the leaf's
// data is copied into its parent while the guest goes on writing to the leaf, then a short
// pause switches the guest's backend to the parent, renamed over the leaf's file name.
//   1. The guest's disk is wrapped (a swap, no pause) so that every write it completes is
//      noted; the copy starts once the writes in flight before the wrap are done.
//   2. The leaf's own sectors are copied into the parent through the guest's disk (so each
//      read gets the current data), throttled to `duty` of the time; then the sectors written
//      meanwhile, pass after pass, until little is left; if the passes stop shrinking it (a
//      guest writing as fast as the throttled copy), the pause takes what is left if that is
//      at most PAUSE_MAX_BYTES, else the coalesce gives up and is tried again later.
//   3. The parent is flushed; the pause: in-flight requests drain, the last written sectors
//      are copied, the parent flushed again and renamed over the leaf's name, and the guest
//      resumes on the parent (opened before, so nothing is read in the pause). Its first
//      flush waits for the directory's sync.
// Until the rename the leaf holds every write, and the parent only copies of the leaf's
// sectors (which the leaf hides): a crash leaves a chain that reads the same, and the
// collector's recovery (gc.ts) copies again and renames. After it, the parent is the VDI's
// image. A failure before the rename puts the guest back on its own disk (a swap).
// VHD and qcow2 alike: the parent is opened a second time, writable, for the copy, while the
// guest's disk keeps its read-only view of it, whose cached tables (BAT and bitmaps, L2 tables)
// go stale as the copy writes. That view is only read for sectors the leaf does not hold (a
// read falling through, or qcow2's copy-on-write filling a cluster the leaf is allocating),
// and the copy writes only sectors the leaf holds (a sector the leaf holds it holds for good):
// so the guest never reads what the copy changes, and after the switch it uses the second one.
import { realpath, rename } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { XenError } from '../errors.js';
import { SECTOR_SIZE, sgBytes, type Disk, type LayeredDisk } from './disk.js';
import { syncDir } from './journal.js';
import type { LiveLayers } from './open.js';
import type { LiveDisk } from './snapshot.js';

/** Bytes a throttled copy step moves: small, so a guest's requests never wait long behind one on libuv's pool. */
export const COPY_CHUNK_BYTES = 256 * 1024;
/** Bytes a copy at full speed (duty 1) moves per step, in pieces of at most FAST_PIECE_BYTES, all in flight at once. */
const FAST_STEP_BYTES = 4 * 2 ** 20;
const FAST_PIECE_BYTES = 2 ** 20;
/** Pieces a step has in flight at most: many short runs (a guest's scattered 4 KiB writes) go together, not one by one. */
const STEP_PIECES = 32;
/** Written bytes left that the pause copies itself. */
const FINAL_BYTES = 2 * 2 ** 20;
/** Copy passes before the pause at most. */
const MAX_PASSES = 8;
/** Written bytes left that the pause may copy when the passes do not get under FINAL_BYTES (a guest writing as fast as the copy); beyond, the coalesce gives up (EAGAIN) and is tried again later, as sm's does. */
const PAUSE_MAX_BYTES = 16 * 2 ** 20;

export interface CopyOptions {
  /** Share of wall time the copy may use, in (0, 1]. */
  readonly duty: number;
  readonly signal?: AbortSignal;
  /** Bytes copied so far and the total known. */
  readonly progress?: (done: number, total: number) => void;
}

export type Run = readonly [number, number];

/**
 * Copy runs of sectors [first, count) from `src` to `dst` in steps, sleeping between them to
 * keep to `duty`. A step is up to STEP_PIECES pieces of runs, each read then written, all in
 * flight together (the runs are disjoint), so that scattered short runs cost one wait per step
 * rather than one per run; throttled steps move at most COPY_CHUNK_BYTES.
 */
export async function copyRuns(src: Disk, dst: Disk, runs: readonly Run[], o: CopyOptions): Promise<number> {
  if (!(o.duty > 0 && o.duty <= 1)) throw new XenError('EINVAL', `copy duty ${o.duty} is not in (0, 1]`);
  const total = runs.reduce((n, r) => n + r[1] * SECTOR_SIZE, 0);
  const stepBytes = o.duty < 1 ? COPY_CHUNK_BYTES : FAST_STEP_BYTES;
  const piece = Math.min(stepBytes, FAST_PIECE_BYTES) / SECTOR_SIZE;
  const buf = new Uint8Array(stepBytes);
  let done = 0;
  let step: Run[] = [];
  let used = 0;
  const go = async (): Promise<void> => {
    o.signal?.throwIfAborted();
    const t0 = performance.now();
    let off = 0;
    await Promise.all(step.map(async ([at, n]) => {
      const part = buf.subarray(off, (off += n * SECTOR_SIZE));
      await src.read(at, [part]);
      await dst.write(at, [part]);
    }));
    done += used;
    step = [];
    used = 0;
    o.progress?.(done, total);
    if (o.duty < 1) await sleep((performance.now() - t0) * (1 / o.duty - 1));
  };
  for (const [first, count] of runs) {
    for (let at = first; at < first + count;) {
      const n = Math.min(piece, first + count - at, (stepBytes - used) / SECTOR_SIZE);
      step.push([at, n]);
      used += n * SECTOR_SIZE;
      at += n;
      if (used === stepBytes || step.length === STEP_PIECES) await go();
    }
  }
  if (step.length) await go();
  return done;
}

/** A disk that notes the sectors each completed write covered (failed ones too: they may have landed). */
class WriteLog implements Disk {
  readonly sectors: number;
  readonly readOnly = false;
  readonly features;
  #runs: Run[] = [];

  /** `onClose`: the backend let go of the disk (the guest went away): what closing it means. */
  constructor(readonly source: Disk, private readonly onClose: () => Promise<void>) {
    this.sectors = source.sectors;
    this.features = { flush: source.features.flush, discard: false, secureDiscard: false };
  }

  read(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void {
    return this.source.read(sector, bufs);
  }

  write(sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    const run: Run = [sector, sgBytes(bufs) / SECTOR_SIZE];
    // Noted when done, not when started: a copy that read the sector before then copies it again.
    return Promise.resolve().then(() => this.source.write(sector, bufs)).finally(() => this.#runs.push(run));
  }

  flush(): Promise<void> | void {
    return this.source.flush();
  }

  discard(): never {
    throw new XenError('EOPNOTSUPP', 'discard is not supported while a leaf is coalesced');
  }

  close(): Promise<void> {
    return this.onClose();
  }

  /** The runs written since the last call, with `carry` (runs not copied yet), sorted and merged. */
  take(carry: readonly Run[] = []): Run[] {
    const runs = [...carry, ...this.#runs.splice(0)].sort((a, b) => a[0] - b[0]);
    const out: [number, number][] = [];
    for (const [s, n] of runs) {
      const last = out[out.length - 1];
      if (last && s <= last[0] + last[1]) last[1] = Math.max(last[1], s + n - last[0]);
      else out.push([s, n]);
    }
    return out;
  }
}

/** `disk` (a guest's) is the image at `leafPath` itself, opened by this format (not a mirror, say). */
export async function servesLeaf(layers: LiveLayers, disk: Disk, leafPath: string): Promise<boolean> {
  const top = layers.topPath(disk);
  return top !== undefined && await realpath(top).catch(() => '') === await realpath(leafPath).catch(() => null);
}

const bytesOf = (runs: readonly Run[]) => runs.reduce((n, r) => n + r[1] * SECTOR_SIZE, 0);

export interface LiveCoalesceResult {
  /** Bytes copied in all, and in the pause. */
  readonly copiedBytes: number;
  readonly finalBytes: number;
  readonly passes: number;
  /** How long the guest's I/O was paused (ms). */
  readonly pausedMs: number;
}

/**
 * Coalesce the VHD leaf at `leafPath`, served by `backend`, into its parent at `parentPath`
 * (in SR directory `dir`), and leave the guest on the parent under the leaf's name.
 */
export async function coalesceLiveLeaf(layers: LiveLayers, backend: LiveDisk, leafPath: string, parentPath: string, dir: string,
  o: CopyOptions & { readonly onStep?: (step: string) => Promise<void> | void }): Promise<LiveCoalesceResult> {
  const guest = backend.disk as LayeredDisk;
  if (!await servesLeaf(layers, guest, leafPath)) {
    throw new XenError('EOPNOTSUPP', `${leafPath}: the guest's disk is not this leaf opened as an image: its leaf is coalesced once it is free`);
  }
  const parent = await layers.openParent(parentPath, () => syncDir(dir));
  if (parent.sectors !== guest.sectors) {
    await parent.close();
    throw new XenError('EOPNOTSUPP', `${leafPath}: the leaf (${guest.sectors} sectors) and its parent (${parent.sectors}) differ in size: it is coalesced once it is free`);
  }
  // The guest may go away meanwhile: its backend then closes the log, which stops the copy and,
  // once the copy has let go of the guest's disk, closes that.
  const gone = new AbortController();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const log = new WriteLog(guest, async () => {
    gone.abort(new XenError('ENODEV', `${leafPath}: the guest stopped using the disk during its leaf-coalesce`));
    await released;
    await guest.close();
  });
  const signal = o.signal ? AbortSignal.any([o.signal, gone.signal]) : gone.signal;
  const c: CopyOptions = { ...o, signal };
  let swapped = false;
  let switched = false;
  try {
    const { drained } = await backend.swapDisk(log, guest);
    swapped = true;
    await drained;
    let runs: Run[] = [];
    for await (const r of guest.leafExtents()) runs.push(r);
    let copied = 0;
    let passes = 0;
    for (let last = Infinity; ; passes++) {
      copied += await copyRuns(guest, parent, runs, c);
      runs = log.take();
      const left = bytesOf(runs);
      if (left <= FINAL_BYTES) break;
      // The guest writes as fast as the throttled copy: the pause takes what is left, if that is little enough.
      if (passes + 1 >= MAX_PASSES || left >= last) {
        if (left <= PAUSE_MAX_BYTES) break;
        throw new XenError('EAGAIN', `${leafPath}: the guest wrote ${left} bytes during the last copy pass, more than a pause may copy: its leaf is coalesced later`);
      }
      last = left;
    }
    passes++;
    // `runs`, written during the last pass, are copied in the pause with whatever comes after.
    await parent.flush();
    await o.onStep?.('copied');
    signal.throwIfAborted();
    let finalBytes = 0;
    const pausedMs = await backend.switchDisk(async (current) => {
      if (current !== log) throw new XenError('EBUSY', `${leafPath}: the guest's disk changed during the coalesce`);
      finalBytes = await copyRuns(guest, parent, log.take(runs), { duty: 1 });
      await parent.flush();
      await rename(parentPath, leafPath);
      layers.renamed(parent, parentPath, leafPath);
      return parent;
    });
    switched = true;
    await guest.close().catch(() => {});
    // Gone during the pause: the backend closed the log, not the parent it got after.
    if (gone.signal.aborted) await parent.close().catch(() => {});
    return { copiedBytes: copied + finalBytes, finalBytes, passes, pausedMs };
  } catch (e) {
    if (!switched) {
      if (swapped && !gone.signal.aborted) await backend.swapDisk(guest, log).then((s) => s.drained).catch(() => {});
      await parent.close().catch(() => {});
    }
    throw e;
  } finally {
    release();
  }
}
