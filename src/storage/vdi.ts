// VDIs: the disks of an SR, as records in the host database and images in the SR's directory,
// named `<uuid>.<format extension>` as XCP's FileSR names them (so no user's text becomes a
// path). A RAM SR's VDIs are RAM disks, empty each time they are attached. Destroying or
// resizing a VDI that a running guest uses is refused: `users` says who uses one (the
// toolstack reads that from the backends in xenstore).
import { randomUUID } from 'node:crypto';
import { realpath, rm } from 'node:fs/promises';
import { XenError } from '../errors.js';
import type { Tx } from '../toolstack/db/hostdb.js';
import { isUuid, type Ref, type VDIRecord } from '../toolstack/db/records.js';
import { RAM_TARGET_PREFIX, imageFormat, parseSize } from './open.js';
import { SECTOR_SIZE } from './disk.js';
import { CREATED_KEY, checkName, confined, imagePath, refreshSr, srPath, type Storage } from './sr.js';

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
  constructor(readonly storage: Storage, readonly users: VdiUsers) {}

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
    let physical_utilisation = 0;
    if (dir !== null) {
      const path = `${dir}/${location}`;
      await f.create(path, virtual_size);
      physical_utilisation = (await f.info(path)).physicalUtilisation;
    }
    const ref = await db.transaction((tx) => {
      const r = tx.VDI.create({ uuid, name_label: args.name, name_description: args.description ?? '', SR: sr, virtual_size, physical_utilisation,
        location, sm_config: { format }, other_config: { [CREATED_KEY]: 'true' } });
      refreshSr(tx, sr);
      return r;
    }).catch(async (e: unknown) => {
      // No record, no image: an image without one would only come back as a stranger at the next sr-scan.
      if (dir !== null) await rm(`${dir}/${location}`, { force: true });
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
  async destroy(name: string): Promise<{ uuid: string; kept: string | null }> {
    const { db } = this.storage;
    const { ref, vdi, path } = await db.read((tx) => {
      const r = findVdi(tx, name);
      return { ref: r, vdi: tx.VDI.get(r), path: vdiPath(tx, r) };
    });
    await this.#refuseInUse(vdi.uuid, path, 'destroyed');
    const ours = vdi.other_config[CREATED_KEY] === 'true';
    if (path !== null && ours) await rm(path, { force: true });
    await db.transaction((tx) => {
      tx.VDI.destroy(ref);
      refreshSr(tx, vdi.SR);
    });
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

/** Bytes as open.ts's RAM target takes them: the largest unit that divides them exactly. */
function sizeText(bytes: number): string {
  for (const [u, n] of [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) {
    if (bytes % n === 0) return `${bytes / n}${u}`;
  }
  return String(bytes);
}
