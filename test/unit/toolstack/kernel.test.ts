// Linking a kernel image: every source is read as a named file within its limit, the image is
// written whole (temp and rename), and its source map names the sources by their real paths.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isXenError } from '../../../src/errors.js';
import { KernelError, MAX_SOURCE_BYTES, cachedKernelScript, kernelImage, kernelScript, privateDir } from '../../../src/toolstack/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-kernel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MAIN = 'export default async function main(): Promise<void> {}\n';

test('a source past its limit is refused, naming it', async () => {
  const big = join(dir, 'big.ts');
  writeFileSync(big, `${MAIN}//${'x'.repeat(MAX_SOURCE_BYTES)}\n`);
  await assert.rejects(kernelImage(big), (e: unknown) =>
    e instanceof KernelError && new RegExp(`kernel source ${big} is \\d+ bytes; the limit is ${MAX_SOURCE_BYTES}`).test(e.message));
});

test('concurrent builds of one image each get it whole; its source map names the real sources', async () => {
  const kernel = join(dir, 'k.ts');
  writeFileSync(kernel, `import { helper } from './helper.ts';\n${MAIN.replace('{}', '{ helper(); }')}`);
  writeFileSync(join(dir, 'helper.ts'), 'export function helper(): number { return 1; }\n');
  // Builds that start before any is cached all write the same image file.
  const urls = await Promise.all(Array.from({ length: 6 }, () => kernelImage(kernel)));
  assert.equal(new Set(urls).size, 1);
  const code = readFileSync(fileURLToPath(urls[0]!), 'utf8');
  const m = /\n\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\n$/.exec(code);
  assert.ok(m, 'the image ends with its whole source map');
  const map = JSON.parse(Buffer.from(m[1]!, 'base64').toString()) as { sources: string[] };
  assert.deepEqual(map.sources.filter((s) => !s.includes('node_modules')).sort(),
    [pathToFileURL(join(dir, 'helper.ts')).href, pathToFileURL(kernel).href].sort());
  const mine = readdirSync(dirname(fileURLToPath(urls[0]!))).filter((f) => f.includes(`.${process.pid}.`) && f.endsWith('.tmp'));
  assert.deepEqual(mine, [], 'no temporary file left behind');
});

test('a kernel links once as a script, with V8 code cache; one with import.meta or top-level await does not', async () => {
  const kernel = join(dir, 'script.ts');
  writeFileSync(kernel, MAIN);
  const s = await kernelScript(kernel);
  assert.ok(s, 'a plain kernel is a script');
  assert.ok(s.cachedData.byteLength > 0, 'with a code cache');
  assert.equal(await kernelScript(kernel), s, 'cached by content: the second create gets the same script');
  writeFileSync(join(dir, 'meta.ts'), `console.log(import.meta.url);\n${MAIN}`);
  assert.equal(await kernelScript(join(dir, 'meta.ts')), null);
  writeFileSync(join(dir, 'tla.ts'), `await Promise.resolve();\n${MAIN}`);
  assert.equal(await kernelScript(join(dir, 'tla.ts')), null);
  assert.match(await kernelImage(join(dir, 'tla.ts')), /\.mjs$/, 'it still links as a module');
});

test("a linked script is found without an await until one of its sources changes; then it links again", async () => {
  const kernel = join(dir, 'fresh.ts');
  const helper = join(dir, 'fresh-helper.ts');
  writeFileSync(kernel, `import { n } from './fresh-helper.ts';\n${MAIN.replace('{}', '{ console.log(n); }')}`);
  writeFileSync(helper, 'export const n = 1;\n');
  assert.equal(cachedKernelScript(kernel), undefined, 'not linked yet');
  const first = await kernelScript(kernel);
  assert.ok(first);
  assert.equal(cachedKernelScript(kernel), first);
  assert.equal(cachedKernelScript(relative(process.cwd(), kernel)), first, 'a relative path names the same image');
  // An edited import, with a later mtime than the link saw (a coarse clock could give it the same).
  writeFileSync(helper, 'export const n = 2;\n');
  const later = new Date(Date.now() + 5000);
  utimesSync(helper, later, later);
  assert.equal(cachedKernelScript(kernel), undefined, 'an edited source is noticed');
  const second = await kernelScript(kernel);
  assert.ok(second && second.url !== first.url, 'linked again, into another image');
  assert.match(second.code, /n = 2/);
  assert.equal(cachedKernelScript(kernel), second);
  rmSync(helper);
  assert.equal(cachedKernelScript(kernel), undefined, 'a removed source is noticed');
});

// Images are written to a directory in the shared temporary directory: another user who made it
// first, or can write in it, could plant the code guests run as this user.
test('the image directory is made ours alone; one that is a link, not a directory, another user\'s or writable by others is refused, naming it', async () => {
  const made = join(dir, 'images');
  await privateDir(made);
  assert.equal(statSync(made).mode & 0o777, 0o700);
  const readable = join(dir, 'readable');
  mkdirSync(readable, { mode: 0o755 });
  chmodSync(readable, 0o755);
  await privateDir(readable);
  assert.equal(statSync(readable).mode & 0o777, 0o700, 'one of ours others could only read is made ours alone');
  const link = join(dir, 'link');
  symlinkSync(made, link);
  const file = join(dir, 'file');
  writeFileSync(file, '');
  const writable = join(dir, 'writable');
  mkdirSync(writable);
  chmodSync(writable, 0o777);
  const refused = [[link, 'is a symbolic link'], [file, 'is not a directory'], [writable, 'is writable by other users']];
  // Only root can give a directory to another user.
  if (process.geteuid?.() === 0) {
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign, { mode: 0o700 });
    chownSync(foreign, 65534, 65534);
    refused.push([foreign, 'is owned by another user']);
  }
  for (const [path, why] of refused) {
    await assert.rejects(privateDir(path!), (e: unknown) => isXenError(e, 'EACCES') && e.message.includes(`kernel image directory ${path} ${why}`));
  }
  assert.equal(statSync(writable).mode & 0o777, 0o777, 'a refused directory is left as it is');
});
