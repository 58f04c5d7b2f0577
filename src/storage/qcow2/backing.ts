// Backing files: where the name stored in an image points (relative names are relative to the
// image's directory, as qemu resolves them), and what format it is when the image does not say.
import { open } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { QCOW2_MAGIC } from './header.js';

/** The most backing files below an image (a loop is caught before; this bounds honest chains). */
export const MAX_CHAIN_DEPTH = 30;

export type BackingFormat = 'raw' | 'qcow2';

export function backingPath(imagePath: string, name: string): string {
  return isAbsolute(name) ? name : join(dirname(imagePath), name);
}

/** qcow2 if the file starts with the qcow2 magic, raw otherwise (what qemu's probe does for these two). */
export async function probeFormat(path: string): Promise<BackingFormat> {
  const fh = await open(path, 'r');
  try {
    const b = new Uint8Array(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && new DataView(b.buffer).getUint32(0) === QCOW2_MAGIC ? 'qcow2' : 'raw';
  } finally {
    await fh.close();
  }
}
