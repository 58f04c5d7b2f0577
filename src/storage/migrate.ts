// Live VDI migration between SRs of one host (XCP's Storage XenMotion within a host):
//   1. a snapshot freezes the VDI's base (under a running guest, a swap of its disk);
//   2. a new leaf is made in the destination over the source's base (so it reads as the
//      source's leaf does), and the guest's disk becomes a MirrorDisk in the same switch: every
//      write from then on goes to the source's leaf and to the destination's, acknowledged
//      once both have it;
//   3. the base chain is copied into the destination as one image (flattened, zeros skipped),
//      as XCP does (xapi's DATA.copy: sparse_dd of the snapshot into one destination VDI);
//   4. the destination's leaf is relinked onto that copy (compose);
//   5. the records move (the commit point): the VDI keeps its uuid, its new base is a hidden
//      VDI of the destination;
//   6. the guest's backend switches to the destination's chain (a pause: in-flight writes
//      drain, both leaves hold them);
//   7. the source's leaf and the snapshot go, and the source's garbage collector removes what
//      no other VDI needs.
// A failure before step 6 puts the records back, the guest back on the plain source disk,
// deletes what was made in the destination and the snapshot: the guest runs on the source,
// which got every write. A journal in the destination names its new files and the source's
// leaf; after a crash, recovery (run for every SR by sr-scan) deletes the destination's files
// if the records still name the source, else the source's old leaf; and the snapshot. Without
// a guest the same steps run without the mirror (the leaf is empty after the snapshot, and
// nothing writes to it).
import { randomUUID } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { XenError } from '../errors.js';
import type { HostDb, Tx } from '../toolstack/db/hostdb.js';
import type { Ref } from '../toolstack/db/records.js';
import { writeImage, type CopyControl } from './copy.js';
import type { Disk } from './disk.js';
import { JOURNAL_DIR, journalDone, journalWrite, type Journals } from './journal.js';
import { MirrorDisk, type MirrorTarget } from './mirror.js';
import { imageFormat } from './open.js';
import { BASE_NAME, PARENT_KEY, snapshotVdi, type LiveDisk, type LiveDisks } from './snapshot.js';
import { CREATED_KEY, isLocation, isPlugged, refreshSr, srPath } from './sr.js';

export interface MigrateOptions extends CopyControl {
  /** Called after each step ('mirroring', 'copied', 'composed', 'switched'): tests fail or kill there. */
  readonly onStep?: (step: string) => Promise<void> | void;
}

export interface MigrateResult {
  /** Longest pause of the guest's I/O (ms), 0 without a guest. */
  readonly maxPausedMs: number;
  /** Bytes of the base chain copied, and bytes the mirror wrote to the destination. */
  readonly copiedBytes: number;
  readonly mirroredBytes: number;
  /** How long the copy of the base chain took (ms): what its rate is measured over. */
  readonly copyMs: number;
}

interface MigrateJournal {
  readonly op: 'migrate';
  readonly vdi: string;
  /** Files made in the destination SR. */
  readonly files: readonly string[];
  /** The VDI's SR (uuid) and file before: the file goes once the records name the destination. */
  readonly src?: { readonly sr: string; readonly location: string };
}

/**
 * Move VDI `ref` to SR `dest` (both directory SRs), live if a backend of this process serves it.
 * `destroySnapshot` removes the snapshot the migration made (vdi-destroy, which starts the
 * source's garbage collector).
 */
export async function migrateVdi(db: HostDb, ref: Ref<'VDI'>, dest: Ref<'SR'>, liveDisks: LiveDisks,
  destroySnapshot: (uuid: string) => Promise<unknown>, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const { vdi, srcDir, destDir } = await db.read((tx) => {
    const v = tx.VDI.get(ref);
    return { vdi: v, srcDir: srPath(tx, v.SR), destDir: srPath(tx, dest) };
  });
  if (vdi.SR === dest) throw new XenError('EINVAL', `VDI ${vdi.uuid} is in that SR already`);
  if (srcDir === null || destDir === null) throw new XenError('EOPNOTSUPP', 'live migration moves images between directory SRs, not RAM SRs');
  if (vdi.read_only || !vdi.managed) throw new XenError('EINVAL', `VDI ${vdi.uuid} is read-only or hidden: only a writable VDI is migrated`);
  const format = vdi.sm_config['format'] ?? 'raw';
  const f = imageFormat(format);
  if (!f.layers) throw new XenError('EOPNOTSUPP', `a ${format} VDI cannot be migrated live: vhd and qcow2 can`);
  const { live, foreign } = await liveDisks({ uuid: vdi.uuid, path: join(srcDir, vdi.location) });
  if (foreign.length || live.length > 1) throw new XenError('EBUSY', `VDI ${vdi.uuid} is served by ${[...foreign, `${live.length} backends`].join(', ')}: only one backend of dom0 can be switched`);
  const backend: LiveDisk | undefined = live[0];
  let maxPausedMs = 0;

  const destBaseUuid = randomUUID();
  const destLeaf = join(destDir, `${vdi.uuid}.${f.extension}`);
  const destBase = join(destDir, `${destBaseUuid}.${f.extension}`);
  const srcSr = await db.read((tx) => tx.SR.get(vdi.SR).uuid);
  const files = [destLeaf, destBase].map((p) => p.slice(destDir.length + 1));
  const journal = await journalWrite(destDir, { op: 'migrate', vdi: vdi.uuid, files, src: { sr: srcSr, location: vdi.location } } satisfies MigrateJournal, files);
  let mirror: MirrorDisk | undefined;
  let target: Disk | undefined;
  let opening: Promise<Disk> | undefined;
  let switched = false;
  let moved = false;
  let copiedBytes = 0;
  let copyMs = 0;
  let srcBase = '';
  let snapUuid: string | undefined;
  try {
    // 1 and 2. Freeze the base; in the same pause of the guest's I/O, start the mirror onto a
    // new leaf in the destination over the source's base (opened there, once the base is final).
    const snap = await snapshotVdi(db, ref, { name: migrationSnapshotName(vdi.uuid), clone: false }, liveDisks, {
      before: async (base) => {
        srcBase = base;
        await f.layers!.createChild(destLeaf, base);
      },
      wrap: async (disk, final) => {
        // Opened once the base is final (a qcow2 write may copy from it); mirrored writes wait for that.
        // Once open, writes go to it straight (no step of their own: every guest write is mirrored).
        let opened: Disk | undefined;
        // Over the source's base: the chain below it stays in the source SR, as wherever xenode opens the VDI.
        opening = final.then(() => f.open(destLeaf, { readOnly: false, confine: srcDir })).then((d) => (opened = d));
        opening.catch(() => {});
        const later: MirrorTarget = {
          write: (sector, bufs) => (opened ? opened.write(sector, bufs) : opening!.then((d) => d.write(sector, bufs))),
          flush: () => (opened ? opened.flush() : opening!.then((d) => d.flush())),
        };
        return (mirror = new MirrorDisk(disk, later));
      },
    });
    maxPausedMs = snap.pausedMs;
    if (opening) target = await opening;
    snapUuid = await db.read((tx) => tx.VDI.get(snap.ref).uuid);
    await opts.onStep?.('mirroring');
    // 3. The base chain, flattened into one image.
    const base = await f.open(srcBase, { readOnly: true, confine: srcDir });
    const t0 = performance.now();
    try {
      await writeImage(base, destBase, format, opts);
    } finally {
      await base.close();
    }
    copyMs = performance.now() - t0;
    await opts.onStep?.('copied');
    // 4. Compose: the destination's leaf onto the copied base.
    await f.layers.relink(destLeaf, destBase);
    await opts.onStep?.('composed');
    // 5. The records move (the commit point): the destination's leaf has had every write since
    //    the snapshot (the mirror), so from here a crash leaves the VDI there, whole.
    const [leafSt, baseSt] = await Promise.all([stat(destLeaf), stat(destBase)]);
    copiedBytes = baseSt.blocks * 512;
    await db.transaction((tx) => {
      const v = tx.VDI.get(ref);
      tx.VDI.create({
        uuid: destBaseUuid, name_label: BASE_NAME, SR: dest, virtual_size: v.virtual_size, physical_utilisation: baseSt.blocks * 512,
        location: `${destBaseUuid}.${f.extension}`, managed: false, read_only: true, sm_config: { format }, other_config: { [CREATED_KEY]: 'true' },
      });
      tx.VDI.update(ref, { SR: dest, location: `${vdi.uuid}.${f.extension}`, physical_utilisation: leafSt.blocks * 512,
        sm_config: { ...v.sm_config, [PARENT_KEY]: destBaseUuid }, other_config: { ...v.other_config, [CREATED_KEY]: 'true' } });
      refreshSr(tx, dest);
      refreshSr(tx, vdi.SR);
    });
    moved = true;
    await opts.onStep?.('moved');
    // 6. The guest onto the destination.
    const composed = backend && mirror && !mirror.broken ? await f.layers.composeOver?.(target!, destBase) : undefined;
    if (backend && mirror && composed) {
      // The destination's leaf, as the mirror writes it, over the copied base: no pause, no
      // open; writes in flight finish through the mirror (a target failure now fails them).
      const m = mirror;
      m.strict = true;
      const s = await backend.swapDisk(composed.disk, m).catch(async (e: unknown) => {
        m.strict = false;
        await composed.drop().catch(() => {});
        throw e;
      });
      switched = true;
      maxPausedMs = Math.max(maxPausedMs, s.pausedMs);
      await s.drained;
      await m.close().catch(() => {});
      await composed.drop().catch(() => {});
    } else if (backend && mirror) {
      const m = mirror;
      maxPausedMs = Math.max(maxPausedMs, await backend.switchDisk(async () => {
        await m.flush();
        if (m.broken) throw new XenError('EIO', `the destination failed while mirroring: ${m.broken.message}`);
        return f.open(destLeaf, { readOnly: false, confine: destDir });
      }));
      switched = true;
      await m.close().catch(() => {});
      await target!.close().catch(() => {});
    }
    await opts.onStep?.('switched');
  } catch (e) {
    if (moved && !switched) {
      // Back to the records before step 5 (the source's leaf had every write too).
      await db.transaction((tx) => {
        const baseRef = tx.VDI.where('SR', dest).find((r) => tx.VDI.get(r).uuid === destBaseUuid);
        if (baseRef !== undefined) tx.VDI.destroy(baseRef);
        tx.VDI.update(ref, { SR: vdi.SR, location: vdi.location, physical_utilisation: vdi.physical_utilisation, sm_config: vdi.sm_config, other_config: vdi.other_config });
        refreshSr(tx, dest);
        refreshSr(tx, vdi.SR);
      }).catch(() => {});
    }
    if (backend && mirror && !switched) {
      const m = mirror;
      await backend.switchDisk(async () => m.source).catch(() => {});
      const t = target ?? await opening?.catch(() => undefined);
      await t?.close().catch(() => {});
    }
    await Promise.all([destLeaf, destBase].map((p) => rm(p, { force: true })));
    await journalDone(destDir, journal);
    if (snapUuid !== undefined) await destroySnapshot(snapUuid).catch(() => {});
    throw e;
  }
  // 7. The source's leaf and the snapshot go.
  await journalDone(destDir, journal);
  await rm(join(srcDir, vdi.location), { force: true });
  await destroySnapshot(snapUuid!);
  const mirrored = (mirror as MirrorDisk | undefined)?.mirrored ?? 0;
  return { maxPausedMs, copiedBytes, mirroredBytes: mirrored, copyMs };
}

/** The snapshot a migration of VDI `vdi` made (`migrate-<uuid>`), if any. */
export const migrationSnapshotName = (vdi: string) => `migrate-${vdi}`;

/** A leftover migration's journal left for later: an SR it names is unplugged. */
export interface DeferredMigration {
  /** The journal's path. */
  readonly journal: string;
  /** The migrated VDI's uuid. */
  readonly vdi: string;
  /** Its SR (the migration's destination), and the files it names there: sr-scan must not introduce them meanwhile. */
  readonly sr: Ref<'SR'>;
  readonly files: readonly string[];
  readonly why: string;
}

/**
 * After a crash, in the destination SR: if the records name the destination (the commit point
 * was passed), the source's old leaf goes; else the destination's files go. Either way the
 * migration's snapshot goes (its record, and its file if nothing is made over it), and the
 * source's garbage collector does the rest. A journal whose source or snapshot SR is unplugged
 * is left for a recovery after that SR is plugged again (returned), never failing this SR's.
 */
export async function recoverMigrations(db: HostDb, sr: Ref<'SR'>, dir: string, journals: Journals): Promise<DeferredMigration[]> {
  const deferred: DeferredMigration[] = [];
  for (const { id, entry } of journals.of('migrate')) {
    const j = entry as unknown as MigrateJournal;
    const state = await db.read((tx) => {
      const used = new Set(tx.VDI.where('SR', sr).map((r) => tx.VDI.get(r).location));
      const v = tx.VDI.getAll().map((r) => tx.VDI.get(r)).find((x) => x.uuid === j.vdi);
      const srcRef = j.src && tx.SR.getAll().find((r) => tx.SR.get(r).uuid === j.src!.sr);
      const snap = migrationSnapshot(tx, j.vdi);
      const unplugged = [srcRef, snap && tx.VDI.get(snap).SR].find((r) => r !== undefined && !isPlugged(tx, r));
      if (unplugged !== undefined) return { waitsFor: tx.SR.get(unplugged).name_label } as const;
      const srcDir = srcRef === undefined ? null : srPath(tx, srcRef);
      const srcUsed = srcRef === undefined ? true : tx.VDI.where('SR', srcRef).some((r) => tx.VDI.get(r).location === j.src!.location);
      return { used, movedHere: v?.SR === sr, srcDir, srcUsed };
    });
    if ('waitsFor' in state) {
      deferred.push({ journal: join(dir, JOURNAL_DIR, `${id}.json`), vdi: j.vdi, sr, files: j.files, why: `SR '${state.waitsFor}' it names is unplugged: recovered once that SR is plugged again` });
      continue;
    }
    // Its names are checked file names of an SR (readJournals).
    for (const file of j.files) if (!state.used.has(file)) await rm(join(dir, file), { force: true });
    if (state.movedHere && j.src && state.srcDir !== null && !state.srcUsed) {
      await rm(join(state.srcDir, j.src.location), { force: true });
    }
    await dropSnapshot(db, j.vdi);
    await journalDone(dir, id);
  }
  return deferred;
}

/** The snapshot a migration of VDI `vdi` made, if its record is there. */
function migrationSnapshot(tx: Tx, vdi: string): Ref<'VDI'> | undefined {
  return tx.VDI.getAll().find((x) => tx.VDI.get(x).name_label === migrationSnapshotName(vdi) && tx.VDI.get(x).is_a_snapshot);
}

/** Forget the migration's snapshot of `vdi`: its file goes unless others are made over it (then it stays as a hidden base). */
async function dropSnapshot(db: HostDb, vdi: string): Promise<void> {
  const found = await db.read((tx) => {
    const r = migrationSnapshot(tx, vdi);
    if (r === undefined) return undefined;
    const v = tx.VDI.get(r);
    const parentOfOthers = tx.VDI.where('SR', v.SR).some((x) => tx.VDI.get(x).sm_config[PARENT_KEY] === v.uuid);
    return { v, dir: srPath(tx, v.SR), parentOfOthers };
  });
  if (!found) return;
  const { v, dir, parentOfOthers } = found;
  if (!parentOfOthers && dir !== null && v.other_config[CREATED_KEY] === 'true' && isLocation(v.location)) await rm(join(dir, v.location), { force: true });
  await db.transaction((tx) => {
    const r = tx.VDI.getByUuid(v.uuid);
    if (parentOfOthers) tx.VDI.update(r, { managed: false, read_only: true, name_label: BASE_NAME, is_a_snapshot: false });
    else tx.VDI.destroy(r);
    refreshSr(tx, v.SR);
  });
}
