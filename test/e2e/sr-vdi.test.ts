// SRs and VDIs through the host daemon as a user drives them: the xenode command's sr-*/vdi-*
// subcommands with xe's output, a guest whose disk is `target=vdi:<name>`, and a VDI that a
// running guest uses refused destroy and resize until the guest is gone.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isXenError } from '../../src/errors.js';
import { FIXTURES, xenode } from '../support/cli.js';
import { startDaemonRig, type DaemonRig } from '../support/host-daemon.js';

let rig: DaemonRig;
before(async () => {
  rig = await startDaemonRig('sr-vdi');
});
after(() => rig.close());

// A bound against a hang, not a timing: the first test runs 12 xenode commands, each a Node
// process (5 s in all at load 6, over 60 s at load 22).
const T = { timeout: 240_000 };

test('the storage subcommands: xe records, uuids on stdout, errors on stderr', T, async () => {
  const run = (...args: string[]) => xenode(args, { state: rig.stateDir });
  const list = await run('sr-list');
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^uuid \( RO\)            : [0-9a-f-]{36}\n      name-label \( RW\): default\nname-description \( RW\): the host's local storage\n/);
  const created = await run('vdi-create', 'sr=default', 'name=cli-disk', 'size=4M');
  assert.equal(created.code, 0, created.stderr);
  const uuid = created.stdout.trim();
  assert.match(uuid, /^[0-9a-f-]{36}$/);
  const vdis = await run('vdi-list', 'sr=default');
  assert.match(vdis.stdout, new RegExp(`uuid \\( RO\\)\\s+: ${uuid}\\n\\s+name-label \\( RW\\): cli-disk\\n[^]*virtual-size \\( RO\\): 4194304\\n`));
  assert.equal((await run('vdi-list', '--minimal')).stdout, `${uuid}\n`);
  const resized = await run('vdi-resize', 'cli-disk', 'disk-size=8M');
  assert.equal(resized.code, 0, resized.stderr);
  assert.equal(JSON.parse((await run('vdi-list', '--json')).stdout)[0].virtual_size, 8 * 2 ** 20);
  const bad = await run('vdi-create', 'name=x', 'size=1M', 'format=qcow9');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /disk format qcow9 is not supported yet/);
  const unknown = await run('sr-create', 'colour=red');
  assert.match(unknown.stderr, /unknown parameter 'colour'/);
  assert.equal((await run('vdi-destroy', `uuid=${uuid}`)).code, 0);
  assert.equal((await run('vdi-list', '--minimal')).stdout, '\n');
});

test('a guest on target=vdi:NAME; the VDI cannot be destroyed or resized while the guest runs', T, async () => {
  const { ts } = rig;
  await ts.call('srCreate', { name: 'mem', type: 'ram' });
  const vdi = await ts.call('vdiCreate', { sr: 'default', name: 'root', size: '1M' });
  const ram = await ts.call('vdiCreate', { sr: 'mem', name: 'scratch', size: '1M' });
  const cfg = rig.cfgFile('g', `name = "g"\nkernel = "${join(FIXTURES, 'diskio.ts')}"\nmemory = 32\n` +
    `disk = [ 'vdev=xvda, access=rw, target=vdi:root', 'vdev=xvdb, access=rw, target=vdi:${ram.uuid}' ]\n`);
  const g = await ts.call('create', { file: cfg });
  await rig.daemon.local.host.xs.wait(`/local/domain/${g.domid}/data/diskio`, (v) => v === 'done', { timeout: 15_000 });
  // The guest's writes reached the VDI's image.
  const file = join(rig.stateDir, 'images', vdi.location);
  assert.deepEqual(readFileSync(file).subarray(0, 3 * 4096), Buffer.alloc(3 * 4096, 7));
  const refused = [
    [() => ts.call('vdiDestroy', { vdi: 'root' }), 'destroyed'], [() => ts.call('vdiResize', { vdi: vdi.uuid, size: '2M' }), 'resized'],
    [() => ts.call('vdiDestroy', { vdi: 'scratch' }), 'destroyed'],
  ] as const;
  for (const [call, what] of refused) {
    await assert.rejects(call(), (e: Error) => isXenError(e, 'EBUSY') && new RegExp(`in use by domain ${g.domid} \\('g'\\) as xvd[ab] and cannot be ${what}`).test(e.message));
  }
  assert.ok(existsSync(file));
  await ts.call('destroy', { domain: g.domid });
  await ts.call('vdiResize', { vdi: 'root', size: '2M' });
  await ts.call('vdiDestroy', { vdi: 'root' });
  await ts.call('vdiDestroy', { vdi: 'scratch' });
  assert.equal(existsSync(file), false);
  // A missing VDI name fails the create clearly.
  const bad = rig.cfgFile('h', `name = "h"\nkernel = "${join(FIXTURES, 'diskio.ts')}"\nmemory = 32\ndisk = [ 'vdev=xvda, target=vdi:nothing' ]\n`);
  await assert.rejects(ts.call('create', { file: bad }), /no VDI named 'nothing'/);
});
