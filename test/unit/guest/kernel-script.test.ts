// A kernel linked as a script: compiled from the host's code cache in another thread (a vCPU's),
// run with 'xenode' bound to the library OS, and its stack frames mapped back to its sources.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { wrapKernelScript } from '../../../src/guest/kernel-wrap.js';
import { CompiledKernel } from '../../../src/guest/kernel-script.js';
import { cachedKernelScript, kernelScript } from '../../../src/toolstack/kernel.js';
import { compileFlags, eagerCodeCache } from '../../../src/toolstack/kernel-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-kscript-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('runs with xenode bound to the library given, and maps its stack frames to the sources', async () => {
  const kernel = join(dir, 'thrower.ts');
  writeFileSync(kernel, [
    "import { XenError } from 'xenode';",
    'export default function main(): never {',
    "  throw new XenError('EINVAL', 'from the kernel');",
    '}',
    '',
  ].join('\n'));
  const s = (await kernelScript(kernel))!;
  const library = { XenError: class XenError extends Error {} };
  const k = new CompiledKernel(s);
  const exports = k.run(library);
  assert.equal(typeof exports.default, 'function');
  let stack = '';
  try {
    (exports.default as () => void)();
  } catch (e) {
    assert.ok(e instanceof library.XenError, "'xenode' is the library the thread gave it");
    stack = (e as Error).stack!;
  }
  assert.match(stack, new RegExp(s.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'V8 names the image');
  assert.match(k.mapStack(stack), /thrower\.ts:3:\d+/, 'mapped: the source file and line');
});

test("its require: Node's modules (with or without node:), then files beside the image; unknown modules throw", () => {
  writeFileSync(join(dir, 'data.json'), '{ "x": 42 }');
  const code = "module.exports = { sep: require('node:path').sep, cpus: typeof require('os').cpus, x: require('./data.json').x, library: require('xenode') };\n";
  const k = new CompiledKernel({ url: pathToFileURL(join(dir, 'requirer.js')).href, code, cachedData: new Uint8Array() });
  const library = {};
  assert.deepEqual(k.run(library), { sep: '/', cpus: 'function', x: 42, library });
  const missing = new CompiledKernel({ url: pathToFileURL(join(dir, 'missing.js')).href, code: "require('node:no-such-module');\n", cachedData: new Uint8Array() });
  assert.throws(() => missing.run(library), { code: 'ERR_UNKNOWN_BUILTIN_MODULE' });
  const absent = new CompiledKernel({ url: pathToFileURL(join(dir, 'absent.js')).href, code: "require('./absent.json');\n", cachedData: new Uint8Array() });
  assert.throws(() => absent.run(library), { code: 'MODULE_NOT_FOUND' });
});

test("another thread compiles it from the host's code cache without rejecting it", async () => {
  const kernel = join(dir, 'plain.ts');
  writeFileSync(kernel, 'export default async function main(): Promise<void> {}\n');
  const s = (await kernelScript(kernel))!;
  const url = new URL('../../../src/guest/kernel-script.js', import.meta.url).href;
  const w = new Worker(`import(${JSON.stringify(url)}).then(({ CompiledKernel }) => {
    const k = new CompiledKernel(require('node:worker_threads').workerData);
    require('node:worker_threads').parentPort.postMessage(k.cacheRejected);
  });`, { eval: true, workerData: s });
  const rejected = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
  assert.equal(rejected, false);
});

test('runs strict, as the ES module it was written as: an assignment to an undeclared name throws', async () => {
  const kernel = join(dir, 'sloppy.ts');
  // Written as a module would never be (an undeclared name), to see the mode it runs in.
  writeFileSync(kernel, '// @ts-nocheck\nexport default function main(): void {}\nundeclaredByTheKernel = 1;\n');
  const s = (await kernelScript(kernel))!;
  assert.throws(() => new CompiledKernel(s).run({}), ReferenceError);
  assert.equal((globalThis as Record<string, unknown>).undeclaredByTheKernel, undefined);
});

test("the host's code cache comes to hold the kernel's functions compiled (made by a child process); dom0's own compiles stay lazy", async () => {
  const kernel = join(dir, 'functions.ts');
  writeFileSync(kernel, [
    'const twice = (x: number): number => x * 2;',
    'function label(n: number): string { return `n=${twice(n)}`; }',
    'export const shown = label(2);',
    'export default async function main(): Promise<void> { console.log(label(1)); }',
    '',
  ].join('\n'));
  // Another script with functions of its own, its cache made before and after: V8's lazy compiling is the same.
  const probe = 'function a() { return [1, 2, 3].map((x) => x + 1); }\nfunction b() { return a().length; }\n';
  // A new name each time (V8's compilation cache keys on it), of one length: the name is in the cache.
  let probes = 0;
  const lazyCache = () => new vm.Script(probe, { filename: `probe-${String(++probes).padStart(6, '0')}.js` }).createCachedData().length;
  const before = lazyCache();
  const first = (await kernelScript(kernel))!;
  // Another name: V8's compilation cache would hand back the script compiled above.
  const topLevelOnly = new vm.Script(wrapKernelScript(first.code), { filename: `${first.url}#lazy` }).createCachedData();
  let s = first;
  for (let i = 0; i < 600 && s.cachedData === first.cachedData; i++) {
    await new Promise((r) => setTimeout(r, 100));
    s = (await kernelScript(kernel))!;
  }
  assert.ok(s.cachedData.length > 1.5 * topLevelOnly.length, `a cache of ${s.cachedData.length} bytes against ${topLevelOnly.length} for the top level alone`);
  assert.deepEqual([s.url, s.code], [first.url, first.code]);
  assert.equal(lazyCache(), before, "dom0's compiles are lazy");
  assert.equal(new CompiledKernel(s).cacheRejected, false);
});

/** Why the storm test cannot watch this process's children, or false: it needs CONFIG_PROC_CHILDREN. */
const noChildrenFile = existsSync(`/proc/self/task/${process.pid}/children`) ? false : 'no /proc/<pid>/task/<tid>/children (a kernel without CONFIG_PROC_CHILDREN, or no /proc)';
if (noChildrenFile) console.log(`# storm test skipped: ${noChildrenFile}`);

test('a storm of new kernels starts one cache-making child at a time', { skip: noChildrenFile }, async () => {
  const children = () => readdirSync(`/proc/${process.pid}/task`)
    .flatMap((tid) => readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
  const before = new Set(children());
  const sources = Array.from({ length: 4 }, (_, i) => wrapKernelScript(`exports.f${i} = function f() { return ${i}; };\n`));
  let most = 0;
  let seen = 0;
  const made = Promise.all(sources.map((src, i) => eagerCodeCache(src, `file:///storm-${i}.js`, 1 << 20)));
  let done = false;
  void made.finally(() => (done = true));
  while (!done) {
    const now = children().filter((pid) => !before.has(pid)).length;
    most = Math.max(most, now);
    if (now > 0) seen++;
    await new Promise((r) => setTimeout(r, 2));
  }
  const caches = await made;
  assert.ok(caches.every((c) => c !== undefined && c.length > 0), 'every cache was made');
  assert.ok(seen > 0, 'a child was seen at work');
  assert.equal(most, 1, 'one child at a time');
});

test("the cache-making child gets only the host's compile flags: no inspector, profiler, preload, test option or loose value", () => {
  const host = ['--inspect-brk=0', '--cpu-prof', '--heap-prof', '--prof', '--require', 'preload.js', '--import=tsx',
    '--experimental-loader=hook.mjs', '--test-name-pattern', 'storm', '--max-semi-space-size=1', '--stack-size=2000',
    '--no-opt', '--max_old_space_size=512', '--watch'];
  assert.deepEqual(compileFlags(host), ['--max-semi-space-size=1', '--stack-size=2000', '--no-opt', '--max_old_space_size=512']);
  assert.deepEqual(compileFlags(''.split(/\s+/)), []);
});

test("a closing host's eager caches: the child at work is killed and the queued one never starts", { skip: noChildrenFile }, async () => {
  // This test's children only (the URL is the child's last argument): not another test's
  // child still at work, nor anything else this process starts.
  const ours = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('file:///closing-');
    } catch {
      return false; // gone already
    }
  };
  const children = () => readdirSync(`/proc/${process.pid}/task`)
    .flatMap((tid) => readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean))
    .filter(ours);
  // Large enough that its child is still compiling when it is seen.
  const big = (n: number) => wrapKernelScript(Array.from({ length: 40_000 }, (_, i) => `exports.f${n}_${i} = function () { return ${i} * ${n}; };\n`).join(''));
  const closing = new AbortController();
  const made = [eagerCodeCache(big(1), 'file:///closing-1.js', 1 << 28, closing.signal), eagerCodeCache(big(2), 'file:///closing-2.js', 1 << 28, closing.signal)];
  const seen = new Set<string>();
  let settled = false;
  void Promise.all(made).finally(() => (settled = true));
  while (!settled) {
    const now = children();
    for (const pid of now) seen.add(pid);
    if (now.length > 0) closing.abort();
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.deepEqual(await Promise.all(made), [undefined, undefined], 'no cache: the host closed');
  assert.equal(seen.size, 1, 'the queued child never started');
  // Reaped: its 'close' came.
  for (const pid of seen) assert.equal(existsSync(`/proc/${pid}`), false, `child ${pid} is gone`);
});

test('a kernel whose eager cache a closing host stopped gets it from the next host that asks', async () => {
  const kernel = join(dir, 'closing.ts');
  writeFileSync(kernel, 'export default function main(): number { return 1; }\n');
  const closing = new AbortController();
  const first = (await kernelScript(kernel, closing.signal))!;
  closing.abort();
  // The child's end: the cache then holds the eager script (had the child run on) or nothing.
  for (let i = 0; i < 600 && cachedKernelScript(kernel) === first; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(cachedKernelScript(kernel), undefined, 'the stopped script left the cache, with no eager cache put in its place');
  const next = (await kernelScript(kernel))!;
  assert.notEqual(next, first, 'asked again, it is made anew');
  assert.equal(next.code, first.code);
});
