// Which kernels a XenAPI caller may name (VM.create's PV_kernel, and VM.start's and VM.resume's
// again): files in the host's kernel directories only, as XAPI's xenopsd glue allows
// /var/lib/xcp/guest/ alone (kernel_path in xapi_xenops.ml). A kernel runs as the host's user
// and its errors come back to the caller: any path at all let a vm-admin test whether a host
// file exists and run a host script as a guest. The local CLI (the host's own user) may still
// name any file. A kernel directory must be the host's user's and writable by no one else
// (after its links), or whoever could write in it would choose what runs.
import { lstat, realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { XenError } from '../errors.js';
import { isInside } from '../storage/disk.js';
import { notPrivate } from '../toolstack/private.js';
import { XapiError } from './errors.js';

/** Why `dir` cannot be a kernel directory (after its links); undefined if it can. */
async function dirProblem(dir: string): Promise<string | undefined> {
  const real = await realpath(dir).catch(() => undefined);
  return real === undefined ? 'does not exist' : notPrivate(await lstat(real));
}

/**
 * The kernel directories a host is started with (`xenode host --kernel-dir`): absolute, there,
 * and private, else EINVAL/EACCES naming the first that is not, and the host does not start.
 */
export async function checkKernelDirs(dirs: readonly string[]): Promise<void> {
  for (const d of dirs) {
    if (!isAbsolute(d)) throw new XenError('EINVAL', `kernel directory ${d}: give an absolute path`);
    const problem = await dirProblem(d);
    if (problem) throw new XenError('EACCES', `kernel directory ${d} ${problem}: a kernel directory must be a directory of this user's that no one else can write in`);
  }
}

export class KernelDirs {
  /** How refusals name each directory: the state dir as <state> (where the host's user lives is not a caller's business). */
  readonly #shown: readonly string[];

  constructor(readonly dirs: readonly string[], stateDir?: string) {
    const show = (d: string) => (stateDir !== undefined && (d === stateDir || d.startsWith(`${stateDir}${sep}`)) ? `<state>${d.slice(stateDir.length)}` : d);
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
    const problem = notPrivate(await lstat(realDirs[at]!));
    if (problem) throw refuse(`The kernel directory ${this.#shown[at]} ${problem}: this host runs no kernel from it`);
    if (!(await stat(real)).isFile()) throw refuse('Is not a regular file');
  }
}
