// Backing files: where the name stored in an image points (relative names are relative to the
// image's directory, as qemu resolves them), and what format it is when the image does not say.
import { close, read } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, isAbsolute, join } from 'node:path';
import { openNamed } from '../named.js';
import { QCOW2_MAGIC } from './header.js';

const readP = promisify(read);
const closeP = promisify(close);

/** The most backing files below an image (a loop is caught before; this bounds honest chains). */
export const MAX_CHAIN_DEPTH = 30;

export type BackingFormat = 'raw' | 'qcow2';

export function backingPath(imagePath: string, name: string): string {
  return isAbsolute(name) ? name : join(dirname(imagePath), name);
}

/**
 * qcow2 if the file starts with the qcow2 magic, raw otherwise (what qemu's probe does for these
 * two). Opened as disks are (openNamed: a regular file or a block device, never blocking);
 * `noFollow` for a real path already checked.
 */
export async function probeFormat(path: string, opts: { noFollow?: boolean } = {}): Promise<BackingFormat> {
  const { fd } = await openNamed(path, { what: 'backing file', kind: 'disk', noFollow: opts.noFollow });
  try {
    const b = new Uint8Array(4);
    const { bytesRead } = await readP(fd, b, 0, 4, 0);
    return bytesRead === 4 && new DataView(b.buffer).getUint32(0) === QCOW2_MAGIC ? 'qcow2' : 'raw';
  } finally {
    await closeP(fd).catch(() => {});
  }
}
