// Creating images: fixed, dynamic, and a differencing child of a parent (what a snapshot or a
// clone makes), laid out as blktap does: the footer copy, the dynamic header at byte 512, the
// BAT at 1536, then for a child its parent locators (MACX, W2KU, W2RU, relative paths), the
// first block where the footer then is. Never overwrites a file.
import { randomUUID } from 'node:crypto';
import { close, fstat, open, stat } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { XenError } from '../../errors.js';
import { batBytes } from './bat.js';
import { FOOTER_BYTES, encodeFooter, type Footer } from './footer.js';
import {
  VHD_DEFAULT_BLOCK, VHD_MAX_BLOCK, VHD_MAX_BYTES, VHD_MIN_BLOCK, VHD_SECTOR, geometryFor, vhdTime, NO_OFFSET,
} from './format.js';
import { HEADER_BYTES, encodeHeader, type LocatorEntry } from './header.js';
import { datasync, fsError, pwrite, truncate } from './io.js';
import { VhdImage } from './image.js';
import { BLKTAP_LOCATORS, PlatformCode, encodeLocator, locatorSpace, relativeParentPath } from './locators.js';

const openP = promisify(open);
const closeP = promisify(close);
const statP = promisify(stat);
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

/**
 * A new differencing image at `path` whose parent is the VHD at `parentPath`: empty, so it reads
 * as its parent. Its size is the parent's unless `size` (larger) is given.
 */
export async function createDifferencing(path: string, parentPath: string, opts: { size?: number } = {}): Promise<void> {
  const parent = await VhdImage.open(parentPath, { readOnly: true });
  let parentSize: number;
  let uuid: Uint8Array;
  let blockSize: number;
  try {
    parentSize = parent.bytes;
    uuid = parent.uuid;
    blockSize = parent.blockSize;
  } finally {
    await parent.close();
  }
  const size = opts.size ?? parentSize;
  checkSize(path, size);
  if (size < parentSize) throw new XenError('EINVAL', `${path}: a child of ${size} bytes is smaller than its parent ${parentPath} (${parentSize})`);
  const mtime = await statP(parentPath).catch((e: NodeJS.ErrnoException) => {
    throw fsError('stat', parentPath, e);
  });
  await writeNew(path, (fd) => writeDynamic(fd, path, newFooter('differencing', size), blockSize, size, {
    uuid, timestamp: vhdTime(mtime.mtimeMs), name: basename(parentPath), rel: relativeParentPath(path, parentPath),
  }));
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
