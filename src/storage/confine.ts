// An image chain's walk from its top image down the parents it names (VHD's parent locators,
// qcow2's backing files), for both formats and every place xenode opens an SR's image
// (blkback, vdi-export/copy, the collector and coalesce, vdi-migrate). Each link is resolved to
// its real path and refused, before it is read, if it leaves the SR's directory (resolved once
// per chain), leads back into the chain, or makes the chain deeper than its format allows. The
// format then opens the real path checked without following a symbolic link (O_NOFOLLOW, and the
// kind checked again on the descriptor), so a link swapped in for the file cannot lead out; a
// parent directory swapped for a link can, by whoever may write in the SR's own parents.
// A link must be a regular file or a block device: a FIFO's probe would wait for a writer (a
// libuv thread held for good), a directory is no image. A VDI's own image, the top, is checked by `confined`.
import { realpath, stat } from 'node:fs/promises';
import { XenError, type XenErrnoName } from '../errors.js';
import { isInside } from './disk.js';
import { kindOf } from './named.js';

/** Why a link is refused; the format wraps it in its own typed error (VhdError, Qcow2Error). */
export type LinkRefusal = (errno: XenErrnoName, why: string, what: 'chain' | 'link') => never;

/** The real path of `path` (a VDI's image, the top of its chain), which must lie inside the real `dir` (no symbolic link leads out). */
export async function confined(path: string, dir: string): Promise<string> {
  const [real, realDir] = await Promise.all([realpath(path), realpath(dir)]);
  if (!isInside(real, realDir)) throw new XenError('EACCES', `${path} leads to ${real}, outside its SR ${dir}`);
  return real;
}

export class ChainWalk {
  readonly #seen: string[];

  private constructor(top: string, readonly confine: string | undefined, readonly realDir: string | undefined, readonly maxLinks: number) {
    this.#seen = [top];
  }

  /**
   * A walk from the image at `top`. With `confine` (an SR's directory), every parent must lie
   * inside it; `maxLinks`: the most parents the top may have.
   */
  static async from(top: string, confine: string | undefined, maxLinks: number): Promise<ChainWalk> {
    const [real, dir] = await Promise.all([realpath(top), confine === undefined ? undefined : realpath(confine)]);
    return new ChainWalk(real, confine, dir, maxLinks);
  }

  /** The real path of the parent `named` by the image last reached, checked; `refuse` throws the format's error. */
  async link(named: string, refuse: LinkRefusal): Promise<string> {
    if (this.#seen.length > this.maxLinks) refuse('EMLINK', `is deeper than ${this.maxLinks + 1} images`, 'chain');
    const real = await realpath(named).catch((e: NodeJS.ErrnoException) =>
      refuse(e.code === 'ENOENT' ? 'ENOENT' : 'EIO', e.code === 'ENOENT' ? `names ${named}: no such file` : `names ${named}: ${e.code}`, 'link'));
    if (this.realDir !== undefined && !isInside(real, this.realDir)) refuse('EACCES', `names ${named}, outside ${this.confine}`, 'link');
    if (this.#seen.includes(real)) refuse('EINVAL', `leads back to ${named}, already in the chain (it loops)`, 'link');
    const st = await stat(real).catch((e: NodeJS.ErrnoException) => refuse('EIO', `names ${named}: ${e.code}`, 'link'));
    if (!st.isFile() && !st.isBlockDevice()) refuse(st.isDirectory() ? 'EISDIR' : 'EINVAL', `names ${named}, ${kindOf(st)}: a parent must be a regular file or a block device`, 'link');
    this.#seen.push(real);
    return real;
  }
}
