// vdi-import and vdi-export through the host daemon, judged by qemu-img: images qemu-img made
// (raw, vpc dynamic and fixed, qcow2 with a backing file) come in as VDIs of their format with
// no reference outside the SR, and every VDI goes out as each format with the same contents
// (`qemu-img compare`). Bad input is refused without leaving a VDI or a file behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { isXenError } from '../../src/errors.js';
import { FIXTURES, xenode } from '../support/cli.js';
import { startDaemonRig } from '../support/host-daemon.js';
const QEMU_IMG = '/usr/bin/qemu-img';
const skip = existsSync(QEMU_IMG) ? false : 'qemu-utils not installed (apt-get install qemu-utils): no qemu-img';
if (skip)
    console.log(`# skipping: ${skip}`);
const qemuImg = async (...args) => (await promisify(execFile)(QEMU_IMG, args, { timeout: 60_000 })).stdout;
const MIB = 2 ** 20;
let rig;
before(async () => {
    rig = await startDaemonRig('vdi-io');
});
after(() => rig.close());
const T = { timeout: 120_000 };
const images = () => readdirSync(join(rig.stateDir, 'images'));
/** A 4 MiB raw image: data in a few places (one run across a chunk edge), zeros elsewhere. */
function rawSource(path) {
    const b = Buffer.alloc(4 * MIB);
    for (const [at, len] of [[0, 4096], [MIB - 512, 1024], [3 * MIB + 7 * 512, 512]]) {
        for (let i = 0; i < len; i++)
            b[at + i] = (at + i * 7) % 251 + 1;
    }
    writeFileSync(path, b);
}
test('import what qemu-img made, export to every format: qemu-img compare finds the same contents', { ...T, skip }, async () => {
    const src = join(rig.dir, 'src.raw');
    rawSource(src);
    const made = [[src, 'raw', 'raw']];
    for (const sub of ['dynamic', 'fixed']) {
        const f = join(rig.dir, `src-${sub}.vhd`);
        await qemuImg('convert', '-f', 'raw', '-O', 'vpc', '-o', `subformat=${sub}`, src, f);
        made.push([f, 'vhd', 'vpc']);
    }
    const plain = join(rig.dir, 'src.qcow2');
    await qemuImg('convert', '-f', 'raw', '-O', 'qcow2', src, plain);
    const overlay = join(rig.dir, 'overlay.qcow2');
    await qemuImg('create', '-f', 'qcow2', '-b', src, '-F', 'raw', overlay);
    made.push([plain, 'qcow2', 'qcow2'], [overlay, 'qcow2', 'qcow2']);
    const out = join(rig.dir, 'out');
    mkdirSync(out);
    for (const [i, [file, format, qf]] of made.entries()) {
        const r = await xenode(['vdi-import', 'sr=default', `file=${file}`, `name=imp${i}`, '--json'], { state: rig.stateDir });
        assert.equal(r.code, 0, r.stderr);
        const vdi = JSON.parse(r.stdout);
        assert.equal(vdi.sm_config.format, format, file);
        const image = join(rig.stateDir, 'images', vdi.location);
        assert.match(vdi.location, new RegExp(`^${vdi.uuid}\\.${format}$`));
        const info = JSON.parse(await qemuImg('info', '--output=json', '-f', qf, image));
        assert.equal(info['backing-filename'], undefined, `${file}: the imported image references no file outside its SR`);
        await qemuImg('compare', '-f', 'raw', '-F', qf, src, image);
        for (const [to, qto] of [['raw', 'raw'], ['vhd', 'vpc'], ['qcow2', 'qcow2']]) {
            const dest = join(out, `imp${i}.${to}`);
            if (i === 0 && to === 'vhd') {
                const e = await xenode(['vdi-export', `imp${i}`, `file=${dest}`, `format=${to}`], { state: rig.stateDir });
                assert.equal(e.code, 0, e.stderr);
            }
            else {
                await rig.ts.call('vdiExport', { vdi: `imp${i}`, file: dest, format: to });
            }
            await qemuImg('compare', '-f', 'raw', '-F', qto, src, dest);
        }
    }
    // Sparse: the copy of a 4 MiB image with 6 KiB of data takes far less than 4 MiB.
    const [first] = (await rig.ts.call('vdiList', {})).filter((v) => v.name_label === 'imp0');
    assert.ok(first.physical_utilisation < MIB, `raw import takes ${first.physical_utilisation} bytes`);
    const check = await qemuImg('check', join(out, 'imp0.qcow2'));
    assert.match(check, /No errors were found/);
});
test('bad input is refused, leaving no VDI and no file behind', T, async () => {
    const { ts } = rig;
    const before = (await ts.call('vdiList', {})).length;
    const files = images();
    const corrupt = join(rig.dir, 'corrupt.qcow2');
    writeFileSync(corrupt, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(508, 0xff)]));
    const raw = join(rig.dir, 'plain.raw');
    writeFileSync(raw, Buffer.alloc(MIB, 1));
    await assert.rejects(ts.call('vdiImport', { sr: 'default', file: rig.dir }), (e) => isXenError(e, 'EINVAL') && /is not a regular file/.test(e.message));
    await assert.rejects(ts.call('vdiImport', { sr: 'default', file: corrupt }), (e) => isXenError(e) && /corrupt\.qcow2/.test(e.message));
    await assert.rejects(ts.call('vdiImport', { sr: 'default', file: raw, format: 'vhd' }), /is a raw image, not vhd/);
    await assert.rejects(ts.call('vdiImport', { sr: 'default', file: 'plain.raw' }), /give an absolute path/);
    await assert.rejects(ts.call('vdiImport', { sr: 'default', file: raw, name: 'a/b' }), /has a ',' or '\/'/);
    await assert.rejects(ts.call('vdiImport', { sr: 'default', file: join(rig.dir, 'absent') }), (e) => isXenError(e, 'ENOENT'));
    assert.equal((await ts.call('vdiList', {})).length, before);
    assert.deepEqual(images(), files);
    const v = await ts.call('vdiImport', { sr: 'default', file: raw });
    assert.equal(v.name_label, 'plain.raw');
    await assert.rejects(ts.call('vdiExport', { vdi: v.uuid, file: raw, format: 'raw' }), (e) => isXenError(e, 'EEXIST'));
    await assert.rejects(ts.call('vdiExport', { vdi: v.uuid, file: 'out.raw', format: 'raw' }), /give an absolute path/);
    await assert.rejects(ts.call('vdiExport', { vdi: v.uuid, file: join(rig.dir, 'x.img'), format: 'vmdk' }), /disk format vmdk is not supported/);
    await assert.rejects(ts.call('vdiExport', { vdi: v.uuid, file: join(rig.dir, 'no-dir', 'x.raw'), format: 'raw' }), /no-dir/);
    assert.equal(existsSync(join(rig.dir, 'x.img')), false);
    // In use by a running guest: refused, as destroy and resize are.
    const cfg = rig.cfgFile('g', `name = "g"\nkernel = "${join(FIXTURES, 'diskio.ts')}"\nmemory = 32\ndisk = [ 'vdev=xvda, access=rw, target=vdi:${v.uuid}' ]\n`);
    const g = await ts.call('create', { file: cfg });
    const busy = join(rig.dir, 'busy.raw');
    await assert.rejects(ts.call('vdiExport', { vdi: v.uuid, file: busy, format: 'raw' }), (e) => isXenError(e, 'EBUSY') && /cannot be exported/.test(e.message));
    assert.equal(existsSync(busy), false);
    await ts.call('destroy', { domain: g.domid });
    await ts.call('vdiDestroy', { vdi: v.uuid });
});
//# sourceMappingURL=vdi-io.test.js.map