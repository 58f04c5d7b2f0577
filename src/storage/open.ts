// Open the disk a block backend serves, from what the toolstack wrote in its backend node:
// `params` as libxl writes it for a userspace (qdisk) backend, "<format>:<target>". A target
// "ram:<size>" is a RAM disk of that many bytes (suffixes K, M, G), created empty.
//
// Image formats are rows of FORMATS: what a block backend opens, and what an SR creates,
// measures and resizes (sr.ts, vdi.ts). A format module (VHD, qcow2) adds its row here; a
// format without one is refused by name.
import { open, stat, truncate } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { XenError } from '../errors.js';
import type { Disk } from './disk.js';
import { createQcow2 } from './qcow2/create.js';
import { Qcow2Disk } from './qcow2/qcow2.js';
import { qcow2Info, rebaseQcow2, resizeQcow2 } from './qcow2/resize.js';
import { RamDisk } from './ram.js';
import { RawFile } from './raw.js';
import { ReadOnlyDisk } from './readonly.js';
import { VhdDisk } from './vhd/chain.js';
import { createDifferencing, createVhd, relinkVhd, resizeVhd } from './vhd/create.js';
import { VHD_MAX_BYTES } from './vhd/format.js';
import { VhdImage } from './vhd/image.js';

export const RAM_TARGET_PREFIX = 'ram:';

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "64M" -> 67108864 (suffixes K, M, G, T); undefined if malformed. */
export function parseSize(s: string): number | undefined {
  const m = /^([0-9]{1,10})([KMGT]?)$/i.exec(s);
  return m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : undefined;
}

/** Split params into format and target, as libxl joined them. */
export function parseParams(params: string): { format: string; target: string } {
  const colon = params.indexOf(':');
  if (colon <= 0) throw new XenError('EINVAL', `backend params '${params.slice(0, 80)}' is not <format>:<target>`);
  return { format: params.slice(0, colon), target: params.slice(colon + 1) };
}

export interface OpenOptions {
  readonly readOnly: boolean;
  /**
   * The disk is a copy's destination, written once in aligned buffers (direct.ts): its data
   * may go around the page cache (VHD does; raw and qcow2 ignore it).
   */
  readonly directWrites?: boolean;
  /** Every parent (VHD) or backing file (qcow2) must lie in this directory: an SR's, for its images. */
  readonly confine?: string;
}

/** An image format as backends and storage repositories use it. */
export interface ImageFormat {
  /** The file name extension of its images in an SR (`<uuid>.<extension>`, as XCP's FileSR names them). */
  readonly extension: string;
  open(path: string, opts: OpenOptions): Promise<Disk>;
  /** A new, empty image of `virtualSize` bytes (a multiple of 512); the file must not exist. */
  create(path: string, virtualSize: number): Promise<void>;
  /** The size the guest sees and the bytes the image takes on its file system. */
  info(path: string): Promise<{ virtualSize: number; physicalUtilisation: number }>;
  /** Grow the image to `virtualSize` bytes. */
  resize(path: string, virtualSize: number): Promise<void>;
  /** Formats with differencing images (snapshots, clones, coalescing); absent for raw. */
  readonly layers?: ImageLayers;
}

/** What snapshots and the garbage collector ask of a format with differencing images. */
export interface ImageLayers {
  /** A new, empty child of the image at `parentPath` (named relative to the child), at `path`: O(1) in the parent's size. */
  createChild(path: string, parentPath: string): Promise<void>;
  /** Make the child at `path` name `parentPath` as its parent, which holds the same data for it (sm's relink). */
  relink(path: string, parentPath: string): Promise<void>;
  /**
   * Open the new leaf at `path` whose parent is the file of `below`, a writable disk of this
   * format that a running guest uses until it switches to the new one (a snapshot): `below`
   * becomes part of the new disk (shared open files, nothing read again), so it must not be
   * closed by the caller. It is opened before the switch, and serves while writes taken before
   * it still finish on `below`.
   */
  openOver(path: string, below: Disk, after: AfterSwitch): Promise<OverDisk>;
  /**
   * The top image of `top` (a disk in use) over the chain at `parentPath`, which holds the same
   * data for it (a migration's composed chain), without opening the top again; `drop()` closes
   * what `top` has besides, once it is no longer used. Undefined where the format cannot.
   */
  composeOver?(top: Disk, parentPath: string): Promise<OverDisk | undefined>;
  /** What a leaf-coalesce under a running guest asks of the format (livecoalesce.ts). */
  readonly live: LiveLayers;
}

/** A leaf coalesced into its parent while a guest uses it: the guest is switched to the parent, renamed over the leaf. */
export interface LiveLayers {
  /** The file of the top image of `disk` if it is a disk of this format (opened by path), else undefined. */
  topPath(disk: Disk): string | undefined;
  /** Open the image at `path` (the parent, its own parents confined to its SR) writable; its first flush waits for `settle` (the rename made durable). */
  openParent(path: string, settle: () => Promise<void>): Promise<Disk>;
  /** `disk`'s top image, at `from`, is now named `to` (renamed over the leaf). */
  renamed(disk: Disk, from: string, to: string): void;
}

/** What a disk opened over a disk in use waits for after the switch. */
export interface AfterSwitch {
  /** Resolves once `below` has no request in flight (at once if the switch never happens). */
  readonly drained: Promise<void>;
  /** What the new disk's first flush waits for (the parent's flush, the snapshot made durable). */
  settle(): Promise<void>;
}

/** A disk opened over another one (ImageLayers.openOver); `drop()` closes the new leaf only, if the guest never switched to it. */
export interface OverDisk {
  readonly disk: Disk;
  drop(): Promise<void>;
}

/**
 * The disk a guest uses is not a plain image of the format (a mirror of a migration, say): a
 * new leaf cannot be put over it, as what it caches of the parent is out of reach.
 */
function notOver(path: string, below: Disk, format: string): XenError {
  return new XenError('EBUSY', `${path}: the guest's disk is a ${below.constructor.name}, not a ${format} image: it cannot be snapshotted now`);
}

const RAW: ImageFormat = {
  extension: 'raw',
  open: (path, opts) => RawFile.open(path, opts),
  async create(path, virtualSize) {
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.truncate(virtualSize);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  async info(path) {
    const st = await stat(path);
    return { virtualSize: st.size, physicalUtilisation: st.blocks * 512 };
  },
  resize: (path, virtualSize) => truncate(path, virtualSize),
};

/** Dynamic VHDs with a BAT for XCP's largest size, so that a resize is a footer update (vhd-util create -S). */
const VHD: ImageFormat = {
  extension: 'vhd',
  open: (path, opts) => VhdDisk.open(path, opts),
  create: (path, virtualSize) => createVhd(path, { type: 'dynamic', size: virtualSize, maxSize: VHD_MAX_BYTES }),
  async info(path) {
    const image = await VhdImage.open(path, { readOnly: true });
    await image.close();
    return { virtualSize: image.bytes, physicalUtilisation: (await stat(path)).blocks * 512 };
  },
  resize: (path, virtualSize) => resizeVhd(path, virtualSize),
  layers: {
    createChild: (path, parentPath) => createDifferencing(path, parentPath),
    relink: relinkVhd,
    async openOver(path, below, after) {
      if (!(below instanceof VhdDisk)) throw notOver(path, below, 'VHD');
      // Sector bitmaps: a write never copies from the parent, so late writes below need no wait.
      return VhdDisk.overDisk(path, below, () => after.settle());
    },
    async composeOver(top, parentPath) {
      if (!(top instanceof VhdDisk)) return undefined;
      const below = await VhdDisk.open(parentPath, { readOnly: true, confine: dirname(parentPath) });
      try {
        const { disk, release } = VhdDisk.rebase(top, below);
        return { disk, drop: release };
      } catch (e) {
        await below.close();
        throw e;
      }
    },
    live: {
      topPath: (disk) => (disk instanceof VhdDisk ? disk.images[0]!.path : undefined),
      openParent: (path, settle) => VhdDisk.open(path, { readOnly: false, settle, confine: dirname(path) }),
      renamed(disk, from, to) {
        for (const i of (disk as VhdDisk).images) if (i.path === from) i.moved(to);
      },
    },
  },
};

const QCOW2: ImageFormat = {
  extension: 'qcow2',
  open: (path, opts) => Qcow2Disk.open(path, opts),
  create: (path, virtualSize) => createQcow2(path, { size: virtualSize }),
  info: qcow2Info,
  resize: resizeQcow2,
  layers: {
    async createChild(path, parentPath) {
      const { virtualSize } = await qcow2Info(parentPath);
      await createQcow2(path, { size: virtualSize, backing: { file: relative(dirname(path), parentPath), format: 'qcow2' } });
    },
    relink: (path, parentPath) => rebaseQcow2(path, relative(dirname(path), parentPath)),
    async openOver(path, below, after) {
      if (!(below instanceof Qcow2Disk)) throw notOver(path, below, 'qcow2');
      const disk = await Qcow2Disk.open(path, { readOnly: false, backing: below, settle: () => after.settle(), backingQuiet: after.drained });
      return { disk, drop: () => disk.closeTop() };
    },
    live: {
      topPath: (disk) => (disk instanceof Qcow2Disk ? disk.path : undefined),
      openParent: (path, settle) => Qcow2Disk.open(path, { readOnly: false, settle, confine: dirname(path) }),
      renamed(disk, _from, to) {
        (disk as Qcow2Disk).moved(to);
      },
    },
  },
};

/** Format name (as xl's format= and sm_config's `format` spell it) → its implementation. */
const FORMATS: ReadonlyMap<string, ImageFormat> = new Map([['raw', RAW], ['vhd', VHD], ['qcow2', QCOW2]]);

/** The format of that name; EOPNOTSUPP naming the ones there are. */
export function imageFormat(name: string): ImageFormat {
  const f = FORMATS.get(name);
  if (!f) throw new XenError('EOPNOTSUPP', `disk format ${name} is not supported yet (known: ${[...FORMATS.keys()].join(', ')})`);
  return f;
}

/** The format of that name, if there is one (what a file, not the user, names: no error). */
export function knownFormat(name: string): ImageFormat | undefined {
  return FORMATS.get(name);
}

/** The format whose images have that extension, if any. */
export function formatOfExtension(extension: string): string | undefined {
  for (const [name, f] of FORMATS) if (f.extension === extension) return name;
  return undefined;
}

/**
 * The backend key xenode adds to a disk made from a VDI: which one it is. blkback then
 * confines the image's parents to its SR's directory.
 */
export const VDI_UUID_KEY = 'vdi-uuid';

/** `vdi`: the target is a VDI's image, whose parents must lie in its own directory (its SR's). */
export async function openDisk(params: string, opts: { readOnly: boolean; vdi?: boolean }): Promise<Disk> {
  const { format, target } = parseParams(params);
  const f = imageFormat(format);
  let disk: Disk;
  if (target.startsWith(RAM_TARGET_PREFIX)) {
    if (format !== 'raw') throw new XenError('EINVAL', `a RAM disk is raw, not ${format}`);
    const bytes = parseSize(target.slice(RAM_TARGET_PREFIX.length));
    if (bytes === undefined) throw new XenError('EINVAL', `RAM disk size '${target}' is not <bytes>[K|M|G]`);
    disk = new RamDisk(bytes);
  } else {
    disk = await f.open(target, { readOnly: opts.readOnly, ...(opts.vdi && { confine: dirname(target) }) });
  }
  return opts.readOnly && !disk.readOnly ? new ReadOnlyDisk(disk) : disk;
}
