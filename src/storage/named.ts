// Files a client names are opened here without blocking dom0 or a libuv pool thread (a FIFO's
// open waits for its other end; /dev/zero never ends): the kind is checked with stat before the
// open (opening a device can act on it), the open is non-blocking, and the kind is checked
// again on the descriptor (the path may have been swapped in between).
import { close, constants, fstat, lstat, open, read, readlink, stat, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { XenError, type XenErrnoName } from '../errors.js';

const statP = promisify(stat);
const lstatP = promisify(lstat);
const readlinkP = promisify(readlink);
const openP = promisify(open);
const fstatP = promisify(fstat);
const closeP = promisify(close);
const readP = promisify(read);

/** What a caller accepts: a regular file; for disk targets a block device too; for a save's target a FIFO too. */
export type NamedKind = 'file' | 'disk' | 'save';

/** A named path that cannot be used: what it was for, its path, and why, in words. */
export class NamedFileError extends XenError {
  override name = 'NamedFileError';
  constructor(errno: XenErrnoName, readonly what: string, readonly path: string, readonly why: string) {
    super(errno, `${what} ${path} ${why}`);
  }
}

export interface NamedOptions {
  /** What the path is for, at the head of messages ("configuration file", "disk image"). */
  readonly what: string;
  readonly kind: NamedKind;
  /** Open for writing too. */
  readonly write?: boolean;
  /** Refuse a symbolic link (a real path already checked, which must not have been swapped for one). */
  readonly noFollow?: boolean;
  /**
   * Open for writing only, making a regular file of this mode where the path names nothing (a
   * new file, O_EXCL); a symbolic link is followed only as fs.protected_symlinks allows.
   */
  readonly create?: number;
  /** With create: how long a FIFO's open is retried for a reader to come (ENXIO after it). */
  readonly readerWaitMs?: number;
}

/** How often a FIFO with no reader is tried again: no thread waits meanwhile. */
const READER_POLL_MS = 100;

/** What a path is, in words ("a directory", "a FIFO (named pipe)"). */
export function kindOf(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a file';
}

const KINDS: Record<NamedKind, { readonly ok: (st: Stats) => boolean; readonly want: string }> = {
  file: { ok: (st) => st.isFile(), want: 'a regular file' },
  disk: { ok: (st) => st.isFile() || st.isBlockDevice(), want: 'a regular file or a block device' },
  save: { ok: (st) => st.isFile() || st.isFIFO(), want: 'a regular file or a FIFO' },
};

function checkKind(path: string, st: Stats, opts: NamedOptions): void {
  const { ok, want } = KINDS[opts.kind];
  if (ok(st)) return;
  throw new NamedFileError(st.isDirectory() ? 'EISDIR' : 'EINVAL', opts.what, path, `is ${kindOf(st)}; it must be ${want}`);
}

function openFailure(path: string, opts: NamedOptions, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return new NamedFileError('ENOENT', opts.what, path, 'does not exist');
  if (code === 'EACCES' || code === 'EPERM') return new NamedFileError('EACCES', opts.what, path, 'cannot be opened: permission denied');
  if (code === 'ENOTDIR') return new NamedFileError('ENOENT', opts.what, path, 'does not exist (a parent is not a directory)');
  if (code === 'ELOOP') return new NamedFileError('EINVAL', opts.what, path, 'is a loop of symbolic links, or swapped for a link while it was opened');
  if (code === 'ENAMETOOLONG') return new NamedFileError('ENAMETOOLONG', opts.what, path, 'is too long a path');
  if (code === 'ENXIO') return new NamedFileError('ENXIO', opts.what, path, 'cannot be opened: no such device, or a FIFO with no reader');
  if (code === 'EROFS') return new NamedFileError('EROFS', opts.what, path, 'is on a read-only file system');
  if (code === 'ENOSPC') return new NamedFileError('ENOSPC', opts.what, path, 'cannot be made: no space left on the device');
  // Xen's errno.h has no EDQUOT: the nearest of its own.
  if (code === 'EDQUOT') return new NamedFileError('ENOSPC', opts.what, path, 'cannot be made: disk quota exceeded (EDQUOT)');
  if (code === 'EMFILE' || code === 'ENFILE') return new NamedFileError(code, opts.what, path, 'cannot be opened: too many open files');
  return e;
}

/** Open a named path as `opts.kind` allows, without blocking; the caller closes the descriptor. */
export async function openNamed(path: string, opts: NamedOptions): Promise<{ fd: number; stats: Stats }> {
  let fd: number;
  try {
    if (opts.create !== undefined) {
      fd = await openCreating(path, opts, opts.create);
    } else {
      checkKind(path, await (opts.noFollow ? lstatP : statP)(path), opts);
      fd = await openP(path, (opts.write ? constants.O_RDWR : constants.O_RDONLY) | constants.O_NONBLOCK | constants.O_NOCTTY | (opts.noFollow ? constants.O_NOFOLLOW : 0));
    }
  } catch (e) {
    throw openFailure(path, opts, e);
  }
  try {
    const stats = await fstatP(fd);
    checkKind(path, stats, opts);
    return { fd, stats };
  } catch (e) {
    await closeP(fd).catch(() => {});
    throw e;
  }
}

const WRITE_ONLY = constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY | constants.O_NOFOLLOW;

/**
 * A path that names nothing is made (O_EXCL: never through a link planted meanwhile; made by
 * another in between, it is looked at once more); one that names something is opened as it is,
 * O_NOFOLLOW, a symbolic link resolved first if it may be followed (followable).
 */
async function openCreating(path: string, opts: NamedOptions, mode: number): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const st = await lstatP(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    try {
      if (!st) return await openP(path, WRITE_ONLY | constants.O_CREAT | constants.O_EXCL, mode);
      const real = st.isSymbolicLink() ? await followable(path, st, opts) : path;
      checkKind(path, await statP(real), opts);
      return await openExisting(real, opts);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (attempt === 0 && (code === 'EEXIST' || (st && code === 'ENOENT'))) continue;
      throw e;
    }
  }
}

/**
 * Where a symbolic link leads, if it may be followed as fs.protected_symlinks allows: in a
 * world-writable sticky directory (/tmp) only a link of ours or of the directory's owner (so
 * another user's link cannot turn a save onto a file of ours). One link only: a link to a link
 * is refused, as each would need the same check (the directories on the way are not looked at).
 * A dangling link makes nothing.
 */
async function followable(path: string, link: Stats, opts: NamedOptions): Promise<string> {
  const dir = await statP(dirname(path));
  const shared = (dir.mode & 0o1002) === 0o1002;
  if (shared && link.uid !== process.geteuid?.() && link.uid !== dir.uid) {
    throw new NamedFileError('EACCES', opts.what, path, `is a symbolic link another user (uid ${link.uid}) made in a shared directory: not followed`);
  }
  const target = resolve(dirname(path), await readlinkP(path));
  const st = await lstatP(target).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? new NamedFileError('ENOENT', opts.what, path, 'is a symbolic link to nothing') : e;
  });
  if (st.isSymbolicLink()) throw new NamedFileError('EINVAL', opts.what, path, `is a symbolic link to another (${target}): not followed`);
  return target;
}

/** The open of an existing path for writing; a FIFO with no reader tried again every READER_POLL_MS until readerWaitMs, no thread held meanwhile. */
async function openExisting(path: string, opts: NamedOptions): Promise<number> {
  const end = Date.now() + (opts.readerWaitMs ?? 0);
  for (;;) {
    try {
      return await openP(path, WRITE_ONLY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() >= end) throw e;
    }
    await new Promise((r) => setTimeout(r, READER_POLL_MS));
  }
}

/** The most one read asks for (a big save image is read in pieces of this, each a pool thread's turn). */
const PIECE = 8 << 20;

/**
 * A regular file's bytes, at most `limit` of them: a larger file (or one that grows while it
 * is read; /proc files say size 0) is an E2BIG naming the limit. They go into one buffer of
 * the size the file says and one octet more (no copy of a big file, a save image's), grown
 * only for a file that says less than it holds.
 */
export async function readNamed(path: string, opts: { what: string; limit: number }): Promise<Buffer> {
  const { fd, stats } = await openNamed(path, { what: opts.what, kind: 'file' });
  const tooBig = (n: number | string) => new NamedFileError('E2BIG', opts.what, path, `is ${n} bytes; the limit is ${opts.limit}`);
  try {
    if (stats.size > opts.limit) throw tooBig(stats.size);
    let buf = Buffer.allocUnsafe(Math.min(Math.max(stats.size + 1, 64 << 10), opts.limit + 1));
    let total = 0;
    for (;;) {
      if (total === buf.length) {
        if (total > opts.limit) throw tooBig(`more than ${opts.limit}`);
        const more = Buffer.allocUnsafe(Math.min(2 * buf.length, opts.limit + 1));
        buf.copy(more, 0, 0, total);
        buf = more;
      }
      const { bytesRead } = await readP(fd, buf, total, Math.min(PIECE, buf.length - total), null);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    // A full buffer of limit+1 is refused at the top of the loop, so total is within the limit.
    return buf.subarray(0, total);
  } finally {
    await closeP(fd).catch(() => {});
  }
}
