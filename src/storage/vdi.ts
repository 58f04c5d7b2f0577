// VDIs: the disks of an SR, as records in the host database and images in the SR's directory,
// named `<uuid>.<format extension>` as XCP's FileSR names them (so no user's text becomes a
// path). A RAM SR's VDIs are RAM disks, empty each time they are attached. Destroying or
// resizing a VDI that a running guest uses is refused: `users` says who uses one (the
// toolstack reads that from the backends in xenstore).
import { randomUUID } from 'node:crypto';
import { lstat, realpath, rm, statfs } from 'node:fs/promises';
import { basename, isAbsolute, relative } from 'node:path';
import { XenError, isXenError } from '../errors.js';
import type { Tx } from '../toolstack/db/hostdb.js';
import { isUuid, type Ref, type VDIRecord } from '../toolstack/db/records.js';
import { RAM_TARGET_PREFIX, imageFormat, parseSize } from './open.js';
import { openSource, writeImage, type CopyControl } from './copy.js';
import { SECTOR_SIZE, type Disk } from './disk.js';
import { CREATED_KEY, checkName, imagePath, isPlugged, refreshSr, srPath, type ScanReport, type Storage } from './sr.js';
import { confined } from './confine.js';
import { collectGarbage, recover, type GcOptions, type GcReport } from './gc.js';
import { BASE_NAME, PARENT_KEY, snapshotVdi, type LiveDisks, type SnapshotArgs } from './snapshot.js';
import { migrateVdi, recoverMigrations, type DeferredMigration, type MigrateOptions, type MigrateResult } from './migrate.js';
import { claimed, readJournals, watchOwned, type BadJournal } from './journal.js';

/** What a VDI (its image's real path) is used by: one line per user, e.g. "domain 3 ('web') as xvda"; empty when unused. */
export type VdiUsers = (vdi: { readonly uuid: string; readonly path: string | null }) => Promise<string[]>;

/** A VDI as vdi-list shows it. */
export interface VdiView {
  readonly ref: Ref<'VDI'>;
  readonly record: VDIRecord;
  readonly srUuid: string;
  readonly srName: string;
}

/** "8G" (or bytes) as a virtual size: whole sectors, rounded up as xe does. */
export function parseVirtualSize(text: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined || bytes === 0) throw new XenError('EINVAL', `size '${text.slice(0, 40)}' is not <bytes>[K|M|G|T] above 0`);
  return Math.ceil(bytes / SECTOR_SIZE) * SECTOR_SIZE;
}

/** An SR has too little room for an image: XAPI's SR_FULL [needed, free]. */
export class SrFull extends XenError {
  override name = 'SrFull';
  constructor(readonly sr: string, readonly needed: number, readonly free: number) {
    super('ENOSPC', `SR ${sr} is full: the copy needs about ${needed} bytes, ${free} are free`);
  }
}

/** A VDI by name or uuid (within one SR when `sr` is given). */
export function findVdi(tx: Tx, name: string, sr?: Ref<'SR'>): Ref<'VDI'> {
  if (isUuid(name)) {
    const ref = tx.VDI.getByUuid(name);
    if (sr !== undefined && tx.VDI.get(ref).SR !== sr) throw new XenError('ENOENT', `VDI ${name} is not in that SR`);
    return ref;
  }
  const refs = tx.VDI.getByNameLabel(name).filter((r) => sr === undefined || tx.VDI.get(r).SR === sr);
  if (refs.length === 0) throw new XenError('ENOENT', `no VDI named '${name}': \`xenode vdi-list\` shows them`);
  if (refs.length > 1) throw new XenError('EINVAL', `${refs.length} VDIs are named '${name}': name one by its uuid`);
  return refs[0]!;
}

/** The VDI's image path (null in a RAM SR). */
function vdiPath(tx: Tx, ref: Ref<'VDI'>): string | null {
  const vdi = tx.VDI.get(ref);
  const dir = srPath(tx, vdi.SR);
  return dir === null ? null : imagePath(dir, vdi);
}

export class Vdis {
  /** VDIs whose leaf the garbage collector is coalescing: not attached meanwhile. */
  readonly #held = new Set<string>();
  #gc: Promise<unknown> = Promise.resolve();

  /** `live` finds the backends of this process that serve a VDI (for snapshots under a running guest). */
  constructor(readonly storage: Storage, readonly users: VdiUsers, readonly live: LiveDisks = async () => ({ live: [], foreign: [] })) {}

  /**
   * vdi-snapshot / vdi-clone (snapshot.ts): O(1), under a running guest too (its I/O paused
   * for the switch only).
   */
  async snapshot(name: string, args: SnapshotArgs): Promise<VdiView & { pausedMs: number }> {
    const { ref, uuid } = await this.storage.db.read((tx) => {
      const r = findVdi(tx, name);
      return { ref: r, uuid: tx.VDI.get(r).uuid };
    });
    const release = this.#hold(uuid);
    if (!release) throw new XenError('EBUSY', `VDI ${uuid} is being snapshotted or coalesced: try again in a moment`);
    try {
      const r = await snapshotVdi(this.storage.db, ref, args, this.live);
      return { ...(await this.#view(r.ref)), pausedMs: r.pausedMs };
    } finally {
      release();
    }
  }

  /** vdi-migrate (migrate.ts): move a VDI to another directory SR, live under a running guest. */
  async migrate(name: string, destSr: string, opts: MigrateOptions = {}): Promise<VdiView & MigrateResult> {
    const dest = await this.storage.resolve(destSr);
    const { ref, uuid } = await this.storage.db.read((tx) => {
      const r = findVdi(tx, name);
      return { ref: r, uuid: tx.VDI.get(r).uuid };
    });
    const release = this.#hold(uuid);
    if (!release) throw new XenError('EBUSY', `VDI ${uuid} is being snapshotted, coalesced or migrated: try again in a moment`);
    try {
      const r = await migrateVdi(this.storage.db, ref, dest, this.live, (snap) => this.destroy(snap), opts);
      return { ...(await this.#view(ref)), ...r };
    } finally {
      release();
    }
  }

  /** Mark a VDI busy (a snapshot or a leaf coalesce runs on it); undefined if it is already. */
  #hold(uuid: string): (() => void) | undefined {
    if (this.#held.has(uuid)) return undefined;
    this.#held.add(uuid);
    return () => this.#held.delete(uuid);
  }

  /**
   * sr-scan: finish what a crash interrupted (journals, each SR's read once), reconcile records
   * with files (none that a running operation of this host is making), then collect garbage in
   * the background.
   */
  async scan(name: string): Promise<ScanReport> {
    const sr = await this.storage.resolve(name);
    // A scan after its directory was fixed plugs the SR again; one still unsafe is refused, the fix named.
    await this.storage.plug(sr);
    const dir = await this.storage.db.read((tx) => srPath(tx, sr));
    let bad: readonly BadJournal[] = [];
    const deferred: DeferredMigration[] = [];
    await this.#gc.then(async () => {
      // A migration's journal sits in its destination and may name a file in this SR: the other SRs' first.
      const dirs = await this.storage.db.read((tx) => tx.SR.getAll().filter((r) => r !== sr && isPlugged(tx, r)).map((r) => [r, srPath(tx, r)] as const));
      for (const [r, d] of dirs) if (d !== null) deferred.push(...await recoverMigrations(this.storage.db, r, d, await readJournals(d)));
      if (dir === null) return;
      const journals = await readJournals(dir);
      deferred.push(...await recover(this.storage.db, sr, dir, journals));
      bad = journals.bad;
    });
    const owned = dir === null ? undefined : watchOwned(dir);
    let report: ScanReport;
    try {
      // A deferred migration's files here are left as they are until it is recovered.
      // (Operations' names are read at the commit, the set live: one that began meanwhile counts too.)
      const left = new Set(deferred.filter((m) => m.sr === sr).flatMap((m) => m.files));
      report = await this.storage.scan(sr, { has: (file) => left.has(file) || owned?.names.has(file) === true });
    } finally {
      owned?.stop();
    }
    this.kickGarbageCollector(sr);
    // Journals recovery left alone (bad names, unreadable): reported, for the administrator to remove.
    return { ...report, skipped: [...report.skipped, ...bad.map((b) => ({ file: relative(dir!, b.path), why: b.why }))],
      deferred: deferred.map((m) => ({ journal: m.journal, why: `VDI ${m.vdi}'s migration: ${m.why}` })) };
  }

  /**
   * Run the garbage collector on an SR (by ref), after any run already going; the report.
   * Background runs (after vdi-destroy and sr-scan) go through here too, one at a time.
   */
  collectGarbage(sr: Ref<'SR'>, opts: Omit<GcOptions, 'users' | 'hold' | 'live'> = {}): Promise<GcReport> {
    const run = this.#gc.then(async () => {
      const dir = await this.storage.db.read((tx) => srPath(tx, sr));
      if (dir === null) return { removed: [], coalesced: [], deferred: [] };
      return collectGarbage(this.storage.db, sr, dir, {
        ...opts,
        users: async (v) => this.users({ uuid: v.uuid, path: await realpath(v.path).catch(() => v.path) }),
        hold: (uuid) => this.#hold(uuid),
        live: this.live,
      });
    });
    this.#gc = run.catch(() => {});
    return run;
  }

  /** Start the garbage collector in the background; its failures go to `log`. */
  kickGarbageCollector(sr: Ref<'SR'>, log: (line: string) => void = () => {}): void {
    this.collectGarbage(sr).then((r) => {
      for (const d of r.deferred) log(`gc: VDI ${d.uuid} ${d.why}`);
    }, (e: unknown) => log(`gc: ${(e as Error).message}`));
  }

  /** vdi-create: a new, empty image; its record. */
  async create(args: { sr: string; name: string; size: string; format?: string; description?: string }): Promise<VdiView> {
    checkName('VDI', args.name);
    const virtual_size = parseVirtualSize(args.size);
    const format = args.format ?? 'raw';
    const f = imageFormat(format);
    const { db } = this.storage;
    const sr = await this.storage.resolve(args.sr);
    const dir = await db.read((tx) => srPath(tx, sr));
    if (dir === null && format !== 'raw') throw new XenError('EINVAL', `a RAM SR holds raw disks, not ${format}`);
    const uuid = randomUUID();
    const location = dir === null ? '' : `${uuid}.${f.extension}`;
    const record = (physical_utilisation: number) =>
      this.#record({ uuid, name: args.name, description: args.description, sr, virtual_size, physical_utilisation, location, format, dir });
    if (dir === null) return record(0);
    return claimed(dir, [location], async () => {
      const path = `${dir}/${location}`;
      await f.create(path, virtual_size);
      return record((await f.info(path)).physicalUtilisation);
    });
  }

  /** The record of a new image (made by xenode); without one the image is removed. */
  async #record(a: { uuid: string; name: string; description: string | undefined; sr: Ref<'SR'>; virtual_size: number; physical_utilisation: number;
    location: string; format: string; dir: string | null }): Promise<VdiView> {
    const ref = await this.storage.db.transaction((tx) => {
      const r = tx.VDI.create({ uuid: a.uuid, name_label: a.name, name_description: a.description ?? '', SR: a.sr, virtual_size: a.virtual_size,
        physical_utilisation: a.physical_utilisation, location: a.location, sm_config: { format: a.format }, other_config: { [CREATED_KEY]: 'true' } });
      refreshSr(tx, a.sr);
      return r;
    }).catch(async (e: unknown) => {
      // No record, no image: an image without one would only come back as a stranger at the next sr-scan.
      if (a.dir !== null) await rm(`${a.dir}/${a.location}`, { force: true });
      throw e;
    });
    return this.#view(ref);
  }

  async list(sr?: string): Promise<VdiView[]> {
    const only = sr === undefined ? undefined : await this.storage.resolve(sr);
    await this.storage.defaultSr();
    const refs = await this.storage.db.read((tx) => (only === undefined ? tx.VDI.getAll() : tx.VDI.where('SR', only)));
    return Promise.all(refs.map((r) => this.#view(r)));
  }

  /** vdi-destroy: the record, and the image if xenode made it (an image found by sr-scan stays). */
  /** `gc: false`: no background collector run after it (the caller runs one, say after several destroys). */
  async destroy(name: string, opts: { gc?: boolean } = {}): Promise<{ uuid: string; kept: string | null }> {
    const { db } = this.storage;
    const { ref, vdi, path } = await db.read((tx) => {
      const r = findVdi(tx, name);
      return { ref: r, vdi: tx.VDI.get(r), path: vdiPath(tx, r) };
    });
    await this.#refuseInUse(vdi.uuid, path, 'destroyed');
    const ours = vdi.other_config[CREATED_KEY] === 'true';
    // An image others are made over stays, hidden, until the garbage collector has coalesced them (as sm does).
    const parentOfOthers = await db.read((tx) => tx.VDI.where('SR', vdi.SR).some((r) => tx.VDI.get(r).sm_config[PARENT_KEY] === vdi.uuid));
    if (path !== null && ours && !parentOfOthers) await rm(path, { force: true });
    await db.transaction((tx) => {
      if (parentOfOthers) tx.VDI.update(ref, { managed: false, read_only: true, name_label: BASE_NAME, is_a_snapshot: false });
      else tx.VDI.destroy(ref);
      refreshSr(tx, vdi.SR);
    });
    if (opts.gc !== false) this.kickGarbageCollector(vdi.SR);
    return { uuid: vdi.uuid, kept: path !== null && !ours ? path : null };
  }

  /** vdi-resize: grow the image (shrinking would cut the guest's file system, and xe's SRs refuse it too). */
  async resize(name: string, size: string): Promise<VdiView> {
    const { db } = this.storage;
    const virtual_size = parseVirtualSize(size);
    const { ref, vdi, path } = await db.read((tx) => {
      const r = findVdi(tx, name);
      return { ref: r, vdi: tx.VDI.get(r), path: vdiPath(tx, r) };
    });
    if (virtual_size < vdi.virtual_size) {
      throw new XenError('EINVAL', `VDI '${vdi.name_label}' is ${vdi.virtual_size} bytes: shrinking it to ${virtual_size} is not supported`);
    }
    if (vdi.read_only) throw new XenError('EROFS', `VDI '${vdi.name_label}' is read-only`);
    await this.#refuseInUse(vdi.uuid, path, 'resized');
    let physical_utilisation = vdi.physical_utilisation;
    if (path !== null) {
      const f = imageFormat(vdi.sm_config['format'] ?? 'raw');
      const real = await confined(path, path.slice(0, path.lastIndexOf('/')));
      await f.resize(real, virtual_size);
      physical_utilisation = (await f.info(real)).physicalUtilisation;
    }
    await db.transaction((tx) => {
      tx.VDI.update(ref, { virtual_size, physical_utilisation });
      refreshSr(tx, vdi.SR);
    });
    return this.#view(ref);
  }

  /**
   * vdi-import: a new VDI holding a copy of the image at `file` (an absolute path the host
   * reads), in the same format, its backing chain flattened; named after the file unless named.
   */
  async import(args: { sr: string; file: string; name?: string; format?: string; description?: string }, ctl: CopyControl = {}): Promise<VdiView> {
    const file = absolute(args.file);
    const name = checkName('VDI', args.name ?? basename(file));
    const sr = await this.storage.resolve(args.sr);
    const dir = await this.storage.db.read((tx) => srPath(tx, sr));
    if (dir === null) throw new XenError('EINVAL', 'a RAM SR cannot hold an imported image: import into a file SR');
    const { format, disk } = await openSource(file, args.format);
    const uuid = randomUUID();
    const location = `${uuid}.${imageFormat(format).extension}`;
    const virtual_size = disk.sectors * SECTOR_SIZE;
    const path = `${dir}/${location}`;
    return claimed(dir, [location], async () => {
      try {
        await writeImage(disk, path, format, ctl);
      } finally {
        await disk.close();
      }
      const { physicalUtilisation } = await imageFormat(format).info(path).catch(async (e: unknown) => {
        await rm(path, { force: true });
        throw e;
      });
      return this.#record({ uuid, name, description: args.description, sr, virtual_size, physical_utilisation: physicalUtilisation, location, format, dir });
    });
  }

  /**
   * vdi-copy (XAPI's VDI.copy): a new VDI in `sr` (the source's SR when absent) holding a full,
   * flattened copy of the VDI's contents, in its format; refused while a guest writes it. The
   * image chain's allocated bytes must fit in the destination's free space (SrFull), and a disk
   * that fills up while copying is SrFull too.
   */
  async copy(name: string, args: { sr?: string; name?: string; description?: string }, ctl: CopyControl = {}): Promise<VdiView> {
    const { db } = this.storage;
    const { vdi, path, chainBytes } = await db.read((tx) => {
      const r = findVdi(tx, name);
      let bytes = 0;
      for (let v: VDIRecord | undefined = tx.VDI.get(r), n = 0; v && n < 64; n++) {
        bytes += v.physical_utilisation;
        const parent: string | undefined = v.sm_config[PARENT_KEY];
        v = parent === undefined ? undefined : tx.VDI.get(tx.VDI.getByUuid(parent));
      }
      return { vdi: tx.VDI.get(r), path: vdiPath(tx, r), chainBytes: bytes };
    });
    const sr = args.sr === undefined ? vdi.SR : await this.storage.resolve(args.sr);
    const dir = await db.read((tx) => srPath(tx, sr));
    if (path === null) throw new XenError('EINVAL', `VDI '${vdi.name_label}' is in a RAM SR: there is nothing to copy`);
    if (dir === null) throw new XenError('EINVAL', 'a RAM SR cannot hold a copied image: copy into a file SR');
    if (vdi.missing) throw new XenError('ENOENT', `VDI '${vdi.name_label}' (${vdi.uuid}) is missing`);
    if (!vdi.read_only) await this.#refuseInUse(vdi.uuid, path, 'copied');
    const newName = checkName('VDI', args.name ?? vdi.name_label);
    const srUuid = await db.read((tx) => tx.SR.get(sr).uuid);
    const fs = await statfs(dir);
    if (chainBytes > fs.bavail * fs.bsize) throw new SrFull(srUuid, chainBytes, fs.bavail * fs.bsize);
    const format = vdi.sm_config['format'] ?? 'raw';
    const f = imageFormat(format);
    const uuid = randomUUID();
    const location = `${uuid}.${f.extension}`;
    const dest = `${dir}/${location}`;
    const src = await openReadOnly(vdi, path);
    return claimed(dir, [location], async () => {
      try {
        await writeImage(src, dest, format, ctl).catch(async (e: unknown) => {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC' && !isXenError(e, 'ENOSPC')) throw e;
          const now = await statfs(dir);
          throw new SrFull(srUuid, chainBytes, now.bavail * now.bsize);
        });
      } finally {
        await src.close();
      }
      const { physicalUtilisation } = await f.info(dest).catch(async (e: unknown) => {
        await rm(dest, { force: true });
        throw e;
      });
      return this.#record({ uuid, name: newName, description: args.description ?? vdi.name_description, sr, virtual_size: vdi.virtual_size,
        physical_utilisation: physicalUtilisation, location, format, dir });
    });
  }

  /** vdi-export: a new image of `format` at `file` (absolute, must not exist) with the VDI's contents; refused while a guest uses the VDI. */
  async export(name: string, args: { file: string; format: string }, ctl: CopyControl = {}): Promise<{ uuid: string; file: string }> {
    const file = absolute(args.file);
    imageFormat(args.format);
    const { vdi, path } = await this.storage.db.read((tx) => {
      const r = findVdi(tx, name);
      return { vdi: tx.VDI.get(r), path: vdiPath(tx, r) };
    });
    if (path === null) throw new XenError('EINVAL', `VDI '${vdi.name_label}' is in a RAM SR: there is nothing to export`);
    await this.#refuseInUse(vdi.uuid, path, 'exported');
    if (await lstat(file).then(() => true, () => false)) throw new XenError('EEXIST', `${file} exists already: export writes a new file`);
    const src = await openReadOnly(vdi, path);
    try {
      await writeImage(src, file, args.format, ctl);
    } finally {
      await src.close();
    }
    return { uuid: vdi.uuid, file };
  }

  /**
   * A disk target `vdi:<name or uuid>` as a block backend's params ("<format>:<path>", or
   * raw:ram:<size> in a RAM SR), and the VDI's uuid for the backend node.
   */
  async diskParams(name: string, access: 'ro' | 'rw'): Promise<{ uuid: string; params: string }> {
    await this.storage.defaultSr();
    const { vdi, path } = await this.storage.db.read((tx) => {
      const r = findVdi(tx, name);
      return { vdi: tx.VDI.get(r), path: vdiPath(tx, r) };
    });
    if (vdi.missing) throw new XenError('ENOENT', `VDI '${vdi.name_label}' (${vdi.uuid}) is missing: its image is gone (see \`xenode sr-scan\`)`);
    if (!vdi.managed) throw new XenError('EINVAL', `VDI ${vdi.uuid} is a hidden base of other VDIs: attach one of them`);
    if (this.#held.has(vdi.uuid)) throw new XenError('EBUSY', `VDI '${vdi.name_label}' is being coalesced by the garbage collector: try again in a moment`);
    if (access === 'rw' && vdi.read_only) throw new XenError('EROFS', `VDI '${vdi.name_label}' is read-only: attach it with access=ro`);
    const format = vdi.sm_config['format'] ?? 'raw';
    if (path === null) return { uuid: vdi.uuid, params: `raw:${RAM_TARGET_PREFIX}${sizeText(vdi.virtual_size)}` };
    return { uuid: vdi.uuid, params: `${format}:${await confined(path, path.slice(0, path.lastIndexOf('/')))}` };
  }

  async #refuseInUse(uuid: string, path: string | null, what: string): Promise<void> {
    const real = path === null ? null : await realpath(path).catch(() => path);
    const users = await this.users({ uuid, path: real });
    if (users.length) throw new XenError('EBUSY', `VDI ${uuid} is in use by ${users.join(', ')} and cannot be ${what}: detach it or stop the guest first`);
  }

  #view(ref: Ref<'VDI'>): Promise<VdiView> {
    return this.storage.db.read((tx) => {
      const record = tx.VDI.get(ref);
      const sr = tx.SR.get(record.SR);
      return { ref, record, srUuid: sr.uuid, srName: sr.name_label };
    });
  }
}

/** A VDI's image (its chain read through), opened read-only, its path and its parents' confined to its SR's directory. */
async function openReadOnly(vdi: VDIRecord, path: string): Promise<Disk> {
  const dir = path.slice(0, path.lastIndexOf('/'));
  return imageFormat(vdi.sm_config['format'] ?? 'raw').open(await confined(path, dir), { readOnly: true, confine: dir });
}

/** A host path from a user: absolute, without NULs. */
function absolute(path: string): string {
  if (!isAbsolute(path) || path.includes('\0')) throw new XenError('EINVAL', `file=${path.slice(0, 80)}: give an absolute path`);
  return path;
}

/** Bytes as open.ts's RAM target takes them: the largest unit that divides them exactly. */
function sizeText(bytes: number): string {
  for (const [u, n] of [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) {
    if (bytes % n === 0) return `${bytes / n}${u}`;
  }
  return String(bytes);
}
