// A kernel linked as a script: compiled from the host's code cache in another thread (a vCPU's),
// run with 'xenode' bound to the library OS, and its stack frames mapped back to its sources.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CompiledKernel } from '../../../src/guest/kernel-script.js';
import { kernelScript } from '../../../src/toolstack/kernel.js';

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
