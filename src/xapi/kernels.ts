// Which kernels a XenAPI caller may name (VM.create's PV_kernel, and VM.start's again): files in
// the host's kernel directories only, as XAPI's xenopsd glue allows /var/lib/xcp/guest/ alone
// (kernel_path in xapi_xenops.ml). A kernel runs as the host's user and its errors come back to
// the caller: any path at all let a vm-admin test whether a host file exists and run a host
// script as a guest. The local CLI (the host's own user) may still name any file.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { isInside } from '../storage/disk.js';
import { XapiError } from './errors.js';

function within(path: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => isInside(path, d));
}

export class KernelDirs {
  /** How refusals name the directories: the state dir as <state> (where the host's user lives is not a caller's business). */
  readonly #shown: string;

  constructor(readonly dirs: readonly string[], stateDir?: string) {
    const show = (d: string) => (stateDir !== undefined && (d === stateDir || d.startsWith(`${stateDir}${sep}`)) ? `<state>${d.slice(stateDir.length)}` : d);
    this.#shown = dirs.map(show).join('; ');
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
      ? `Is not in any of the allowed kernel directories: [${this.#shown}]`
      : 'This host has no kernel directories: XenAPI callers may not name kernels');
    if (!isAbsolute(p) || !within(resolve(p), this.dirs)) throw outside;
    const real = await realpath(p).catch(() => undefined);
    const realDirs = (await Promise.all(this.dirs.map((d) => realpath(d).catch(() => undefined)))).filter((d): d is string => d !== undefined);
    if (real === undefined) throw refuse('File does not exist');
    if (!within(real, realDirs)) throw outside;
    if (!(await stat(real)).isFile()) throw refuse('Is not a regular file');
  }
}
