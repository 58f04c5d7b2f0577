// Snapshots and clones as XCP's FileSR makes them. A writable VDI's image becomes a hidden,
// read-only base (a new record, managed=false, "base copy" as sm names it); a new, empty
// differencing leaf over it keeps the VDI's uuid and file name; the snapshot (read-only,
// is_a_snapshot, snapshot_of, snapshot_time) or the clone (writable) is a second leaf over the
// same base. Each child records its parent's uuid in sm_config `vhd-parent`, as sm does (for
// qcow2 too). A read-only VDI (a snapshot) is not split: its clone is a child of it directly.
// Nothing is copied, so the cost does not depend on the size.
//
// Everything is prepared before the guest's I/O pauses, so the pause is only a drain and a
// swap. In order, each step durable before the next where it matters (a power cut; a kill -9
// keeps what the kernel was given anyway):
//   1. a journal (journal.ts) names the files to come (file and name synced together);
//   2. the base, a hard link to the leaf's file; the new leaf and the snapshot (or clone), both
//      children of the base, made and synced at once; then the SR's directory synced;
//   3. the commit point: the new leaf renamed over the VDI's file name (atomic). A guest writes
//      to the old image (the base) until it switches: those writes are in the snapshot;
//   4. the new disk is opened over the very disk the guest uses (no file read again, blocks it
//      allocates meanwhile passed up); the backend pauses I/O (in-flight requests drain), swaps
//      the disks and resumes: no fsync, no open, no database in the pause;
//   5. the directory synced (the rename) and the base flushed; the guest's first flush on the
//      new disk waits for both, so a flush still covers every write acknowledged before it;
//   6. the records (base, snapshot, the leaf's new parent), then the journal removed.
// After a crash the journal says what to undo or finish: before the rename (the VDI's name is
// still the old image's) the link and the new files go; after it only the records are missing
// and are made.
import { randomUUID } from 'node:crypto';
import { link, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { XenError } from '../errors.js';
import type { HostDb, Tx } from '../toolstack/db/hostdb.js';
import type { Ref, VDIRecord } from '../toolstack/db/records.js';
import type { Disk } from './disk.js';
import { journalDone, journalWrite, syncDir, type Journals } from './journal.js';
import { imageFormat, type ImageFormat, type ImageLayers, type OverDisk } from './open.js';
import { CREATED_KEY, checkName, refreshSr, srPath } from './sr.js';

/** sm_config key naming a differencing image's parent VDI (sm's name, for every format here). */
export const PARENT_KEY = 'vhd-parent';
/** name_label sm gives hidden bases. */
export const BASE_NAME = 'base copy';
/** Images in a chain, the leaf included (XCP's limit; VHD_MAX_CHAIN and qcow2's MAX_CHAIN_DEPTH). */
const MAX_CHAIN = 30;

/** A backend in this process serving a VDI's image, which can switch its disk under the guest (BlkBack). */
export interface LiveDisk {
  /** The disk it serves now. */
  readonly disk: Disk;
  switchDisk(open: (old: Disk) => Promise<Disk>): Promise<number>;
  /** Switch to `next` with no pause: requests in flight finish on `old` (`drained` says when). */
  swapDisk(next: Disk, old: Disk): Promise<{ pausedMs: number; drained: Promise<void> }>;
}

/** The backends serving a VDI: `live` can be switched; `foreign` (driver domains) cannot. */
export type LiveDisks = (vdi: { readonly uuid: string; readonly path: string | null }) => Promise<{ live: LiveDisk[]; foreign: string[] }>;

export interface SnapshotArgs {
  readonly name: string;
  readonly description?: string;
  /** A writable clone instead of a read-only snapshot. */
  readonly clone: boolean;
}

export interface SnapshotResult {
  /** The new VDI. */
  readonly ref: Ref<'VDI'>;
  /** How long the guest's I/O was paused (ms); 0 when no guest used the VDI. */
  readonly pausedMs: number;
}

interface SnapshotJournal {
  readonly op: 'snapshot';
  readonly vdi: string;
  readonly format: string;
  readonly leaf: string;
  readonly tmp: string;
  readonly base: { readonly uuid: string; readonly location: string };
  readonly child: { readonly uuid: string; readonly location: string; readonly name: string; readonly description: string; readonly clone: boolean; readonly time: string };
}

function layersOf(f: ImageFormat, format: string): ImageLayers {
  if (!f.layers) throw new XenError('EOPNOTSUPP', `a ${format} VDI has no differencing images: snapshots and clones need vhd or qcow2`);
  return f.layers;
}

/** Images from `vdi` up to the root of its chain, by the records' vhd-parent. */
export function chainDepth(tx: Tx, vdi: VDIRecord): number {
  let n = 1;
  for (let p = vdi.sm_config[PARENT_KEY]; p !== undefined && n <= MAX_CHAIN; n++) p = tx.VDI.get(tx.VDI.getByUuid(p)).sm_config[PARENT_KEY];
  return n;
}

/**
 * What a live migration does inside a snapshot: `before` runs once the base exists (as a second
 * name of the leaf's image) and before the switch; `wrap` runs just before the switch, on the
 * disk the guest is about to get, and returns the one it gets instead (a mirror), so that no
 * write falls between the snapshot and the mirror (writes in flight at the switch land in the
 * base, and the snapshot returns once they are done).
 */
export interface SnapshotHooks {
  before?(basePath: string): Promise<void>;
  /** `final` resolves once the old disk has no request in flight and is flushed: the base's file may be opened again. */
  wrap?(disk: Disk, final: Promise<void>): Promise<Disk>;
}

/** Take a snapshot or clone of VDI `ref` (see the top of this file). */
export async function snapshotVdi(db: HostDb, ref: Ref<'VDI'>, args: SnapshotArgs, liveDisks: LiveDisks, hooks: SnapshotHooks = {}): Promise<SnapshotResult> {
  checkName('VDI', args.name);
  const { vdi, dir, depth } = await db.read((tx) => {
    const v = tx.VDI.get(ref);
    return { vdi: v, dir: srPath(tx, v.SR), depth: chainDepth(tx, v) };
  });
  const format = vdi.sm_config['format'] ?? 'raw';
  const f = imageFormat(format);
  const layers = layersOf(f, format);
  if (dir === null) throw new XenError('EOPNOTSUPP', 'a RAM SR keeps no differencing images');
  if (vdi.missing) throw new XenError('ENOENT', `VDI '${vdi.name_label}' (${vdi.uuid}) is missing`);
  if (depth + 1 > MAX_CHAIN) throw new XenError('EMLINK', `VDI '${vdi.name_label}' is on a chain of ${depth} images; the limit is ${MAX_CHAIN}: destroy snapshots so the garbage collector can coalesce`);
  const leafPath = join(dir, vdi.location);
  const child = { uuid: randomUUID(), name: args.name, description: args.description ?? '', clone: args.clone, time: new Date().toISOString() };
  const childLocation = `${child.uuid}.${f.extension}`;
  if (vdi.read_only) {
    if (hooks.before || hooks.wrap) throw new XenError('EINVAL', `VDI ${vdi.uuid} is read-only`);
    // Its data never changes: the new VDI is a child of it as it is.
    await layers.createChild(join(dir, childLocation), leafPath);
    return { ref: await recordChild(db, vdi, { ...child, location: childLocation }, vdi.uuid, f, dir), pausedMs: 0 };
  }
  const { live, foreign } = await liveDisks({ uuid: vdi.uuid, path: leafPath });
  if (foreign.length) throw new XenError('EBUSY', `VDI ${vdi.uuid} is served by ${foreign.join(', ')}: a driver domain's backend cannot be paused for a snapshot`);
  if (live.length > 1) throw new XenError('EBUSY', `VDI ${vdi.uuid} is attached ${live.length} times: snapshots of a shared VDI are not supported`);
  const baseUuid = randomUUID();
  const j: SnapshotJournal = {
    op: 'snapshot', vdi: vdi.uuid, format, leaf: vdi.location, tmp: `.snapshot-${child.uuid}.${f.extension}`,
    base: { uuid: baseUuid, location: `${baseUuid}.${f.extension}` }, child: { ...child, location: childLocation },
  };
  const id = await journalWrite(dir, j, [j.leaf, j.tmp, j.base.location, j.child.location]);
  const [base, tmp, other] = [join(dir, j.base.location), join(dir, j.tmp), join(dir, childLocation)];
  let pausedMs = 0;
  let over: OverDisk | undefined;
  let switched = false;
  try {
    await link(leafPath, base);
    // Both settled before a failure goes on to the rollback: it removes both files, and one still being made would be left.
    await settleAll([layers.createChild(tmp, base), layers.createChild(other, base)] as const);
    await syncDir(dir);
    await hooks.before?.(base);
    // The commit point. A guest still writes to the old image (now the base) until it switches:
    // those writes are in the snapshot, as if they had come just before it.
    await rename(tmp, leafPath);
    const renamed = syncDir(dir);
    renamed.catch(() => {});
    const backend = live[0];
    let flushed: Promise<void> = Promise.resolve();
    if (backend) {
      const old = backend.disk;
      let quiet!: () => void;
      const drained = new Promise<void>((resolve) => (quiet = resolve));
      // The new disk is made over the one the guest uses, which passes up the blocks it
      // allocates until the last of its requests is done; the guest's first flush on it waits
      // for those requests, the rename's sync and a flush of the old image.
      // The base is final once the old disk's last requests are done and it is flushed (a
      // qcow2 disk writes its tables back then), so that the base's file can be opened again.
      const final = drained.then(() => old.flush());
      final.catch(() => {});
      over = await layers.openOver(leafPath, old, {
        drained,
        settle: async () => {
          await final;
          await renamed;
        },
      });
      const swapped = await (async () => backend.swapDisk(hooks.wrap ? await hooks.wrap(over.disk, final) : over.disk, old))().catch((e: unknown) => {
        quiet(); // no switch: nothing of the new disk's waits on the old one (a qcow2 leaf's close flushes through `settle`)
        throw e;
      });
      switched = true;
      pausedMs = swapped.pausedMs;
      void swapped.drained.then(quiet);
      // The snapshot's data (what the guest wrote before the switch), durable before it is reported.
      flushed = final;
    }
    // The records go with the rename's sync: if a crash keeps them but not the rename, recovery undoes both.
    const [newRef] = await settleAll([finish(db, vdi.SR, dir, j), renamed, flushed] as const);
    await journalDone(dir, id);
    return { ref: newRef, pausedMs };
  } catch (e) {
    if (switched) {
      // The guest is on the new leaf: the snapshot is made; it is recorded if it is not yet.
      await finish(db, vdi.SR, dir, j).then(() => journalDone(dir, id)).catch(() => {});
    } else {
      await over?.drop().catch(() => {});
      // A rollback that fails keeps its journal: the collector's recovery (sr-scan) finishes it.
      await rollBack(db, vdi.SR, dir, j).then(() => journalDone(dir, id)).catch(() => {});
    }
    throw e;
  }
}

/** Wait for all (none is left running on a failure); the first failure, if any. */
async function settleAll<T extends readonly unknown[]>(ps: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const rs = await Promise.allSettled(ps);
  for (const r of rs) if (r.status === 'rejected') throw r.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

/** Before the rename (durably): the leaf is as it was; the base link, the new files and any records of them go. */
async function rollBack(db: HostDb, sr: Ref<'SR'>, dir: string, j: SnapshotJournal): Promise<void> {
  const [leaf, base] = [join(dir, j.leaf), join(dir, j.base.location)];
  const [l, b] = await Promise.all([stat(leaf).catch(() => null), stat(base).catch(() => null)]);
  if (b !== null && (l === null || l.ino !== b.ino)) {
    // The leaf is the new child: the old image is back under the leaf's name only if we put it there.
    await rename(base, leaf);
  }
  await db.transaction((tx) => {
    const find = (uuid: string) => tx.VDI.where('SR', sr).find((r) => tx.VDI.get(r).uuid === uuid);
    const [baseRef, childRef, leafRef] = [find(j.base.uuid), find(j.child.uuid), find(j.vdi)];
    if (baseRef === undefined) return;
    if (leafRef !== undefined) {
      const leaf = tx.VDI.get(leafRef);
      const base = tx.VDI.get(baseRef);
      const { [PARENT_KEY]: _, ...rest } = leaf.sm_config;
      const grand = base.sm_config[PARENT_KEY];
      tx.VDI.update(leafRef, { sm_config: { ...rest, ...(grand !== undefined && { [PARENT_KEY]: grand }) }, other_config: ownedAs(base.other_config, leaf.other_config) });
    }
    if (childRef !== undefined) tx.VDI.destroy(childRef);
    tx.VDI.destroy(baseRef);
    refreshSr(tx, sr);
  });
  await Promise.all([j.tmp, j.child.location, j.base.location].filter((n) => n !== j.leaf).map((n) => rm(join(dir, n), { force: true })));
  await syncDir(dir);
}

/** `other_config` with CREATED_KEY as `from` has it (the record now names the file `from`'s did). */
export function ownedAs(from: Readonly<Record<string, string>>, other: Readonly<Record<string, string>>): Record<string, string> {
  const { [CREATED_KEY]: _, ...rest } = other;
  return from[CREATED_KEY] === 'true' ? { ...rest, [CREATED_KEY]: 'true' } : rest;
}

/** After the rename: the records of the base and the new VDI, and the leaf's new parent (idempotent). */
function finish(db: HostDb, sr: Ref<'SR'>, dir: string, j: SnapshotJournal): Promise<Ref<'VDI'>> {
  return sizes(dir, j).then((sz) => db.transaction((tx) => {
    const leafRef = tx.VDI.getByUuid(j.vdi);
    const leaf = tx.VDI.get(leafRef);
    const found = tx.VDI.where('SR', sr).find((r) => tx.VDI.get(r).uuid === j.child.uuid);
    if (found !== undefined) return found;
    const parent = leaf.sm_config[PARENT_KEY];
    // The base is the leaf's old image: xenode's only if that was (sr-scan may have found it).
    // The leaf's file is now the new child, which xenode made: the collector may coalesce it.
    tx.VDI.create({
      uuid: j.base.uuid, name_label: BASE_NAME, SR: sr, virtual_size: leaf.virtual_size, physical_utilisation: sz.base, location: j.base.location,
      managed: false, read_only: true, sm_config: { format: j.format, ...(parent !== undefined && { [PARENT_KEY]: parent }) },
      other_config: ownedAs(leaf.other_config, {}),
    });
    tx.VDI.update(leafRef, {
      physical_utilisation: sz.leaf, sm_config: { ...leaf.sm_config, [PARENT_KEY]: j.base.uuid },
      other_config: { ...leaf.other_config, [CREATED_KEY]: 'true' },
    });
    const ref = childRecord(tx, leaf, leafRef, j.child, j.base.uuid, j.format, sz.child);
    refreshSr(tx, sr);
    return ref;
  }));
}

function childRecord(tx: Tx, of: VDIRecord, ofRef: Ref<'VDI'>, c: SnapshotJournal['child'], parent: string, format: string, physical: number): Ref<'VDI'> {
  return tx.VDI.create({
    uuid: c.uuid, name_label: c.name, name_description: c.description, SR: of.SR, virtual_size: of.virtual_size, physical_utilisation: physical,
    location: c.location, read_only: !c.clone, ...(!c.clone && { is_a_snapshot: true, snapshot_of: ofRef, snapshot_time: c.time }),
    sm_config: { format, [PARENT_KEY]: parent }, other_config: { [CREATED_KEY]: 'true' },
  });
}

async function recordChild(db: HostDb, of: VDIRecord, c: SnapshotJournal['child'], parent: string, f: ImageFormat, dir: string): Promise<Ref<'VDI'>> {
  const path = join(dir, c.location);
  const physical = (await f.info(path)).physicalUtilisation;
  return db.transaction((tx) => {
    const ref = childRecord(tx, of, tx.VDI.getByUuid(of.uuid), c, parent, of.sm_config['format'] ?? 'raw', physical);
    refreshSr(tx, of.SR);
    return ref;
  }).catch(async (e: unknown) => {
    await rm(path, { force: true });
    throw e;
  });
}

async function sizes(dir: string, j: SnapshotJournal): Promise<{ base: number; leaf: number; child: number }> {
  const used = async (n: string) => ((await stat(join(dir, n)).catch(() => null))?.blocks ?? 0) * 512;
  return { base: await used(j.base.location), leaf: await used(j.leaf), child: await used(j.child.location) };
}

/** Finish or undo the snapshots a crash interrupted in the SR at `dir` (its journals, as readJournals found them). */
export async function recoverSnapshots(db: HostDb, sr: Ref<'SR'>, dir: string, journals: Journals): Promise<void> {
  for (const { id, entry } of journals.of('snapshot')) {
    const j = entry as unknown as SnapshotJournal;
    const [l, b] = await Promise.all([stat(join(dir, j.leaf)).catch(() => null), stat(join(dir, j.base.location)).catch(() => null)]);
    const renamed = b !== null && l !== null && l.ino !== b.ino && (await stat(join(dir, j.tmp)).catch(() => null)) === null;
    if (renamed) await finish(db, sr, dir, j);
    else await rollBack(db, sr, dir, j);
    await journalDone(dir, id);
  }
}
