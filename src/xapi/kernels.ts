// Which kernels a XenAPI caller may name (VM.create's PV_kernel, and VM.start's and VM.resume's
// again): files in the host's kernel directories only, as XAPI's xenopsd glue allows
// /var/lib/xcp/guest/ alone (kernel_path in xapi_xenops.ml). A kernel runs as the host's user
// and its errors come back to the caller: any path at all let a vm-admin test whether a host
// file exists and run a host script as a guest. The local CLI (the host's own user) may still
// name any file. A kernel directory must be the host's user's and writable by no one else
// (after its links), and so each directory below it down to a kernel's, and the kernel file;
// the directories above it root's or ours, writable by no one else unless sticky: or whoever
// could write in one would choose what runs.
import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { XenError } from '../errors.js';
import { isInside } from '../storage/disk.js';
import { notPrivate, unsafeAncestor } from '../toolstack/private.js';
import { XapiError } from './errors.js';

/**
 * Why the real path `real` cannot be a kernel directory; undefined if it can. `named`: the
 * answer names the directory above that is refused (not to XenAPI callers: where the host
 * lives is not their business).
 */
async function dirProblem(real: string, named: boolean): Promise<string | undefined> {
  const own = notPrivate(await lstat(real));
  if (own) return own;
  const up = await unsafeAncestor(real);
  return up && (named ? `is inside ${up.dir}, which ${up.why}` : `is inside a directory that ${up.why}`);
}

/**
 * Why the kernel `real` in the kernel directory `dir` (both real paths) cannot run, as OpenSSH's
 * StrictModes judges a key file: each directory from `dir` down to the kernel's, and the kernel
 * itself, must be ours and writable by no one else; undefined if it can run.
 */
async function belowProblem(dir: string, real: string, shown: string): Promise<string | undefined> {
  let d = dir;
  for (const part of relative(dir, dirname(real)).split(sep).filter(Boolean)) {
    d = join(d, part);
    const problem = notPrivate(await lstat(d));
    if (problem) return `Its directory ${shown}/${relative(dir, d)} ${problem}: this host runs no kernel from it`;
  }
  const st = await lstat(real);
  if (!st.isFile()) return 'Is not a regular file';
  const problem = notPrivate(st, 'file');
  return problem && `The kernel file ${problem}: this host runs no kernel that others could have written`;
}

/**
 * The kernel directories a host is started with (`xenode host --kernel-dir`): absolute, there,
 * and private, else EINVAL/EACCES naming the first that is not, and the host does not start.
 * `keep`: directories none may hold (the state dir, the home directory): every file in one
 * (the host database, a disk image, a shell's startup script) would be a kernel callers could name.
 */
export async function checkKernelDirs(dirs: readonly string[], keep: readonly string[] = []): Promise<void> {
  const kept = await Promise.all(keep.map((k) => realpath(k).catch(() => resolve(k))));
  for (const d of dirs) {
    if (!isAbsolute(d)) throw new XenError('EINVAL', `kernel directory ${d}: give an absolute path`);
    const real = await realpath(d).catch(() => undefined);
    const holds = real === undefined ? -1 : kept.findIndex((k) => k === real || isInside(k, real));
    if (holds >= 0) throw new XenError('EINVAL', `kernel directory ${d} holds ${keep[holds]}: give a directory of kernels only`);
    const problem = real === undefined ? 'does not exist' : await dirProblem(real, true);
    if (problem) throw new XenError('EACCES', `kernel directory ${d} ${problem}: a kernel directory must be a directory of this user's that no one else can write in`);
  }
}

export class KernelDirs {
  /** How refusals name each directory: the state dir as <state> (where the host's user lives is not a caller's business). */
  readonly #shown: readonly string[];

  constructor(readonly dirs: readonly string[], stateDir?: string) {
    const show = (d: string) => (stateDir !== undefined && (d === stateDir || isInside(d, stateDir)) ? `<state>${d.slice(stateDir.length)}` : d);
    this.#shown = dirs.map(show);
  }

  /**
   * Nothing if `path` names a kernel in the directories, else INVALID_VALUE [PV_kernel, path, why].
   * A path outside them is refused before the file system is asked, and one that leads out of
   * them (a symbolic link) with the same words, so the answer says nothing of files elsewhere.
   */
  async confine(path: unknown): Promise<void> {
    const p = typeof path === 'string' ? path : '';
    const refuse = (why: string) => new XapiError('INVALID_VALUE', ['PV_kernel', p, why]);
    const outside = refuse(this.dirs.length
      ? `Is not in any of the allowed kernel directories: [${this.#shown.join('; ')}]`
      : 'This host has no kernel directories: XenAPI callers may not name kernels');
    if (!isAbsolute(p) || !this.dirs.some((d) => isInside(resolve(p), d))) throw outside;
    const real = await realpath(p).catch(() => undefined);
    const realDirs = await Promise.all(this.dirs.map((d) => realpath(d).catch(() => undefined)));
    if (real === undefined) throw refuse('File does not exist');
    const at = realDirs.findIndex((d) => d !== undefined && isInside(real, d));
    if (at < 0) throw outside;
    const problem = await dirProblem(realDirs[at]!, false);
    if (problem) throw refuse(`The kernel directory ${this.#shown[at]} ${problem}: this host runs no kernel from it`);
    const below = await belowProblem(realDirs[at]!, real, this.#shown[at]!);
    if (below) throw refuse(below);
  }
}
