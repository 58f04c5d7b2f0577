// Where a disk's target= is. xl resolves a relative target against the directory xl runs in;
// xenode's host daemon has no client's working directory, so (docs/BLOCK.md):
// - an absolute target is used as it is, as xl does;
// - a bare name (no '/') is an image in the host's images directory (xenode's local storage
//   repository), created empty and sparse on first use, and confined there: a symbolic link
//   in that directory that leads out of it is refused;
// - a relative path with a '/' is resolved, when the configuration is read, against the
//   directory of the configuration file: the nearest thing to xl's working directory a client
//   names (the file a user wrote the path into), and the anchor kernel= already uses. With no
//   file to anchor it (block-attach), it is refused.
import { mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { XenError, isXenError } from '../errors.js';
import { RAM_TARGET_PREFIX, imageFormat } from '../storage/open.js';

/** Size of an image created for a bare name that does not exist yet. */
export const DEFAULT_IMAGE_BYTES = 64 * 2 ** 20;

/** A bare name: an image of the images directory. */
function isImageName(target: string): boolean {
  return !target.includes('/') && !target.startsWith(RAM_TARGET_PREFIX);
}

/**
 * A configuration file's target, with a relative path that has a '/' anchored at the file's
 * directory; other targets are returned as they are.
 */
export function resolveConfigTarget(target: string, configFile: string): string {
  if (isAbsolute(target) || isImageName(target) || target.startsWith(RAM_TARGET_PREFIX)) return target;
  return resolve(dirname(resolve(configFile)), target);
}

/**
 * The path a target names on this host, for the backend's params. A bare name is confined to
 * `imagesDir` and created there (empty, sparse, in `format`) if absent; `log` is told when one is.
 */
export async function targetPath(target: string, format: string, imagesDir: string, log?: (line: string) => void): Promise<string> {
  if (isAbsolute(target) || target.startsWith(RAM_TARGET_PREFIX)) return target;
  if (!isImageName(target)) {
    throw new XenError('EINVAL', `target=${target}: a relative path is resolved against a configuration file's directory, ` +
      'and there is none here: give an absolute path, or a bare name for an image in the images directory');
  }
  if (target === '.' || target === '..' || target === '') {
    throw new XenError('EINVAL', `target=${target}: not an image name`);
  }
  // The default SR's directory: writable by xenode only whatever the umask, or the next plug refuses it (SrDirUnsafe).
  await mkdir(imagesDir, { recursive: true, mode: 0o700 });
  const path = join(imagesDir, target);
  // An image of the disk's own format, so that the backend can open what it finds.
  const created = await imageFormat(format).create(path, DEFAULT_IMAGE_BYTES).then(() => true, (e: unknown) => {
    if (isXenError(e, 'EEXIST') || (e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  });
  if (created) log?.(`created ${format} disk image ${path} (${DEFAULT_IMAGE_BYTES} bytes)`);
  const [real, realDir] = await Promise.all([realpath(path), realpath(imagesDir)]).catch(() => {
    throw new XenError('ENOENT', `target=${target}: ${path} is a symbolic link that leads nowhere`);
  });
  if (!real.startsWith(realDir + sep)) {
    throw new XenError('EACCES', `target=${target}: ${path} leads to ${real}, outside the images directory ${imagesDir}`);
  }
  return path;
}
