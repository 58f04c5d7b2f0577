// A guest's kernel= is a program written against the library OS. Like `mirage build`, the
// toolstack links it into one image: esbuild bundles the program and its own imports into a
// single ES module (TypeScript included), leaving Node's builtins and the xenode library
// itself outside. Images are cached by source path and modification times.
//
// Every file esbuild reads comes through a plugin that opens it as storage/named.ts opens what
// a client names: a regular file, within a size limit (a FIFO or /dev/zero among a guest's
// imports would otherwise hang the build or fill memory); and a build is bounded in time.
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { chmod, lstat, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import type { BuildResult, Plugin } from 'esbuild';
import { XenError } from '../errors.js';
import { LIBRARY_IMAGE } from '../guest/image.js';
import { wrapKernelScript } from '../guest/kernel-wrap.js';
import type { KernelScript } from '../hypervisor/vcpu.js';
import { readNamed } from '../storage/named.js';
import { eagerCodeCache } from './kernel-cache.js';
import { notPrivate } from './private.js';

/** The kernel could not be built into an image. */
export class KernelError extends Error {
  override name = 'KernelError';
  constructor(readonly kernel: string, detail: string) {
    super(`kernel ${kernel}: ${detail}`);
  }
}

const LIBRARY_ENTRY = fileURLToPath(LIBRARY_IMAGE);
const IMAGE_DIR = join(tmpdir(), `xenode-kernels-${process.getuid?.() ?? 'user'}`);
/** Where esbuild is told the image goes: source map paths come out relative to its directory. */
const OUT_FILE = join(IMAGE_DIR, 'kernel.mjs');
/** One source file of a kernel; a guest program is far smaller. */
export const MAX_SOURCE_BYTES = 16 * 2 ** 20;
/** All the sources of one kernel together. */
export const MAX_KERNEL_SOURCE_BYTES = 64 * 2 ** 20;
/** A build that takes longer is cancelled. */
export const KERNEL_BUILD_TIMEOUT_MS = 60_000;

// Guests import types (and a few values) from 'xenode': bind that to the library OS image the
// vCPU thread runs, so classes are shared with the runtime that calls main(os).
const xenodeLibrary: Plugin = {
  name: 'xenode-library',
  setup(b) {
    b.onResolve({ filter: /^xenode$/ }, () => ({ path: LIBRARY_ENTRY, external: true }));
  },
};

/** esbuild reads every source through readNamed, and at most `total` bytes in all. */
function boundedSources(total: number): Plugin {
  let left = total;
  return {
    name: 'xenode-bounded-sources',
    setup(b) {
      b.onLoad({ filter: /.*/, namespace: 'file' }, async (args) => {
        const bytes = await readNamed(args.path, { what: 'kernel source', limit: Math.min(MAX_SOURCE_BYTES, left) });
        left -= bytes.length;
        return { contents: bytes, loader: 'default' };
      });
    },
  };
}

interface CachedImage {
  readonly url: string;
  /** mtimes of every input, to notice an edited source. */
  readonly inputs: ReadonlyMap<string, number>;
  /** A CommonJS image that lost nothing in the conversion (no import.meta): it can run as a script. */
  readonly scriptable: boolean;
}
const cache = new Map<string, CachedImage>();

/**
 * Whether no input changed since the image was linked. Synchronous: a few stats of local files
 * cost microseconds, where a round trip through libuv's thread pool each would cost a create
 * from a shell a good part of its budget.
 */
function upToDate(img: CachedImage): boolean {
  for (const [file, mtime] of img.inputs) {
    const s = statSync(file, { throwIfNoEntry: false });
    if (!s || s.mtimeMs !== mtime) return false;
  }
  return true;
}

/** Scripts by image URL, which names the image's content (its digest). */
const scripts = new Map<string, KernelScript>();
/** A kernel's cache with its functions compiled is at most this many times its source (bytecode is smaller). */
const EAGER_CACHE_MAX_FACTOR = 4;

// A kernel for a realm on a shared pCPU (guest/pcpu.ts) is a CommonJS module body instead: a
// realm links no ES modules, and its require('xenode') is its own instance of the library OS.
const realmLibrary: Plugin = {
  name: 'xenode-realm-library',
  setup(b) {
    b.onResolve({ filter: /^xenode$/ }, () => ({ path: 'xenode', external: true }));
  },
};

/** Where a kernel image runs: a vCPU thread of its own (an ES module) or a realm. */
export type KernelTarget = 'module' | 'realm';

/** esbuild over one entry point, with sources bounded in size and the build in time. */
async function build(entry: string, target: KernelTarget): Promise<BuildResult<{ metafile: true; write: false }>> {
  // Loaded on first use: commands that build no kernel (xenode list, ...) start without it.
  const esbuild = await import('esbuild');
  const ctx = await esbuild.context({
    entryPoints: [entry],
    bundle: true,
    write: false,
    outfile: OUT_FILE,
    format: target === 'realm' ? 'cjs' : 'esm',
    platform: 'node',
    // A realm must not run import(): Node answers it with errors of the host thread's realm,
    // whose constructors lead out. esbuild turns each into a require(), which the realm refuses.
    ...(target === 'realm' && { supported: { 'dynamic-import': false } }),
    target: 'node20',
    metafile: true,
    logLevel: 'silent',
    sourcemap: 'external',
    plugins: [target === 'realm' ? realmLibrary : xenodeLibrary, boundedSources(MAX_KERNEL_SOURCE_BYTES)],
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void ctx.cancel();
  }, KERNEL_BUILD_TIMEOUT_MS);
  try {
    const result = await ctx.rebuild();
    if (timedOut) throw new Error(`the build took longer than ${KERNEL_BUILD_TIMEOUT_MS / 1000} s and was cancelled`);
    return result;
  } catch (e) {
    if (timedOut) throw new Error(`the build took longer than ${KERNEL_BUILD_TIMEOUT_MS / 1000} s and was cancelled`);
    throw e;
  } finally {
    clearTimeout(timer);
    await ctx.dispose();
  }
}

/**
 * The image's code with its source map inline, the map naming each source by its absolute file
 * URL: esbuild writes them relative to where it was told the image goes, which is not where a
 * stack trace should point (the image lives in a temporary directory; the sources are the guest's).
 */
function withSourceMap(result: BuildResult<{ write: false }>): Uint8Array {
  const files = result.outputFiles;
  const js = files.find((f) => f.path.endsWith('.mjs'))!;
  const mapFile = files.find((f) => f.path.endsWith('.map'));
  if (!mapFile) return js.contents;
  const map = JSON.parse(mapFile.text) as { sources: string[] };
  map.sources = map.sources.map((src) => pathToFileURL(resolve(dirname(OUT_FILE), src)).href);
  const inline = `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
  return Buffer.concat([js.contents, Buffer.from(inline)]);
}

/**
 * Make the directory images are written to (mode 0700), or check the one there: in a shared
 * temporary directory another user may have made it first, and whoever can write in it plants
 * the code guests run as this user (a Pool-0 guest has Node's whole standard library). Refused
 * unless a directory (not a link to one), this user's, and writable by no one else; one of ours
 * that others may only read (made before this check, with the umask's mode) is made ours alone.
 */
export async function privateDir(dir: string): Promise<void> {
  await mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  const st = await lstat(dir);
  const problem = notPrivate(st);
  if (problem) throw new XenError('EACCES', `kernel image directory ${dir} ${problem}: refused, as anyone who can write in it could plant images; remove it`);
  if (st.mode & 0o077) await chmod(dir, 0o700);
}

/** Build (or reuse) the image of `kernelPath`; returns its file URL. */
export async function kernelImage(kernelPath: string, target: KernelTarget = 'module'): Promise<string> {
  return (await image(kernelPath, target)).url;
}

/**
 * The kernel linked as a script (the realm target's CommonJS module body), with V8's code cache
 * made once per image: a vCPU thread compiles it from the cache without parsing it again, and
 * a parked shell compiles it before its claim (guest/kernel-script.ts). Null when the kernel
 * is no script: top-level await, or import.meta (which a script has not); it then runs as an
 * ES module (kernelImage). `signal`: the asking host's close, which stops the making of the
 * eager cache (kernel-cache.ts).
 */
export async function kernelScript(kernelPath: string, signal?: AbortSignal): Promise<KernelScript | null> {
  const hit = cachedKernelScript(kernelPath);
  if (hit) return hit;
  let img: CachedImage;
  try {
    img = await image(kernelPath, 'realm');
  } catch (e) {
    if (e instanceof KernelError) return null; // the module build reports the kernel's own errors
    throw e;
  }
  if (!img.scriptable) return null;
  let s = scripts.get(img.url);
  if (!s) {
    const code = await readFile(fileURLToPath(img.url), 'utf8');
    const wrapped = wrapKernelScript(code);
    const cachedData = new vm.Script(wrapped, { filename: img.url }).createCachedData();
    const lazy: KernelScript = { url: img.url, code, cachedData };
    s = lazy;
    scripts.set(img.url, s);
    // The cache with the kernel's functions compiled replaces it once a child has made it: the
    // shells prepared with it, and the claims of shells never prepared, then compile none of the
    // kernel's functions as it runs.
    void eagerCodeCache(wrapped, img.url, EAGER_CACHE_MAX_FACTOR * wrapped.length + cachedData.length, signal).then((eager) => {
      if (scripts.get(img.url) !== lazy) return;
      if (eager) scripts.set(img.url, { ...lazy, cachedData: eager });
      // Stopped by a closing host: the next ask (another host's) starts it again.
      else if (signal?.aborted) scripts.delete(img.url);
    }, () => {});
  }
  return s;
}

/**
 * kernelScript's answer when it needs no await: the image is linked as a script and no input
 * changed since (a stat each). A create from a shell asks this first: kernelScript's hops through
 * the microtask queue and its path resolution cost it more than the stats.
 */
export function cachedKernelScript(kernelPath: string): KernelScript | undefined {
  const img = cache.get(cacheKey(kernelPath, 'realm'));
  return img?.scriptable && upToDate(img) ? scripts.get(img.url) : undefined;
}

/** An image's key: its path (resolved unless absolute: another spelling of a path only links once more) and target. */
function cacheKey(kernelPath: string, target: KernelTarget): string {
  const path = isAbsolute(kernelPath) ? kernelPath : resolve(kernelPath);
  return target === 'module' ? path : `${path}\0${target}`;
}

async function image(kernelPath: string, target: KernelTarget): Promise<CachedImage> {
  const path = resolve(kernelPath);
  const key = cacheKey(kernelPath, target);
  const hit = cache.get(key);
  if (hit && upToDate(hit)) return hit;
  // Other kinds than these two the build's reader refuses, with its reason.
  const st = await stat(path).catch(() => null);
  if (!st) throw new KernelError(kernelPath, 'no such file');
  if (st.isDirectory()) throw new KernelError(kernelPath, "is a directory; kernel= names the guest program's file");
  let result;
  try {
    result = await build(path, target);
  } catch (e) {
    const errors = (e as { errors?: { text: string; pluginName?: string; location?: { file: string; line: number; column: number } }[] }).errors;
    const first = errors?.[0];
    // A plugin's error is located in the plugin's code: its text names the file already.
    const where = first?.location && !first.pluginName ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw new KernelError(kernelPath, first ? `${where}${first.text}` : String((e as Error).message ?? e));
  }
  const out = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.mjs'))?.[1];
  if (target === 'module' && !out?.exports.includes('default')) {
    throw new KernelError(kernelPath, 'does not export a main function (export default async function main(os) { ... })');
  }
  const code = withSourceMap(result);
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 16);
  await privateDir(IMAGE_DIR);
  const file = join(IMAGE_DIR, `${digest}${target === 'module' ? '.mjs' : '.cjs'}`);
  // Another build (this process or another) may be loading this very image: it appears whole or not at all.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, code);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const inputs = new Map<string, number>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const abs = resolve(input);
    const s = await stat(abs).catch(() => null);
    if (s) inputs.set(abs, s.mtimeMs);
  }
  const url = pathToFileURL(file).href;
  const img = { url, inputs, scriptable: !result.warnings.some((w) => w.text.includes('import.meta')) };
  cache.set(key, img);
  return img;
}
