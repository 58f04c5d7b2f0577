// Leaf-coalesce under a running guest, as sm's cleanup does it for a VDI in use: the leaf's
// data is copied into its parent while the guest goes on writing to the leaf, then a short
// pause switches the guest's backend to the parent, renamed over the leaf's file name.
//   1. The guest's disk is wrapped (a swap, no pause) so that every write it completes is
//      noted; the copy starts once the writes in flight before the wrap are done.
//   2. The leaf's own sectors are copied into the parent through the guest's disk (so each
//      read gets the current data), throttled to `duty` of the time; then the sectors written
//      meanwhile, pass after pass, until little is left (or the passes run out).
//   3. The parent is flushed; the pause: in-flight requests drain, the last written sectors
//      are copied, the parent flushed again and renamed over the leaf's name, and the guest
//      resumes on the parent (opened before, so nothing is read in the pause). Its first
//      flush waits for the directory's sync.
// Until the rename the leaf holds every write, and the parent only copies of the leaf's
// sectors (which the leaf hides): a crash leaves a chain that reads the same, and the
// collector's recovery (gc.ts) copies again and renames. After it, the parent is the VDI's
// image. A failure before the rename puts the guest back on its own disk (a swap).
import { realpath, rename } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { XenError } from '../errors.js';
import { SECTOR_SIZE, sgBytes, type Disk, type LayeredDisk } from './disk.js';
import { syncDir } from './journal.js';
import type { LiveDisk } from './snapshot.js';
import { VhdDisk } from './vhd/chain.js';

/** Bytes a copy step moves: small, so a guest's requests never wait long behind one on libuv's pool. */
export const COPY_CHUNK_BYTES = 256 * 1024;
/** Written bytes left that the pause copies itself. */
const FINAL_BYTES = 2 * 2 ** 20;
/** Copy passes before the pause at most (a guest writing faster than the copy gets a longer pause). */
const MAX_PASSES = 8;

export interface CopyOptions {
  /** Share of wall time the copy may use, in (0, 1]. */
  readonly duty: number;
  readonly signal?: AbortSignal;
  /** Bytes copied so far and the total known. */
  readonly progress?: (done: number, total: number) => void;
}

export type Run = readonly [number, number];

/** Copy runs of sectors [first, count) from `src` to `dst` in small steps, sleeping between them to keep to `duty`. */
export async function copyRuns(src: Disk, dst: Disk, runs: readonly Run[], o: CopyOptions): Promise<number> {
  if (!(o.duty > 0 && o.duty <= 1)) throw new XenError('EINVAL', `copy duty ${o.duty} is not in (0, 1]`);
  const total = runs.reduce((n, r) => n + r[1] * SECTOR_SIZE, 0);
  const per = COPY_CHUNK_BYTES / SECTOR_SIZE;
  const buf = new Uint8Array(COPY_CHUNK_BYTES);
  let done = 0;
  for (const [first, count] of runs) {
    for (let at = first; at < first + count; at += per) {
      o.signal?.throwIfAborted();
      const t0 = performance.now();
      const part = buf.subarray(0, Math.min(per, first + count - at) * SECTOR_SIZE);
      await src.read(at, [part]);
      await dst.write(at, [part]);
      done += part.byteLength;
      o.progress?.(done, total);
      if (o.duty < 1) await sleep((performance.now() - t0) * (1 / o.duty - 1));
    }
  }
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
export async function coalesceLiveLeaf(backend: LiveDisk, leafPath: string, parentPath: string, dir: string,
  o: CopyOptions & { readonly onStep?: (step: string) => Promise<void> | void }): Promise<LiveCoalesceResult> {
  const guest = backend.disk;
  if (!(guest instanceof VhdDisk) || await realpath(guest.images[0]!.path).catch(() => '') !== await realpath(leafPath)) {
    throw new XenError('EOPNOTSUPP', `${leafPath}: the guest's disk is not this VHD leaf: its leaf is coalesced once it is free`);
  }
  const parent = await VhdDisk.open(parentPath, { readOnly: false, settle: () => syncDir(dir) });
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
    for await (const r of (guest as LayeredDisk).leafExtents()) runs.push(r);
    let copied = 0;
    let passes = 0;
    while (passes < MAX_PASSES) {
      copied += await copyRuns(guest, parent, runs, c);
      passes++;
      runs = log.take();
      if (bytesOf(runs) <= FINAL_BYTES) break;
    }
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
      for (const i of parent.images) if (i.path === parentPath) i.moved(leafPath);
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
