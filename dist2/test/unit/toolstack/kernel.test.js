// Linking a kernel image: every source is read as a named file within its limit, the image is
// written whole (temp and rename), and its source map names the sources by their real paths.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KernelError, MAX_SOURCE_BYTES, kernelImage } from '../../../src/toolstack/kernel.js';
const dir = mkdtempSync(join(tmpdir(), 'xenode-kernel-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MAIN = 'export default async function main(): Promise<void> {}\n';
test('a source past its limit is refused, naming it', async () => {
    const big = join(dir, 'big.ts');
    writeFileSync(big, `${MAIN}//${'x'.repeat(MAX_SOURCE_BYTES)}\n`);
    await assert.rejects(kernelImage(big), (e) => e instanceof KernelError && new RegExp(`kernel source ${big} is \\d+ bytes; the limit is ${MAX_SOURCE_BYTES}`).test(e.message));
});
test('concurrent builds of one image each get it whole; its source map names the real sources', async () => {
    const kernel = join(dir, 'k.ts');
    writeFileSync(kernel, `import { helper } from './helper.ts';\n${MAIN.replace('{}', '{ helper(); }')}`);
    writeFileSync(join(dir, 'helper.ts'), 'export function helper(): number { return 1; }\n');
    // Builds that start before any is cached all write the same image file.
    const urls = await Promise.all(Array.from({ length: 6 }, () => kernelImage(kernel)));
    assert.equal(new Set(urls).size, 1);
    const code = readFileSync(fileURLToPath(urls[0]), 'utf8');
    const m = /\n\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\n$/.exec(code);
    assert.ok(m, 'the image ends with its whole source map');
    const map = JSON.parse(Buffer.from(m[1], 'base64').toString());
    assert.deepEqual(map.sources.filter((s) => !s.includes('node_modules')).sort(), [pathToFileURL(join(dir, 'helper.ts')).href, pathToFileURL(kernel).href].sort());
    const mine = readdirSync(dirname(fileURLToPath(urls[0]))).filter((f) => f.includes(`.${process.pid}.`) && f.endsWith('.tmp'));
    assert.deepEqual(mine, [], 'no temporary file left behind');
});
//# sourceMappingURL=kernel.test.js.map