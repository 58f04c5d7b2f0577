// The garbage collector of an SR, as sm's cleanup does it for FileSR. A hidden image (a base
// made by a snapshot, managed=false) with no child left is deleted; one with a single child is
// coalesced with it, the child's data copied into the parent (sm's direction: child into
// parent):
// - the child hidden too: its children are relinked to the parent (their headers name it), then
//   the child goes;
// - the child a leaf (a VDI, when its snapshot was deleted): the parent, now holding the leaf's
//   data, is renamed over the leaf's file, so the VDI keeps its uuid and file name (sm's leaf
//   coalesce). A VHD or qcow2 leaf a guest of this process uses is coalesced under it (livecoalesce.ts:
//   copied while the guest writes, then a short pause switches the guest to the parent); any
//   other leaf in use is left for a later run (said in the report).
// Every coalesce is journaled (journal.ts) and each step can be redone: copying the child's
// sectors again writes the same data, a relink names the same parent, and a step that is done
// shows in the files (the child or the parent gone). So a kill -9 at any step leaves a chain
// that reads the same, and the next run finishes the job. The copy is throttled: it works at
// most `duty` of the time, sleeping in between, so a guest keeps its disk's throughput.
import { rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isXenError } from '../errors.js';
import type { HostDb } from '../toolstack/db/hostdb.js';
import type { Ref, VDIRecord } from '../toolstack/db/records.js';
import type { LayeredDisk } from './disk.js';
import { journalDone, journalWrite, readJournals, syncDir, type Journals } from './journal.js';
import { imageFormat } from './open.js';
import { recoverMigrations, type DeferredMigration } from './migrate.js';
import { coalesceLiveLeaf, copyRuns, servesLeaf, type LiveCoalesceResult } from './livecoalesce.js';
import { PARENT_KEY, ownedAs, recoverSnapshots, type LiveDisk, type LiveDisks } from './snapshot.js';
import { CREATED_KEY, refreshSr } from './sr.js';

/** The share of time a coalesce copies by default: the guest keeps the rest. */
export const GC_DUTY = 0.1;

export interface GcOptions {
  /** Share of wall time the copy may use, in (0, 1]. */
  readonly duty?: number;
  /** Who uses a VDI's image (empty: nobody); a leaf in use is not coalesced. */
  readonly users?: (vdi: { readonly uuid: string; readonly path: string }) => Promise<string[]>;
  /** Keep a VDI from being attached or snapshotted while its leaf is coalesced; the release, or undefined if it is busy. */
  readonly hold?: (uuid: string) => (() => void) | undefined;
  /** Bytes copied so far and the total of the coalesce running. */
  readonly progress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
  /** The backends of this process serving a VDI: a leaf one of them serves is coalesced live (livecoalesce.ts). */
  readonly live?: LiveDisks;
  /** Called after each step of a coalesce ('copied', 'renamed' or 'relinked', 'recorded'): tests kill the process there. */
  readonly onStep?: (step: string) => Promise<void> | void;
}

export interface GcReport {
  /** uuids of hidden images with no child, deleted. */
  readonly removed: string[];
  /** `live`: the leaf was coalesced under the guest using it. */
  readonly coalesced: { readonly parent: string; readonly child: string; readonly leaf: boolean; readonly live?: boolean; readonly pausedMs?: number }[];
  /** Leaves left for later, and why. */
  readonly deferred: { readonly uuid: string; readonly why: string }[];
}

interface CoalesceJournal {
  readonly op: 'coalesce';
  readonly format: string;
  readonly leaf: boolean;
  readonly parent: { readonly uuid: string; readonly location: string };
  readonly child: { readonly uuid: string; readonly location: string };
}

const exists = (path: string) => stat(path).then(() => true, () => false);

/** One pass over the SR at `dir`: finish interrupted operations, then delete and coalesce until nothing is left to do. */
export async function collectGarbage(db: HostDb, sr: Ref<'SR'>, dir: string, opts: GcOptions = {}): Promise<GcReport> {
  const report: GcReport = { removed: [], coalesced: [], deferred: [] };
  for (const m of await recover(db, sr, dir, await readJournals(dir), opts)) report.deferred.push({ uuid: m.vdi, why: `its migration's journal ${m.journal} is left: ${m.why}` });
  const deferred = new Set<string>();
  for (let round = 0; ; round++) {
    opts.signal?.throwIfAborted();
    const records = await db.read((tx) => tx.VDI.where('SR', sr).map((r) => tx.VDI.get(r)));
    if (round > records.length) break;
    const kids = new Map<string, VDIRecord[]>();
    for (const v of records) {
      const p = v.sm_config[PARENT_KEY];
      if (p !== undefined) kids.set(p, [...(kids.get(p) ?? []), v]);
    }
    const hidden = records.find((v) => !v.managed && !v.missing && (kids.get(v.uuid)?.length ?? 0) <= 1 && !deferred.has(v.uuid));
    if (!hidden) break;
    const children = kids.get(hidden.uuid) ?? [];
    if (children.length === 0) {
      if (hidden.other_config[CREATED_KEY] === 'true') await rm(join(dir, hidden.location), { force: true });
      await db.transaction((tx) => {
        tx.VDI.destroy(tx.VDI.getByUuid(hidden.uuid));
        refreshSr(tx, sr);
      });
      report.removed.push(hidden.uuid);
      continue;
    }
    const child = children[0]!;
    const leaf = child.managed;
    if (leaf && (kids.get(child.uuid)?.length ?? 0) > 0) {
      // A VDI (a read-only snapshot) with clones of its own stays what it is.
      deferred.add(hidden.uuid);
      continue;
    }
    if (child.other_config[CREATED_KEY] !== 'true') {
      // Coalescing ends with the child's file deleted or replaced: never a file xenode did not make.
      deferred.add(hidden.uuid);
      report.deferred.push({ uuid: child.uuid, why: 'has an image xenode did not make (sr-scan found it): it is not coalesced' });
      continue;
    }
    const release = leaf && opts.hold ? opts.hold(child.uuid) : () => {};
    if (!release) {
      deferred.add(hidden.uuid);
      report.deferred.push({ uuid: child.uuid, why: 'is busy (a snapshot runs on it)' });
      continue;
    }
    try {
      const users = leaf ? await opts.users?.({ uuid: child.uuid, path: join(dir, child.location) }) ?? [] : [];
      const backend = users.length ? await liveLeaf(opts, child, join(dir, child.location), users) : undefined;
      if (users.length && !backend) {
        deferred.add(hidden.uuid);
        report.deferred.push({ uuid: child.uuid, why: `in use by ${users.join(', ')}: its leaf is coalesced once it is free` });
        continue;
      }
      const j: CoalesceJournal = {
        op: 'coalesce', format: hidden.sm_config['format'] ?? 'raw', leaf,
        parent: { uuid: hidden.uuid, location: hidden.location }, child: { uuid: child.uuid, location: child.location },
      };
      const id = await journalWrite(dir, j, [j.parent.location, j.child.location]);
      const done = await coalesce(db, sr, dir, j, opts, backend).catch(async (e: unknown) => {
        // A live coalesce that failed before its switch left the chain as it was (and the guest on it).
        if (!backend) throw e;
        await journalDone(dir, id);
        // The guest went away during it: the next round coalesces the leaf offline.
        if (isXenError(e, 'ENODEV') && !opts.signal?.aborted) return 'again' as const;
        // The guest outwrote the throttled copy: a later run tries again.
        if (isXenError(e, 'EAGAIN')) return { outrun: (e as Error).message };
        throw e;
      });
      if (done === 'again') continue;
      if (typeof done === 'object' && 'outrun' in done) {
        deferred.add(hidden.uuid);
        report.deferred.push({ uuid: child.uuid, why: done.outrun });
        continue;
      }
      await journalDone(dir, id);
      if (typeof done !== 'string') report.coalesced.push({ parent: hidden.uuid, child: child.uuid, leaf, ...(done.live && { live: true, pausedMs: done.live.pausedMs }) });
      else {
        deferred.add(hidden.uuid);
        report.deferred.push({ uuid: done, why: 'is busy (a snapshot or migration runs on it): its chain is coalesced later' });
      }
    } finally {
      release();
    }
  }
  return report;
}

/**
 * Finish what a crash interrupted (the SR's journals, read once by the caller): snapshots,
 * migrations into this SR, then coalesces; the migrations left for later (an SR they name is unplugged).
 */
export async function recover(db: HostDb, sr: Ref<'SR'>, dir: string, journals: Journals, opts: GcOptions = {}): Promise<DeferredMigration[]> {
  await recoverSnapshots(db, sr, dir, journals);
  const deferred = await recoverMigrations(db, sr, dir, journals);
  for (const { id, entry } of journals.of('coalesce')) {
    // A busy VDI leaves the job undone but the chain consistent: the journal goes, a later run starts afresh.
    await coalesce(db, sr, dir, entry as unknown as CoalesceJournal, opts);
    await journalDone(dir, id);
  }
  return deferred;
}

/**
 * The steps of one coalesce; each is skipped when the files show it done. A hidden child's
 * children are read from the records after the copy (a snapshot may have split one meanwhile)
 * and held while they are relinked; if one is busy, the coalesce stops there (the busy VDI's
 * uuid; else what a live leaf-coalesce measured): the copy changed nothing any reader sees.
 */
async function coalesce(db: HostDb, sr: Ref<'SR'>, dir: string, j: CoalesceJournal, opts: GcOptions, backend?: LiveDisk): Promise<{ live?: LiveCoalesceResult } | string> {
  const f = imageFormat(j.format);
  const [parentPath, childPath] = [join(dir, j.parent.location), join(dir, j.child.location)];
  const releases: (() => void)[] = [];
  let live: LiveCoalesceResult | undefined;
  try {
    if (backend && await exists(parentPath)) {
      live = await coalesceLiveLeaf(f.layers!.live, backend, childPath, parentPath, dir, {
        duty: opts.duty ?? GC_DUTY, ...(opts.signal && { signal: opts.signal }), ...(opts.progress && { progress: opts.progress }), ...(opts.onStep && { onStep: opts.onStep }),
      });
      await opts.onStep?.('renamed');
    } else if (await exists(j.leaf ? parentPath : childPath)) {
      await copyDown(f, childPath, parentPath, opts);
      await opts.onStep?.('copied');
      if (j.leaf) {
        await rename(parentPath, childPath);
        await syncDir(dir);
        await opts.onStep?.('renamed');
      } else {
        const grandchildren = await db.read((tx) => tx.VDI.where('SR', sr).map((r) => tx.VDI.get(r)).filter((v) => v.sm_config[PARENT_KEY] === j.child.uuid));
        for (const g of grandchildren) {
          const release = g.managed && opts.hold ? opts.hold(g.uuid) : () => {};
          if (!release) return g.uuid;
          releases.push(release);
        }
        for (const g of grandchildren) await f.layers!.relink(join(dir, g.location), parentPath);
        await opts.onStep?.('relinked');
      }
    }
    await record(db, sr, j, (await stat(j.leaf ? childPath : parentPath).catch(() => null))?.blocks ?? 0);
  } finally {
    for (const r of releases) r();
  }
  await opts.onStep?.('recorded');
  if (!j.leaf) {
    await rm(childPath, { force: true });
    await syncDir(dir);
  }
  return live ? { live } : {};
}

/** The records after a coalesce (idempotent: a run after a crash may repeat it). */
async function record(db: HostDb, sr: Ref<'SR'>, j: CoalesceJournal, physical: number): Promise<void> {
  await db.transaction((tx) => {
    const find = (uuid: string) => tx.VDI.where('SR', sr).find((r) => tx.VDI.get(r).uuid === uuid);
    const parentRef = find(j.parent.uuid);
    const childRef = find(j.child.uuid);
    if (j.leaf) {
      if (parentRef !== undefined && childRef !== undefined) {
        const [parent, child] = [tx.VDI.get(parentRef), tx.VDI.get(childRef)];
        const grand = parent.sm_config[PARENT_KEY];
        const { [PARENT_KEY]: _, ...rest } = child.sm_config;
        // The leaf's name is now the parent's file: xenode's only if the parent's was.
        tx.VDI.update(childRef, {
          physical_utilisation: physical * 512, sm_config: { ...rest, ...(grand !== undefined && { [PARENT_KEY]: grand }) },
          other_config: ownedAs(parent.other_config, child.other_config),
        });
      }
      if (parentRef !== undefined) tx.VDI.destroy(parentRef);
    } else {
      // The relinked children: every record still naming the child.
      for (const r of tx.VDI.where('SR', sr)) {
        const v = tx.VDI.get(r);
        if (v.sm_config[PARENT_KEY] === j.child.uuid) {
          tx.VDI.update(r, { sm_config: { ...v.sm_config, [PARENT_KEY]: j.parent.uuid } });
        }
      }
      if (childRef !== undefined) tx.VDI.destroy(childRef);
      if (parentRef !== undefined) tx.VDI.update(parentRef, { physical_utilisation: physical * 512 });
    }
    refreshSr(tx, sr);
  });
}

/** Gaps between the child's runs copied along with them (sectors): see copyDown. */
const GAP_FILL_SECTORS = 128;

/**
 * Copy the sectors the child image holds itself into its parent, throttled; then flush the
 * parent. Gaps of up to GAP_FILL_SECTORS between two runs are copied too: there the child
 * reads what the parent's chain holds, so writing that into the parent changes nothing any
 * reader sees (the parent's only child is this one), and a child of scattered 4 KiB writes is
 * copied in long runs instead of one short run at a time.
 */
async function copyDown(f: ReturnType<typeof imageFormat>, childPath: string, parentPath: string, opts: GcOptions): Promise<void> {
  const duty = opts.duty ?? GC_DUTY;
  const confine = dirname(childPath);
  const child = (await f.open(childPath, { readOnly: true, confine })) as LayeredDisk;
  try {
    const parent = await f.open(parentPath, { readOnly: false, confine });
    try {
      const runs: [number, number][] = [];
      for await (const [s, n] of child.leafExtents()) {
        const last = runs[runs.length - 1];
        if (last && s - (last[0] + last[1]) <= GAP_FILL_SECTORS) last[1] = s + n - last[0];
        else runs.push([s, n]);
      }
      await copyRuns(child, parent, runs, { duty, ...(opts.signal && { signal: opts.signal }), ...(opts.progress && { progress: opts.progress }) });
      await parent.flush();
    } finally {
      await parent.close();
    }
  } finally {
    await child.close();
  }
}

/**
 * The one backend of this process serving a leaf as an image of its format (not a migration's
 * mirror, say), which a live leaf-coalesce can switch; undefined if there is none.
 */
async function liveLeaf(opts: GcOptions, leaf: VDIRecord, path: string, users: readonly string[]): Promise<LiveDisk | undefined> {
  const layers = imageFormat(leaf.sm_config['format'] ?? 'raw').layers;
  if (!opts.live || users.length !== 1 || !layers) return undefined;
  const { live, foreign } = await opts.live({ uuid: leaf.uuid, path });
  if (live.length !== 1 || foreign.length !== 0) return undefined;
  return await servesLeaf(layers.live, live[0]!.disk, path) ? live[0] : undefined;
}
