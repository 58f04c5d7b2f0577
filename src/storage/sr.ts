// Storage repositories as XCP's FileSR keeps them: a directory of images, or RAM, with SR, PBD
// and VDI records in the host database (toolstack/db, a leaf module every layer may use). The
// SR's directory is in its PBD's device_config `location`, as XAPI has it. The host's default
// SR, `default`, is the state dir's images directory (where bare-name disk targets live), made
// on first use. sr-scan reconciles records with files: it introduces images it finds (only
// files named `<uuid>.<ext>`, as FileSR picks up `<uuid>.vhd` and `<uuid>.raw` only), marks
// records whose file is gone `missing`, and deletes nothing. An SR is made in a new or empty
// directory (FileSR's create: SRExists otherwise), so no file of the host becomes a VDI.
import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir, opendir, readdir, realpath, stat, statfs } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { XenError } from '../errors.js';
import type { HostDb, Tx } from '../toolstack/db/hostdb.js';
import { NULL_REF, isUuid, type Ref, type SRRecord, type SrType, type VDIRecord } from '../toolstack/db/records.js';
import { kindOf } from './named.js';
import { formatOfExtension, imageFormat } from './open.js';

export const DEFAULT_SR_NAME = 'default';

/** other_config keys xenode sets: the host's default SR, and images xenode made (the only ones it deletes). */
export const DEFAULT_SR_KEY = 'xenode-default';
export const CREATED_KEY = 'xenode-created';
/** PBD other_config key: why plug refused the SR's directory (while its PBD is unplugged). */
const UNPLUGGED_KEY = 'xenode-unplugged';

const MAX_NAME = 255;
/** File names an SR's images may have: no separators, no leading dot. */
const LOCATION_RE = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}$/;

/** Whether `name` is a file name an SR's image may have (what records and journals name). */
export function isLocation(name: string): boolean {
  return LOCATION_RE.test(name);
}

/**
 * A user's name for an SR or VDI: what the CLI and a config's vdi: target can name again. A
 * name shaped like a uuid would shadow one, so it is refused, as are control characters,
 * commas (the separator of disk specs) and '/'.
 */
export function checkName(what: string, name: string): string {
  const problem = name === '' ? 'is empty'
    : name.length > MAX_NAME ? `is longer than ${MAX_NAME} characters`
      : /[\x00-\x1f\x7f]/.test(name) ? 'has a control character'
        : /[,/]/.test(name) ? "has a ',' or '/'"
          : isUuid(name) ? 'looks like a uuid'
            : name !== name.trim() ? 'starts or ends with a space' : undefined;
  if (problem) throw new XenError('EINVAL', `${what} name '${name.slice(0, 80)}' ${problem}`);
  return name;
}

/** sr-create over a directory that holds files already: FileSR's SRExists (sm error 42). */
export class SrExists extends XenError {
  override name = 'SrExists';
  constructor(readonly path: string) {
    super('EEXIST', `path=${path} is not empty: an SR's directory must be new or empty, so that no file of the host becomes a VDI`);
  }
}

/** The image file name sr-scan introduces: `<uuid>.<ext>` of a known format, as VDIs are named; its uuid and format. */
function imageName(file: string): { uuid: string; format: string } | undefined {
  const dot = file.lastIndexOf('.');
  const uuid = file.slice(0, dot);
  const format = formatOfExtension(file.slice(dot + 1));
  return dot > 0 && isUuid(uuid) && format !== undefined ? { uuid, format } : undefined;
}

/** An SR as sr-list shows it. */
export interface SrView {
  readonly ref: Ref<'SR'>;
  readonly record: SRRecord;
  /** Its directory; null for a RAM SR. */
  readonly path: string | null;
}

export interface ScanReport {
  readonly sr: string;
  /** uuids of VDIs made for images found. */
  readonly introduced: string[];
  /** uuids of VDIs whose image is gone (kept, marked missing). */
  readonly missing: string[];
  /** uuids of VDIs found again after being missing. */
  readonly found: string[];
  /** Files left alone, and why. */
  readonly skipped: { readonly file: string; readonly why: string }[];
  /** Journals of interrupted operations left for later (a migration whose other SR is unplugged), and why. */
  readonly deferred: { readonly journal: string; readonly why: string }[];
}

/** The SR's PBD and the directory its device_config names (null for a RAM SR), plugged or not. */
function srPbd(tx: Tx, sr: Ref<'SR'>): { pbd: Ref<'PBD'> | undefined; location: string | null } {
  const [pbd] = tx.PBD.where('SR', sr);
  if (tx.SR.get(sr).type === 'ram') return { pbd, location: null };
  const location = pbd === undefined ? undefined : tx.PBD.get(pbd).device_config['location'];
  if (location === undefined) throw new XenError('EIO', `SR ${tx.SR.get(sr).uuid} has no PBD with a location`);
  return { pbd: pbd!, location };
}

/** The SR's directory, or null for a RAM SR, whether its PBD is plugged or not (sr-list, overlap checks). */
export function srLocation(tx: Tx, sr: Ref<'SR'>): string | null {
  return srPbd(tx, sr).location;
}

/** Whether the SR can be used: a RAM SR, or a directory SR whose PBD is plugged. */
export function isPlugged(tx: Tx, sr: Ref<'SR'>): boolean {
  const { pbd, location } = srPbd(tx, sr);
  return location === null || tx.PBD.get(pbd!).currently_attached;
}

/** The SR's directory to use, or null for a RAM SR; SrUnplugged if its PBD is not plugged (plug refused it). */
export function srPath(tx: Tx, sr: Ref<'SR'>): string | null {
  const { pbd, location } = srPbd(tx, sr);
  if (location !== null && !tx.PBD.get(pbd!).currently_attached) throw new SrUnplugged(sr, tx.SR.get(sr).name_label, tx.PBD.get(pbd!).other_config[UNPLUGGED_KEY] ?? 'it is not plugged');
  return location;
}

/** An SR whose directory failed the check at plug (owner, mode): its ref and name, and why (naming the fix). */
export class SrUnplugged extends XenError {
  override name = 'SrUnplugged';
  constructor(readonly ref: Ref<'SR'>, readonly sr: string, readonly why: string) {
    super('EACCES', `SR '${sr}' is unplugged: ${why}; once fixed, \`xenode sr-scan '${sr}'\` plugs it again`);
  }
}

/** An SR's directory that is not safe to use (others could write in it, or it is no directory): what is wrong, and the command that fixes it. */
export class SrDirUnsafe extends XenError {
  override name = 'SrDirUnsafe';
  constructor(readonly path: string, readonly why: string, readonly fix: string) {
    super('EACCES', `path=${path} ${why} (fix: ${fix})`);
  }
}

/** Where a VDI's image is: inside its SR's directory, checked (records come from a file anyone with the state dir could edit). */
export function imagePath(dir: string, vdi: VDIRecord): string {
  if (!isLocation(vdi.location)) throw new XenError('EINVAL', `VDI ${vdi.uuid} has location '${vdi.location.slice(0, 80)}', not a file name in its SR`);
  return join(dir, vdi.location);
}

/** The SRs of a host and their records. */
export class Storage {
  constructor(readonly db: HostDb, readonly defaultPath: string) {}

  /** The default SR, made (with its directory) on first use. */
  async defaultSr(): Promise<Ref<'SR'>> {
    await mkdir(this.defaultPath, { recursive: true, mode: 0o700 });
    const physical_size = await capacity(this.defaultPath);
    return this.db.transaction((tx) => {
      const [found] = tx.SR.getAll().filter((r) => tx.SR.get(r).other_config[DEFAULT_SR_KEY] === 'true');
      if (found !== undefined) return found;
      return createSr(tx, { name_label: DEFAULT_SR_NAME, name_description: "the host's local storage", type: 'file', physical_size,
        other_config: { [DEFAULT_SR_KEY]: 'true' } }, this.defaultPath);
    });
  }

  /** sr-create: a directory SR (made if absent; an existing one must be empty) or a RAM SR. */
  async create(args: { name: string; type: SrType; path?: string; description?: string }): Promise<SrView> {
    checkName('SR', args.name);
    await this.defaultSr();
    // Before the directory is made; the transaction below checks again.
    await this.db.read((tx) => this.#nameFree(tx, args.name));
    let path: string | null = null;
    let physical_size = 0;
    const reals = new Map<string, string>();
    if (args.type === 'file') {
      if (args.path === undefined) throw new XenError('EINVAL', 'sr-create type=file needs path=<directory>');
      if (!isAbsolute(args.path) || args.path.includes('\0')) throw new XenError('EINVAL', `path=${args.path}: the SR's directory must be an absolute path`);
      const given = normalize(args.path);
      const st = await lstat(given).catch(() => null);
      if (st === null) {
        // Only the last component is made: a tree of directories at any path is not sr-create's to make.
        const parent = await realpath(dirname(given)).catch(() => {
          throw new XenError('ENOENT', `path=${given}: its parent directory ${dirname(given)} does not exist`);
        });
        path = join(parent, basename(given));
      } else {
        if (!st.isDirectory()) throw new XenError('EINVAL', `path=${given} is not a directory`);
        checkPrivate(given, st);
        if (!(await isEmpty(given))) throw new SrExists(given);
        path = await realpath(given);
      }
      // Every SR's directory resolved (a state dir reached through a symbolic link, say), before anything is made.
      for (const p of await this.db.read((tx) => tx.SR.getAll().map((sr) => srLocation(tx, sr)))) if (p !== null) reals.set(p, await realpath(p).catch(() => p));
      const target = path;
      await this.db.read((tx) => overlapFree(tx, target, reals));
      if (st === null) {
        await mkdir(path, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
          throw e.code === 'EEXIST' ? new SrExists(given) : new XenError(e.code === 'EACCES' || e.code === 'EPERM' ? 'EACCES' : 'EIO', `path=${given}: ${e.message}`);
        });
      }
      physical_size = await capacity(path);
    } else if (args.path !== undefined) {
      throw new XenError('EINVAL', 'a RAM SR has no path');
    }
    const dir = path;
    const ref = await this.db.transaction((tx) => {
      this.#nameFree(tx, args.name);
      if (dir !== null) overlapFree(tx, dir, reals);
      return createSr(tx, { name_label: args.name, name_description: args.description ?? '', type: args.type, physical_size }, dir);
    });
    return this.db.read((tx) => ({ ref, record: tx.SR.get(ref), path: dir }));
  }

  /**
   * PBD.plug: an SR's directory is used only while nobody else can put files in it, as sr-create
   * checks (checkPrivate): an SR made before that rule over a shared directory, or one opened up
   * since, is refused (SrDirUnsafe, naming the fix) and its PBD left unplugged, so that nothing
   * uses it (srPath) until a plug passes. The default SR's directory, which xenode makes itself,
   * is made writable by xenode only if it is xenode's (an older xenode made it under the user's
   * umask, 0775 under 002), and made again if it is gone (defaultSr); another SR whose directory
   * is gone stays unplugged, since anyone could make that path again.
   */
  async plug(sr: Ref<'SR'>): Promise<void> {
    const { pbd, location, isDefault } = await this.db.read((tx) => ({ ...srPbd(tx, sr), isDefault: tx.SR.get(sr).other_config[DEFAULT_SR_KEY] === 'true' }));
    if (location === null || pbd === undefined) return;
    let refused: SrDirUnsafe | undefined;
    try {
      // Any failure to check it leaves it unplugged too (a parent made a file: ENOTDIR), never plugged unchecked.
      const st = await stat(location).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' && isDefault) return null;
        if (e.code === 'ENOENT') throw new SrDirUnsafe(location, 'is gone', `make ${location} a directory of xenode's, mode 0700, holding the SR's images, then xenode sr-scan it`);
        throw new SrDirUnsafe(location, `cannot be checked (${e.code ?? e.message})`, `make ${location} a directory of xenode's, mode 0700`);
      });
      if (st !== null && !st.isDirectory()) throw new SrDirUnsafe(location, `is ${kindOf(st)}, not a directory`, `move it away and make ${location} a directory of xenode's, mode 0700`);
      if (st !== null && isDefault && st.uid === process.getuid?.() && (st.mode & 0o022) !== 0) await chmod(location, st.mode & 0o7755);
      else if (st !== null) checkPrivate(location, st);
    } catch (e) {
      if (!(e instanceof SrDirUnsafe)) throw e;
      refused = e;
    }
    await this.db.transaction((tx) => {
      const { [UNPLUGGED_KEY]: _, ...other_config } = tx.PBD.get(pbd).other_config;
      tx.PBD.update(pbd, { currently_attached: refused === undefined, other_config: refused ? { ...other_config, [UNPLUGGED_KEY]: refused.detail } : other_config });
    });
    if (refused) throw refused;
  }

  /** Plug every SR (when the host starts): one refused stays unplugged, and `log` says why and what fixes it. */
  async plugAll(log: (line: string) => void): Promise<void> {
    for (const sr of await this.db.read((tx) => tx.SR.getAll())) {
      await this.plug(sr).catch(async (e: Error) => log(`SR '${await this.db.read((tx) => tx.SR.get(sr).name_label)}' left unplugged: ${e.message}`));
    }
  }

  #nameFree(tx: Tx, name: string): void {
    if (tx.SR.getByNameLabel(name).length) throw new XenError('EEXIST', `an SR named '${name}' exists already`);
  }

  async list(): Promise<SrView[]> {
    await this.defaultSr();
    return this.db.read((tx) => tx.SR.getAll().map((ref) => ({ ref, record: tx.SR.get(ref), path: srLocation(tx, ref) })));
  }

  /** An SR by name or uuid. */
  async resolve(name: string): Promise<Ref<'SR'>> {
    const def = await this.defaultSr();
    if (name === DEFAULT_SR_NAME) return def;
    return this.db.read((tx) => {
      if (isUuid(name)) return tx.SR.getByUuid(name);
      const refs = tx.SR.getByNameLabel(name);
      if (refs.length === 0) throw new XenError('ENOENT', `no SR named '${name}': \`xenode sr-list\` shows them`);
      if (refs.length > 1) throw new XenError('EINVAL', `${refs.length} SRs are named '${name}': name one by its uuid`);
      return refs[0]!;
    });
  }

  /**
   * sr-scan: reconcile the SR's VDI records with its directory. Deletes nothing. A file no
   * record names is introduced only if named `<uuid>.<ext>` (the VDI takes that uuid, as
   * FileSR's do): any other file is skipped, whoever put it there. So is one in `owned`, which
   * an operation in progress is making (a migration's destination, a snapshot's new image): its
   * records come when it is done, as sm skips a VDI being created.
   */
  async scan(sr: Ref<'SR'>, owned: { has(file: string): boolean }): Promise<ScanReport> {
    const { path, record, recorded } = await this.db.read((tx) => ({
      path: srPath(tx, sr), record: tx.SR.get(sr),
      recorded: new Map(tx.VDI.where('SR', sr).map((r) => [tx.VDI.get(r).location, tx.VDI.get(r).sm_config['format'] ?? 'raw'])),
    }));
    const report: ScanReport = { sr: record.uuid, introduced: [], missing: [], found: [], skipped: [], deferred: [] };
    if (path === null) return report;
    const files = new Map<string, { format: string; uuid?: string; virtualSize: number; physicalUtilisation: number }>();
    for (const file of (await readdir(path)).sort()) {
      if (file.startsWith('.')) continue;
      const named = recorded.has(file) ? undefined : imageName(file);
      if (named === undefined && !recorded.has(file)) {
        report.skipped.push({ file, why: "not an image's name (<uuid>.<ext> of a known format)" });
        continue;
      }
      // Listed, then removed (an operation failed meanwhile): nothing to introduce, and a record naming it is marked missing.
      const st = await lstat(join(path, file)).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw e;
      });
      if (st === undefined) continue;
      if (!st.isFile()) {
        report.skipped.push({ file, why: st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file' });
        continue;
      }
      // A second name of an image (another SR's, or a snapshot's base being made): two VDIs over one file.
      if (named && st.nlink > 1) {
        report.skipped.push({ file, why: `has ${st.nlink} hard links: another name of an image` });
        continue;
      }
      const format = recorded.get(file) ?? named!.format;
      try {
        files.set(file, { format, ...(named && { uuid: named.uuid }), ...(await imageFormat(format).info(join(path, file))) });
      } catch (e) {
        report.skipped.push({ file, why: (e as Error).message });
      }
    }
    const physical_size = await capacity(path);
    await this.db.transaction((tx) => {
      const known = new Set<string>();
      for (const ref of tx.VDI.where('SR', sr)) {
        const vdi = tx.VDI.get(ref);
        known.add(vdi.location);
        const f = files.get(vdi.location);
        if (!f) {
          if (!vdi.missing) report.missing.push(vdi.uuid);
          tx.VDI.update(ref, { missing: true });
          continue;
        }
        if (vdi.missing) report.found.push(vdi.uuid);
        tx.VDI.update(ref, { missing: false, virtual_size: f.virtualSize, physical_utilisation: f.physicalUtilisation });
      }
      for (const [file, f] of files) {
        if (known.has(file) || f.uuid === undefined) continue;
        // Read at the commit: an operation that began or failed while the scan read files counts too.
        if (owned.has(file)) {
          report.skipped.push({ file, why: 'an operation in progress (a vdi-create, -copy or -import, a snapshot, coalesce or migration) is making it' });
          continue;
        }
        // A copy of another VDI's image, say: two records cannot share a uuid.
        if (tx.VDI.where('uuid', f.uuid).length) {
          report.skipped.push({ file, why: `VDI ${f.uuid} exists already` });
          continue;
        }
        tx.VDI.create({ uuid: f.uuid, name_label: file, SR: sr, location: file, virtual_size: f.virtualSize, physical_utilisation: f.physicalUtilisation,
          sm_config: { format: f.format } });
        report.introduced.push(f.uuid);
      }
      tx.SR.update(sr, { physical_size });
      refreshSr(tx, sr);
    });
    return report;
  }
}

/** No SR's directory (by its real path in `reals`, if known) is `dir`, inside it, or around it. */
function overlapFree(tx: Tx, dir: string, reals: ReadonlyMap<string, string>): void {
  for (const sr of tx.SR.getAll()) {
    const path = srLocation(tx, sr);
    const other = path === null ? null : reals.get(path) ?? path;
    if (other !== null && (other === dir || other.startsWith(dir + sep) || dir.startsWith(other + sep))) {
      throw new XenError('EEXIST', `path=${dir} overlaps the directory of SR '${tx.SR.get(sr).name_label}' (${other})`);
    }
  }
}

/**
 * An existing directory becomes an SR only if nobody else can put files in it: owned by this
 * process's user, no write for group or others. Anyone else who could write there could plant
 * an image (a qcow2 backed by a host file) or a journal between sr-create and sr-scan.
 */
function checkPrivate(path: string, st: Stats): void {
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new SrDirUnsafe(path, `is owned by uid ${st.uid}, not by xenode's (uid ${uid}): an SR's directory must be xenode's own`, `chown ${uid} ${path}, or move its files to a new SR`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new SrDirUnsafe(path, `has mode ${(st.mode & 0o7777).toString(8)}: its group or others can write in it; an SR's directory must be writable by xenode only`, `chmod go-w ${path}`);
  }
}

/** An SR and its PBD, plugged into the pool's master; the first becomes the pool's default SR. */
function createSr(tx: Tx, fields: Partial<SRRecord>, path: string | null): Ref<'SR'> {
  const ref = tx.SR.create({ content_type: 'user', ...fields });
  const [pool] = tx.pool.getAll();
  const p = pool === undefined ? undefined : tx.pool.get(pool);
  tx.PBD.create({ SR: ref, device_config: path === null ? {} : { location: path }, currently_attached: true, ...(p && { host: p.master }) });
  if (pool !== undefined && p!.default_SR === NULL_REF) tx.pool.update(pool, { default_SR: ref });
  return ref;
}

/** Recompute an SR's totals from its VDIs (call inside the transaction that changed them). */
export function refreshSr(tx: Tx, sr: Ref<'SR'>): void {
  let physical = 0;
  let virtual = 0;
  for (const ref of tx.VDI.where('SR', sr)) {
    const v = tx.VDI.get(ref);
    physical += v.physical_utilisation;
    virtual += v.virtual_size;
  }
  tx.SR.update(sr, { physical_utilisation: physical, virtual_allocation: virtual });
}

async function isEmpty(dir: string): Promise<boolean> {
  const d = await opendir(dir);
  try {
    return (await d.read()) === null;
  } finally {
    await d.close();
  }
}

/** The size of the file system a directory is on. */
async function capacity(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.blocks * s.bsize;
}
