// Creating images: fixed, dynamic, and a differencing child of a parent (what a snapshot or a
// clone makes), laid out as blktap does: the footer copy, the dynamic header at byte 512, the
// BAT at 1536, then for a child its parent locators (MACX, W2KU, W2RU, relative paths), the
// first block where the footer then is. Never overwrites a file.
import { randomUUID } from 'node:crypto';
import { close, fstat, open } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { XenError } from '../../errors.js';
import { batBytes } from './bat.js';
import { FOOTER_BYTES, decodeFooter, encodeFooter, virtualBytes, type Footer } from './footer.js';
import {
  VHD_DEFAULT_BLOCK, VHD_MAX_BLOCK, VHD_MAX_BYTES, VHD_MIN_BLOCK, VHD_SECTOR, VhdError, geometryFor, vhdTime, NO_OFFSET,
} from './format.js';
import { HEADER_BYTES, decodeHeader, encodeHeader, type LocatorEntry } from './header.js';
import { datasync, fsError, truncate } from '../disk.js';
import { pread, pwrite } from '../fileio.js';
import { VhdImage } from './image.js';
import { BLKTAP_LOCATORS, PlatformCode, encodeLocator, locatorSpace, relativeParentPath } from './locators.js';

const openP = promisify(open);
const closeP = promisify(close);
const fstatP = promisify(fstat);

/**
 * The creator application we write: XenServer's (blktap's), whose images qemu sizes by
 * current_size, so exact sizes read back exact (qemu before 9.2 uses the CHS geometry for any
 * creator it does not know).
 */
const CREATOR_APP = 'tap\0';
const CREATOR_VERSION = 0x00010000;
const BAT_OFFSET = FOOTER_BYTES + HEADER_BYTES;

export interface CreateOptions {
  readonly type: 'fixed' | 'dynamic';
  /** Virtual size in bytes: whole sectors, at most 2040 GiB; kept exact (no CHS rounding). */
  readonly size: number;
  /** Dynamic images: a power of two, default 2 MiB. */
  readonly blockSize?: number;
  /**
   * Dynamic images: the size the BAT has room for (default `size`), so that growing the image
   * up to it is a footer update (vhd-util create -S; XCP uses the largest size).
   */
  readonly maxSize?: number;
}

function checkSize(path: string, size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0 || size % VHD_SECTOR !== 0 || size > VHD_MAX_BYTES) {
    throw new XenError('EINVAL', `${path}: VHD size ${size} is not a whole number of sectors from 512 bytes to 2040 GiB`);
  }
}

function newFooter(type: Footer['type'], size: number): Footer {
  return {
    type, dataOffset: type === 'fixed' ? NO_OFFSET : BigInt(FOOTER_BYTES), timestamp: vhdTime(Date.now()),
    creatorApp: CREATOR_APP, creatorVersion: CREATOR_VERSION, creatorOs: 0,
    originalSize: size, currentSize: size, geometry: geometryFor(size),
    uuid: Buffer.from(randomUUID().replace(/-/g, ''), 'hex'), savedState: false,
  };
}

/** Write a new file with `fill(fd)`, synced; a failure leaves no file behind. */
async function writeNew(path: string, fill: (fd: number) => Promise<void>): Promise<void> {
  // Private to the host, as the SR's raw images are.
  const fd = await openP(path, 'wx', 0o600).catch((e: NodeJS.ErrnoException) => {
    throw new XenError(e.code === 'EEXIST' ? 'EEXIST' : 'EIO', `create VHD ${path}: ${e.code ?? e.message}`);
  });
  try {
    await fill(fd);
    await datasync(fd, path);
    await closeP(fd);
  } catch (e) {
    await closeP(fd).catch(() => {});
    await unlink(path).catch(() => {});
    throw e;
  }
}

/** Footer copy, header, BAT (all unallocated), locators' data, footer: a dynamic or differencing image. */
async function writeDynamic(fd: number, path: string, footer: Footer, blockSize: number, maxSize: number, parent?: {
  uuid: Uint8Array; timestamp: number; name: string; rel: string;
}): Promise<void> {
  const entries = Math.ceil(Math.max(maxSize, footer.currentSize) / blockSize);
  const bat = new Uint8Array(batBytes(entries)).fill(0xff);
  let at = BAT_OFFSET + bat.length;
  const locators: LocatorEntry[] = [];
  const payloads: [Uint8Array, number][] = [];
  for (const kind of parent ? BLKTAP_LOCATORS : []) {
    const data = encodeLocator(kind, parent!.rel);
    const space = locatorSpace(data.length);
    locators.push({ code: PlatformCode[kind], space, length: data.length, offset: at });
    payloads.push([data, at]);
    at += space;
  }
  const header = encodeHeader({
    tableOffset: BAT_OFFSET, maxTableEntries: entries, blockSize,
    parentUuid: parent?.uuid ?? new Uint8Array(16), parentTimestamp: parent?.timestamp ?? 0,
    parentName: parent?.name ?? '', locators,
  });
  const f = encodeFooter(footer);
  await truncate(fd, path, at + FOOTER_BYTES);
  await pwrite(fd, path, f, 0);
  await pwrite(fd, path, header, FOOTER_BYTES);
  await pwrite(fd, path, bat, BAT_OFFSET);
  for (const [data, off] of payloads) await pwrite(fd, path, data, off);
  await pwrite(fd, path, f, at);
}

/** A new fixed or dynamic image at `path`. */
export async function createVhd(path: string, opts: CreateOptions): Promise<void> {
  checkSize(path, opts.size);
  const blockSize = opts.blockSize ?? VHD_DEFAULT_BLOCK;
  if (blockSize < VHD_MIN_BLOCK || blockSize > VHD_MAX_BLOCK || (blockSize & (blockSize - 1)) !== 0) {
    throw new XenError('EINVAL', `${path}: VHD block size ${blockSize} is not a power of two from ${VHD_MIN_BLOCK} to ${VHD_MAX_BLOCK}`);
  }
  if (opts.maxSize !== undefined) checkSize(path, opts.maxSize);
  const footer = newFooter(opts.type, opts.size);
  await writeNew(path, async (fd) => {
    if (opts.type === 'fixed') {
      await truncate(fd, path, opts.size + FOOTER_BYTES);
      await pwrite(fd, path, encodeFooter(footer), opts.size);
    } else {
      await writeDynamic(fd, path, footer, blockSize, opts.maxSize ?? opts.size);
    }
  });
}

/** What a child needs of its parent: read from its footer and header only (never its BAT), so a snapshot costs the same at any size. */
export interface VhdIdentity {
  readonly uuid: Uint8Array;
  readonly bytes: number;
  readonly blockSize: number;
  readonly mtimeMs: number;
}

/**
 * The footer at the end of the file, or the copy at its start where the end has none: an image
 * in use moves its footer at flush (image.ts), and a crash may leave it missing.
 */
async function readFooter(fd: number, path: string, size: number): Promise<Footer> {
  if (size < FOOTER_BYTES) throw new VhdError(path, 'file size', `${size} bytes is too short for a footer (truncated?)`);
  const b = new Uint8Array(FOOTER_BYTES);
  await pread(fd, path, b, size - FOOTER_BYTES);
  try {
    return decodeFooter(b, path);
  } catch (e) {
    await pread(fd, path, b, 0);
    try {
      return decodeFooter(b, path);
    } catch {
      throw e;
    }
  }
}

export async function vhdIdentity(path: string): Promise<VhdIdentity> {
  const fd = await openP(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? new XenError('ENOENT', `open VHD ${path}: no such file`) : fsError('open', path, e);
  });
  try {
    const st = await fstatP(fd);
    const footer = await readFooter(fd, path, st.size);
    let blockSize = VHD_DEFAULT_BLOCK;
    if (footer.type !== 'fixed') {
      const hb = new Uint8Array(HEADER_BYTES);
      await pread(fd, path, hb, Number(footer.dataOffset));
      blockSize = decodeHeader(hb, path).blockSize;
    }
    return { uuid: footer.uuid, bytes: virtualBytes(footer), blockSize, mtimeMs: st.mtimeMs };
  } finally {
    await closeP(fd);
  }
}

/**
 * A new differencing image at `path` whose parent is the VHD at `parentPath`: empty, so it reads
 * as its parent. Its size is the parent's unless `size` (larger) is given. O(1): only the
 * parent's footer and header are read.
 */
export async function createDifferencing(path: string, parentPath: string, opts: { size?: number } = {}): Promise<void> {
  const parent = await vhdIdentity(parentPath);
  const size = opts.size ?? parent.bytes;
  checkSize(path, size);
  if (size < parent.bytes) throw new XenError('EINVAL', `${path}: a child of ${size} bytes is smaller than its parent ${parentPath} (${parent.bytes})`);
  await writeNew(path, (fd) => writeDynamic(fd, path, newFooter('differencing', size), parent.blockSize, size, {
    uuid: parent.uuid, timestamp: vhdTime(parent.mtimeMs), name: basename(parentPath), rel: relativeParentPath(path, parentPath),
  }));
}

/**
 * Point a differencing image at another parent (sm's relink after a coalesce): its parent
 * locators' data first, then the header naming the new parent's uuid in one write. The new
 * parent must hold the same data as the old for this image's unallocated sectors.
 */
export async function relinkVhd(path: string, parentPath: string): Promise<void> {
  const parent = await vhdIdentity(parentPath);
  const fd = await openP(path, 'r+').catch((e: NodeJS.ErrnoException) => {
    throw fsError('open', path, e);
  });
  try {
    const footer = await readFooter(fd, path, (await fstatP(fd)).size);
    if (footer.type !== 'differencing') throw new VhdError(path, 'footer disk type', `is ${footer.type}: only a differencing image has a parent`, 'EINVAL');
    const hb = new Uint8Array(HEADER_BYTES);
    const at = Number(footer.dataOffset);
    await pread(fd, path, hb, at);
    const header = decodeHeader(hb, path);
    const rel = relativeParentPath(path, parentPath);
    const locators = [];
    for (const l of header.locators) {
      const kind = BLKTAP_LOCATORS.find((k) => PlatformCode[k] === l.code);
      if (kind === undefined) continue; // a platform we do not write is dropped, not left naming the old parent
      const data = encodeLocator(kind, rel);
      if (data.length > l.space) throw new VhdError(path, 'parent locator', `${data.length} bytes for ${rel} do not fit its ${l.space} bytes`, 'ENOSPC');
      const padded = new Uint8Array(l.space);
      padded.set(data);
      await pwrite(fd, path, padded, l.offset);
      locators.push({ ...l, length: data.length });
    }
    await datasync(fd, path);
    await pwrite(fd, path, encodeHeader({ ...header, parentUuid: parent.uuid, parentTimestamp: vhdTime(parent.mtimeMs), parentName: basename(parentPath), locators }), at);
    await datasync(fd, path);
  } finally {
    await closeP(fd);
  }
}

/**
 * Grow a dynamic or differencing image to `size` bytes within the room its BAT has: the footer
 * (both copies) says the new size. The image must not be in use.
 */
export async function resizeVhd(path: string, size: number): Promise<void> {
  checkSize(path, size);
  // Writable: a crash's missing footer at the end is put back first.
  const image = await VhdImage.open(path, { readOnly: false });
  const { footer, header } = image;
  await image.close();
  if (!header) throw new XenError('EOPNOTSUPP', `${path}: a fixed VHD is not resized`);
  if (size < image.bytes) throw new XenError('EINVAL', `${path}: VHD size ${size} is smaller than the image's ${image.bytes}`);
  const room = header.maxTableEntries * header.blockSize;
  if (size > room) throw new XenError('ENOSPC', `${path}: the image's BAT has room for ${room} bytes, not ${size}`);
  const f = encodeFooter({ ...footer, currentSize: size, geometry: geometryFor(size) });
  const fd = await openP(path, 'r+').catch((e: NodeJS.ErrnoException) => {
    throw fsError('open', path, e);
  });
  try {
    const end = (await fstatP(fd)).size - FOOTER_BYTES;
    await pwrite(fd, path, f, end);
    await pwrite(fd, path, f, 0);
    await datasync(fd, path);
  } finally {
    await closeP(fd);
  }
}
