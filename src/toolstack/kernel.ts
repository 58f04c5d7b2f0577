// A guest's kernel= is a program written against the library OS. Like `mirage build`, the
// toolstack links it into one image: esbuild bundles the program and its own imports into a
// single ES module (TypeScript included), leaving Node's builtins and the xenode library
// itself outside. Images are cached by source path and modification times.
import { createHash } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { GUEST_IMAGE } from '../guest/image.js';

/** The kernel could not be built into an image. */
export class KernelError extends Error {
  override name = 'KernelError';
  constructor(readonly kernel: string, detail: string) {
    super(`kernel ${kernel}: ${detail}`);
  }
}

const LIBRARY_ENTRY = fileURLToPath(GUEST_IMAGE);
const IMAGE_DIR = join(tmpdir(), `xenode-kernels-${process.getuid?.() ?? 'user'}`);

// Guests import types (and a few values) from 'xenode': bind that to the library OS image the
// vCPU thread runs, so classes are shared with the runtime that calls main(os).
const xenodeLibrary: Plugin = {
  name: 'xenode-library',
  setup(b) {
    b.onResolve({ filter: /^xenode$/ }, () => ({ path: LIBRARY_ENTRY, external: true }));
  },
};

interface CachedImage {
  readonly url: string;
  /** mtimes of every input, to notice an edited source. */
  readonly inputs: ReadonlyMap<string, number>;
}
const cache = new Map<string, CachedImage>();

async function upToDate(img: CachedImage): Promise<boolean> {
  for (const [file, mtime] of img.inputs) {
    const s = await stat(file).catch(() => null);
    if (!s || s.mtimeMs !== mtime) return false;
  }
  return true;
}

/** Build (or reuse) the image of `kernelPath`; returns its file URL. */
export async function kernelImage(kernelPath: string): Promise<string> {
  const path = resolve(kernelPath);
  const hit = cache.get(path);
  if (hit && (await upToDate(hit))) return hit.url;
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) throw new KernelError(kernelPath, 'no such file');
  let result;
  try {
    // Loaded on first use: commands that build no kernel (xenode list, ...) start without it.
    const { build } = await import('esbuild');
    result = await build({
      entryPoints: [path],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      metafile: true,
      logLevel: 'silent',
      sourcemap: 'inline',
      plugins: [xenodeLibrary],
    });
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] }).errors;
    const first = errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw new KernelError(kernelPath, first ? `${where}${first.text}` : String(e));
  }
  const out = Object.values(result.metafile.outputs)[0];
  if (!out?.exports.includes('default')) {
    throw new KernelError(kernelPath, 'does not export a main function (export default async function main(os) { ... })');
  }
  const code = result.outputFiles[0]!.contents;
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 16);
  await mkdir(IMAGE_DIR, { recursive: true });
  const file = join(IMAGE_DIR, `${digest}.mjs`);
  await writeFile(file, code);
  const inputs = new Map<string, number>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const abs = resolve(input);
    const s = await stat(abs).catch(() => null);
    if (s) inputs.set(abs, s.mtimeMs);
  }
  const url = pathToFileURL(file).href;
  cache.set(path, { url, inputs });
  return url;
}
