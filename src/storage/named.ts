// Files a client names (a configuration file, a kernel's sources, a disk target) are opened
// here, so that none of them can block dom0's thread or be read beyond a limit. Opening a FIFO
// without O_NONBLOCK waits for a writer (for writing, a reader; and holds one of libuv's four pool threads meanwhile,
// stalling every other file operation, disk I/O included); reading /dev/zero never ends. So
// the kind is checked with stat before the open (an open can have side effects on a device),
// the open is non-blocking, and the kind is checked again on the open descriptor (the path may
// have been swapped in between).
import { close, constants, fstat, open, read, stat, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import { XenError, type XenErrnoName } from '../errors.js';

const statP = promisify(stat);
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
  /**
   * Open for writing only, making a regular file of this mode where the path names nothing. A
   * FIFO then opens only while it has a reader (ENXIO otherwise), never waiting for one.
   */
  readonly create?: number;
}

function kindOf(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a file';
}

const KINDS: Record<NamedKind, { readonly ok: (st: Stats) => boolean; readonly want: string }> = {
  file: { ok: (st) => st.isFile(), want: 'a regular file' },
  disk: { ok: (st) => st.isFile() || st.isBlockDevice(), want: 'a regular file or a block device' },
  save: { ok: (st) => st.isFile() || st.isFIFO() || st.isBlockDevice(), want: 'a regular file, a FIFO or a block device' },
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
  if (code === 'ELOOP') return new NamedFileError('EINVAL', opts.what, path, 'is a loop of symbolic links');
  if (code === 'ENAMETOOLONG') return new NamedFileError('ENAMETOOLONG', opts.what, path, 'is too long a path');
  if (code === 'ENXIO') return new NamedFileError('ENXIO', opts.what, path, 'cannot be opened: no such device, or a FIFO with no reader');
  if (code === 'EROFS') return new NamedFileError('EROFS', opts.what, path, 'is on a read-only file system');
  return e;
}

/** Open a named path as `opts.kind` allows, without blocking; the caller closes the descriptor. */
export async function openNamed(path: string, opts: NamedOptions): Promise<{ fd: number; stats: Stats }> {
  let fd: number;
  try {
    const creating = opts.create !== undefined;
    const st = await statP(path).catch((e: NodeJS.ErrnoException) => {
      if (creating && e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (st) checkKind(path, st, opts);
    const access = creating ? constants.O_WRONLY | constants.O_CREAT : opts.write ? constants.O_RDWR : constants.O_RDONLY;
    fd = await openP(path, access | constants.O_NONBLOCK | constants.O_NOCTTY, opts.create);
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
    if (total > opts.limit) throw tooBig(`more than ${opts.limit}`);
    return buf.subarray(0, total);
  } finally {
    await closeP(fd).catch(() => {});
  }
}
