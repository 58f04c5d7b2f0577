// VHD interchange with Debian's qemu-utils: qemu-img info, convert, compare and map read what
// xenode writes; xenode reads and writes the images qemu-img create -f vpc makes (dynamic with
// qemu's CHS-rounded size or force_size's exact one, and subformat=fixed) and qemu-io fills.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { VhdDisk } from '../../src/storage/vhd/chain.js';
import { createVhd } from '../../src/storage/vhd/create.js';
import { qemuRoundedSize } from '../../src/storage/vhd/format.js';
import { pattern, scratch } from '../support/vhd.js';
const run = promisify(execFile);
const missing = ['/usr/bin/qemu-img', '/usr/bin/qemu-io'].filter((p) => !existsSync(p));
const skip = missing.length ? `qemu-utils not installed (apt-get install qemu-utils): missing ${missing.join(', ')}` : false;
if (skip)
    console.log(`# skipping: ${skip}`);
const MiB = 2 ** 20;
async function qemuImg(...args) {
    return (await run('/usr/bin/qemu-img', args, { timeout: 60_000 })).stdout;
}
async function wholeDisk(path) {
    const d = await VhdDisk.open(path, { readOnly: true });
    try {
        const b = new Uint8Array(d.sectors * 512);
        await d.read(0, [b]);
        return b;
    }
    finally {
        await d.close();
    }
}
test('qemu-img reads what xenode writes: info, convert, compare, map (dynamic and fixed)', { skip }, async (t) => {
    const dir = await scratch(t);
    for (const type of ['dynamic', 'fixed']) {
        const p = join(dir, `${type}.vhd`);
        await createVhd(p, { type, size: 20 * MiB });
        const d = await VhdDisk.open(p, { readOnly: false });
        await d.write(0, [pattern(1, 64 * 1024)]);
        await d.write(5 * 2048 + 3, [pattern(2, 4096)]);
        await d.write(40959 - 7, [pattern(3, 4096)]);
        await d.close();
        const info = JSON.parse(await qemuImg('info', '--output=json', '-f', 'vpc', p));
        assert.equal(info['virtual-size'], 20 * MiB, `${type}: qemu sees the exact size`);
        const raw = join(dir, `${type}.raw`);
        await qemuImg('convert', '-f', 'vpc', '-O', 'raw', p, raw);
        assert.deepEqual(new Uint8Array(await readFile(raw)), await wholeDisk(p), `${type}: qemu-img convert reads what xenode reads`);
        assert.match(await qemuImg('compare', '-f', 'vpc', '-F', 'raw', p, raw), /Images are identical/);
        if (type === 'dynamic') {
            const map = JSON.parse(await qemuImg('map', '--output=json', '-f', 'vpc', p));
            const data = map.filter((m) => m.data).map((m) => [m.start, m.length]);
            // Blocks 0, 2 and 9 (of 2 MiB) are allocated, nothing else.
            assert.deepEqual(data, [[0, 2 * MiB], [4 * MiB, 2 * MiB], [18 * MiB, 2 * MiB]]);
        }
    }
});
test('xenode reads and writes images qemu-img creates: dynamic (rounded and force_size) and fixed', { skip }, async (t) => {
    const dir = await scratch(t);
    const cases = [
        { name: 'rounded', opts: [], size: qemuRoundedSize(10 * MiB) },
        { name: 'force', opts: ['-o', 'force_size=on'], size: 10 * MiB },
        { name: 'fixed', opts: ['-o', 'subformat=fixed'], size: qemuRoundedSize(10 * MiB) },
    ];
    for (const c of cases) {
        const p = join(dir, `${c.name}.vhd`);
        await qemuImg('create', '-f', 'vpc', ...c.opts, p, String(10 * MiB));
        await run('/usr/bin/qemu-io', ['-f', 'vpc', '-c', 'write -P 0x5a 0 64k', '-c', 'write -P 0xa5 3M 8k', p], { timeout: 60_000 });
        const info = JSON.parse(await qemuImg('info', '--output=json', '-f', 'vpc', p));
        assert.equal(info['virtual-size'], c.size, `${c.name}: qemu's size`);
        const d = await VhdDisk.open(p, { readOnly: false });
        assert.equal(d.sectors * 512, c.size, `${c.name}: xenode agrees on the size`);
        const b = new Uint8Array(8192);
        await d.read(3 * 2048, [b]);
        assert.ok(b.every((x) => x === 0xa5), `${c.name}: qemu's data`);
        // Into a block qemu allocated, and a new one.
        await d.write(8, [pattern(4, 4096)]);
        await d.write(7 * 2048, [pattern(5, 4096)]);
        await d.close();
        const expect = new Uint8Array(c.size);
        expect.fill(0x5a, 0, 65536);
        expect.fill(0xa5, 3 * MiB, 3 * MiB + 8192);
        expect.set(pattern(4, 4096), 4096);
        expect.set(pattern(5, 4096), 7 * MiB);
        const raw = join(dir, `${c.name}.raw`);
        await writeFile(raw, expect);
        assert.match(await qemuImg('compare', '-f', 'vpc', '-F', 'raw', p, raw), /Images are identical/, `${c.name}: qemu reads xenode's writes`);
        assert.deepEqual(await wholeDisk(p), expect);
    }
});
//# sourceMappingURL=vhd-qemu.test.js.map