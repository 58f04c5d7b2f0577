// A guest's kernel= is a program written against the library OS. Like `mirage build`, the
// toolstack links it into one image: esbuild bundles the program and its own imports into a
// single ES module (TypeScript included), leaving Node's builtins and the xenode library
// itself outside. Images are cached by source path and modification times.
//
// Every file esbuild reads comes through a plugin that opens it as storage/named.ts opens what
// a client names: a regular file, within a size limit (a FIFO or /dev/zero among a guest's
// imports would otherwise hang the build or fill memory); and a build is bounded in time.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GUEST_IMAGE } from '../guest/image.js';
import { readNamed } from '../storage/named.js';
/** The kernel could not be built into an image. */
export class KernelError extends Error {
    kernel;
    name = 'KernelError';
    constructor(kernel, detail) {
        super(`kernel ${kernel}: ${detail}`);
        this.kernel = kernel;
    }
}
const LIBRARY_ENTRY = fileURLToPath(GUEST_IMAGE);
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
const xenodeLibrary = {
    name: 'xenode-library',
    setup(b) {
        b.onResolve({ filter: /^xenode$/ }, () => ({ path: LIBRARY_ENTRY, external: true }));
    },
};
/** esbuild reads every source through readNamed, and at most `total` bytes in all. */
function boundedSources(total) {
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
const cache = new Map();
async function upToDate(img) {
    for (const [file, mtime] of img.inputs) {
        const s = await stat(file).catch(() => null);
        if (!s || s.mtimeMs !== mtime)
            return false;
    }
    return true;
}
// A kernel for a realm on a shared pCPU (guest/pcpu.ts) is a CommonJS module body instead: a
// realm links no ES modules, and its require('xenode') is its own instance of the library OS.
const realmLibrary = {
    name: 'xenode-realm-library',
    setup(b) {
        b.onResolve({ filter: /^xenode$/ }, () => ({ path: 'xenode', external: true }));
    },
};
/** esbuild over one entry point, with sources bounded in size and the build in time. */
async function build(entry, target) {
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
        if (timedOut)
            throw new Error(`the build took longer than ${KERNEL_BUILD_TIMEOUT_MS / 1000} s and was cancelled`);
        return result;
    }
    catch (e) {
        if (timedOut)
            throw new Error(`the build took longer than ${KERNEL_BUILD_TIMEOUT_MS / 1000} s and was cancelled`);
        throw e;
    }
    finally {
        clearTimeout(timer);
        await ctx.dispose();
    }
}
/**
 * The image's code with its source map inline, the map naming each source by its absolute file
 * URL: esbuild writes them relative to where it was told the image goes, which is not where a
 * stack trace should point (the image lives in a temporary directory; the sources are the guest's).
 */
function withSourceMap(result) {
    const files = result.outputFiles;
    const js = files.find((f) => f.path.endsWith('.mjs'));
    const mapFile = files.find((f) => f.path.endsWith('.map'));
    if (!mapFile)
        return js.contents;
    const map = JSON.parse(mapFile.text);
    map.sources = map.sources.map((src) => pathToFileURL(resolve(dirname(OUT_FILE), src)).href);
    const inline = `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
    return Buffer.concat([js.contents, Buffer.from(inline)]);
}
/** Build (or reuse) the image of `kernelPath`; returns its file URL. */
export async function kernelImage(kernelPath, target = 'module') {
    const path = resolve(kernelPath);
    const key = target === 'module' ? path : `${path}\0${target}`;
    const hit = cache.get(key);
    if (hit && (await upToDate(hit)))
        return hit.url;
    // Other kinds than these two the build's reader refuses, with its reason.
    const st = await stat(path).catch(() => null);
    if (!st)
        throw new KernelError(kernelPath, 'no such file');
    if (st.isDirectory())
        throw new KernelError(kernelPath, "is a directory; kernel= names the guest program's file");
    let result;
    try {
        result = await build(path, target);
    }
    catch (e) {
        const errors = e.errors;
        const first = errors?.[0];
        // A plugin's error is located in the plugin's code: its text names the file already.
        const where = first?.location && !first.pluginName ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
        throw new KernelError(kernelPath, first ? `${where}${first.text}` : String(e.message ?? e));
    }
    const out = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.mjs'))?.[1];
    if (target === 'module' && !out?.exports.includes('default')) {
        throw new KernelError(kernelPath, 'does not export a main function (export default async function main(os) { ... })');
    }
    const code = withSourceMap(result);
    const digest = createHash('sha256').update(code).digest('hex').slice(0, 16);
    await mkdir(IMAGE_DIR, { recursive: true });
    const file = join(IMAGE_DIR, `${digest}${target === 'module' ? '.mjs' : '.cjs'}`);
    // Another build (this process or another) may be loading this very image: it appears whole or not at all.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
        await writeFile(tmp, code);
        await rename(tmp, file);
    }
    catch (e) {
        await rm(tmp, { force: true });
        throw e;
    }
    const inputs = new Map();
    for (const input of Object.keys(result.metafile.inputs)) {
        const abs = resolve(input);
        const s = await stat(abs).catch(() => null);
        if (s)
            inputs.set(abs, s.mtimeMs);
    }
    const url = pathToFileURL(file).href;
    cache.set(key, { url, inputs });
    return url;
}
//# sourceMappingURL=kernel.js.map