// What a client names (a configuration file, a kernel, a disk target) cannot block dom0 or be
// read without limit: /dev/zero, a FIFO, a directory, a socket and a too-big file each get a
// clear error at once, and the host keeps serving guests' disks meanwhile. Relative targets
// resolve as docs/BLOCK.md says, and never escape the images directory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isXenError } from '../../src/errors.js';
import { MAX_CONFIG_BYTES } from '../../src/toolstack/domconfig.js';
import { FIXTURES } from '../support/cli.js';
import { startDaemonRig, type DaemonRig } from '../support/host-daemon.js';

let rig: DaemonRig;
let fifo: string;
let socketPath: string;
let server: Server;
before(async () => {
  rig = await startDaemonRig('targets');
  fifo = join(rig.dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  socketPath = join(rig.dir, 'sock');
  server = createServer();
  await new Promise<void>((r) => server.listen(socketPath, r));
});
after(async () => {
  server.close();
  await rig.close();
});

// Bounds against a hang (a FIFO that blocks libuv's threads never lets go), not timings: at
// load 18 two of these tests took over 30 s.
const T = { timeout: 120_000 };
let seq = 0;

function guestCfg(extra: string, kernel = join(FIXTURES, 'diskio.ts')): string {
  const name = `t${seq++}`;
  return rig.cfgFile(name, `name = "${name}"\nkernel = "${kernel}"\nmemory = 32\n${extra}`);
}

/** Fails with `errno` (any error when undefined) and `message`; the host answers at once afterwards. */
async function refused(p: Promise<unknown>, errno: string | undefined, message: RegExp): Promise<void> {
  const t0 = performance.now();
  await assert.rejects(p, (e: Error) => {
    if (errno !== undefined) {
      assert.ok(isXenError(e), `${e.name}: ${e.message}`);
      assert.equal(e.errno, errno, e.message);
    }
    assert.match(e.message, message);
    return true;
  });
  assert.deepEqual((await rig.ts.call('list', {})).filter((d) => d.domid !== 0).map((d) => d.name), []);
  assert.ok(performance.now() - t0 < 60_000);
}

test('a configuration file that is not a regular file, or too big, is refused at once', T, async () => {
  await refused(rig.ts.call('create', { file: '/dev/zero' }), 'EINVAL', /configuration file \/dev\/zero is a character device; it must be a regular file/);
  await refused(rig.ts.call('create', { file: fifo }), 'EINVAL', /configuration file \S+fifo is a FIFO \(named pipe\)/);
  await refused(rig.ts.call('create', { file: rig.dir }), 'EISDIR', /configuration file \S+ is a directory/);
  await refused(rig.ts.call('create', { file: socketPath }), 'EINVAL', /configuration file \S+sock is a socket/);
  const big = join(rig.dir, 'big.cfg');
  writeFileSync(big, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
  await refused(rig.ts.call('create', { file: big }), 'E2BIG', /configuration file \S+big\.cfg is \d+ bytes; the limit is 1048576/);
});

test('a kernel that is not a regular file, or imports one, is refused at once', T, async () => {
  await refused(rig.ts.call('create', { file: guestCfg('', '/dev/zero') }), undefined, /kernel \/dev\/zero: .*is a character device/);
  await refused(rig.ts.call('create', { file: guestCfg('', fifo) }), undefined, /is a FIFO/);
  const importer = join(rig.dir, 'importer.ts');
  writeFileSync(importer, `import z from '${fifo}';\nexport default async function main() { return z; }\n`);
  await refused(rig.ts.call('create', { file: guestCfg('', importer) }), undefined, /kernel source \S+fifo is a FIFO/);
});

test('disk targets: a regular file or a block device only; the others fail at once and the host serves disks meanwhile', T, async () => {
  const image = join(rig.dir, 'good.img');
  writeFileSync(image, Buffer.alloc(1 << 20));
  // Read-only FIFOs blocked one libuv thread each until opened; four stopped every disk.
  const fifos = Promise.allSettled(Array.from({ length: 6 }, () => rig.ts.call('create', { file: guestCfg(`disk = [ 'vdev=xvda, access=ro, target=${fifo}' ]\n`) })));
  const good = await rig.ts.call('create', { file: guestCfg(`disk = [ 'vdev=xvda, target=${image}' ]\n`) });
  await rig.daemon.local.host.xs.wait(`/local/domain/${good.domid}/data/diskio`, (v) => v === 'done', { timeout: 60_000 });
  for (const r of await fifos) {
    assert.equal(r.status, 'rejected');
    assert.match((r as PromiseRejectedResult).reason.message, /xvda: .*disk image \S+fifo is a FIFO \(named pipe\); it must be a regular file or a block device/);
  }
  await rig.ts.call('destroy', { domain: good.domid });
  await refused(rig.ts.call('create', { file: guestCfg("disk = [ 'vdev=xvda, target=/dev/zero' ]\n") }), 'ENODEV', /disk image \/dev\/zero is a character device/);
  await refused(rig.ts.call('create', { file: guestCfg(`disk = [ 'vdev=xvda, target=${rig.dir}' ]\n`) }), 'ENODEV', /disk image \S+ is a directory/);
  await refused(rig.ts.call('create', { file: guestCfg(`disk = [ 'vdev=xvda, target=${socketPath}' ]\n`) }), 'ENODEV', /disk image \S+sock is a socket/);
});

test('relative targets: a bare name is an image of the images directory, a path is anchored at the config file', T, async () => {
  const images = join(rig.stateDir, 'images');
  // A bare name: created in the images directory.
  const a = await rig.ts.call('create', { file: guestCfg("disk = [ 'vdev=xvda, target=a.img' ]\n") });
  assert.ok(existsSync(join(images, 'a.img')));
  await rig.ts.call('destroy', { domain: a.domid });
  // A path with '/': against the config file's directory, never created; ../ does not reach the images directory.
  mkdirSync(join(rig.dir, 'sub'));
  writeFileSync(join(rig.dir, 'sub', 'here.img'), Buffer.alloc(1 << 20));
  const subCfg = rig.cfgFile('sub/rel', `name = "rel"\nkernel = "${join(FIXTURES, 'diskio.ts')}"\ndisk = [ 'vdev=xvda, target=./here.img' ]\n`);
  const rel = await rig.ts.call('create', { file: subCfg });
  const [dev] = await rig.ts.call('blockList', { domain: rel.domid });
  assert.equal(await rig.daemon.local.host.xs.read(`${dev!.backendPath}/params`), `raw:${join(rig.dir, 'sub', 'here.img')}`);
  await rig.ts.call('destroy', { domain: rel.domid });
  await refused(rig.ts.call('create', { file: guestCfg("disk = [ 'vdev=xvda, target=../escape.img' ]\n") }), 'ENODEV', /disk image \S+escape\.img does not exist/);
  assert.ok(!existsSync(join(rig.dir, '..', 'escape.img')) && !existsSync(join(rig.stateDir, 'escape.img')));
  // A link in the images directory that leads out of it.
  symlinkSync(join(rig.dir, 'good.img'), join(images, 'out.img'));
  await refused(rig.ts.call('create', { file: guestCfg("disk = [ 'vdev=xvda, target=out.img' ]\n") }), 'EACCES', /outside the images directory/);
  await refused(rig.ts.call('create', { file: guestCfg("disk = [ 'vdev=xvda, target=..' ]\n") }), 'EINVAL', /not an image name/);
  // block-attach has no file to anchor a relative path.
  const idle = await rig.ts.call('create', { file: guestCfg('', join(FIXTURES, 'ticker.ts')) });
  await assert.rejects(rig.ts.call('blockAttach', { domain: idle.domid, spec: 'vdev=xvdb, target=sub/here.img' }), /give an absolute path/);
  await rig.ts.call('destroy', { domain: idle.domid });
});
