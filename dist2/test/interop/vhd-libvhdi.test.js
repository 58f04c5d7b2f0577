// Differencing VHD chains against libvhdi (Debian libvhdi-utils): vhdiinfo reads each image's
// type, uuid, parent uuid and parent name; vhdimount (FUSE, as root) reads the chain's data
// through the parent locators xenode wrote, and it equals what xenode reads. qemu-img ignores
// VHD parents, so it is no judge of chains.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { VhdDisk } from '../../src/storage/vhd/chain.js';
import { createDifferencing, createVhd } from '../../src/storage/vhd/create.js';
import { uuidString } from '../../src/storage/vhd/format.js';
import { VhdImage } from '../../src/storage/vhd/image.js';
import { pattern, scratch } from '../support/vhd.js';
const run = promisify(execFile);
const skip = existsSync('/usr/bin/vhdiinfo') ? false : 'libvhdi-utils not installed (apt-get install libvhdi-utils): no vhdiinfo';
if (skip)
    console.log(`# skipping: ${skip}`);
const mountSkip = skip || (!existsSync('/usr/bin/vhdimount') ? 'no vhdimount (libvhdi-utils)'
    : process.getuid?.() !== 0 || !existsSync('/dev/fuse') ? 'vhdimount needs root and /dev/fuse' : false);
if (mountSkip && !skip)
    console.log(`# skipping the vhdimount test: ${mountSkip}`);
const MiB = 2 ** 20;
/** base <- mid <- leaf, each level writing its own sectors (some over its parent's). */
async function chain(dir) {
    const paths = ['base', 'mid', 'leaf'].map((n) => join(dir, `${n}.vhd`));
    await createVhd(paths[0], { type: 'dynamic', size: 16 * MiB });
    for (let i = 0; i < 3; i++) {
        if (i > 0)
            await createDifferencing(paths[i], paths[i - 1]);
        const d = await VhdDisk.open(paths[i], { readOnly: false });
        await d.write(i * 16, [pattern(10 + i, 8192)]);
        await d.write(4096 * (i + 1) + 5, [pattern(20 + i, 4096)]);
        await d.close();
    }
    return paths;
}
test('vhdiinfo reads the type, uuids and parent name of each image of a chain', { skip }, async (t) => {
    const dir = await scratch(t);
    const paths = await chain(dir);
    for (let i = 0; i < 3; i++) {
        const { stdout } = await run('/usr/bin/vhdiinfo', [paths[i]], { timeout: 30_000 });
        const field = (name) => new RegExp(`${name}\\s*:\\s*(.*)`).exec(stdout)?.[1]?.trim();
        const img = await VhdImage.open(paths[i], { readOnly: true });
        assert.equal(field('Disk type'), i === 0 ? 'Dynamic' : 'Differential');
        assert.equal(field('Identifier'), uuidString(img.uuid));
        assert.match(field('Media size') ?? '', /\(16777216 bytes\)/);
        if (i > 0) {
            const parent = await VhdImage.open(paths[i - 1], { readOnly: true });
            assert.equal(field('Parent identifier'), uuidString(parent.uuid));
            assert.equal(field('Parent filename'), `${['base', 'mid'][i - 1]}.vhd`);
            await parent.close();
        }
        await img.close();
    }
});
test('vhdimount reads the chain through its parent locators as xenode does', { skip: mountSkip }, async (t) => {
    const dir = await scratch(t);
    const paths = await chain(dir);
    const mnt = join(dir, 'mnt');
    await mkdir(mnt);
    await run('/usr/bin/vhdimount', [paths[2], mnt], { timeout: 30_000 });
    try {
        await compareMounted(mnt, paths[2]);
    }
    finally {
        await run('/bin/umount', [mnt]).catch(() => { });
    }
});
async function compareMounted(mnt, leaf) {
    // vhdimount serves one file a layer, vhdi1 the base; the last one is the leaf's view.
    let names = [];
    for (let i = 0; i < 50 && names.length < 3; i++) {
        names = (await readdir(mnt)).filter((n) => n.startsWith('vhdi')).sort();
        if (names.length < 3)
            await delay(100);
    }
    assert.equal(names.length, 3, `vhdimount shows three layers: ${names.join(', ')}`);
    const d = await VhdDisk.open(leaf, { readOnly: true });
    const ours = new Uint8Array(d.sectors * 512);
    await d.read(0, [ours]);
    await d.close();
    const theirs = new Uint8Array(await readFile(join(mnt, names[2])));
    assert.equal(theirs.length, ours.length);
    assert.ok(Buffer.compare(theirs, ours) === 0, 'libvhdi reads the chain as xenode does');
    assert.deepEqual(ours.subarray(16 * 512, 16 * 512 + 8192), pattern(11, 8192));
}
//# sourceMappingURL=vhd-libvhdi.test.js.map