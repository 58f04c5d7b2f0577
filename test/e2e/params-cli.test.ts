// The *-param-set subcommands as a user types them (xe's vdi-, sr-, network-, host-, pool-, vm-,
// vbd- and vif-param-set): each change reaches the host database through the command layer,
// --other-config key= removes a key, and bad arguments fail with a message and change nothing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { HostDb } from '../../src/toolstack/db/hostdb.js';
import { FIXTURES, xenode } from '../support/cli.js';
import { startDaemonRig, type DaemonRig } from '../support/host-daemon.js';

let rig: DaemonRig;
let db: HostDb;
before(async () => {
  rig = await startDaemonRig('params-cli');
  db = rig.daemon.local.host.db;
});
after(() => rig.close());

// A bound against a hang, not a timing: each test runs a dozen or more xenode commands, each a
// Node process (7 s at load 6; the same kind of test took 15 times longer at load 22).
const T = { timeout: 240_000 };
const run = (...args: string[]) => xenode(args, { state: rig.stateDir });
async function ok(...args: string[]): Promise<string> {
  const r = await run(...args);
  assert.equal(r.code, 0, `xenode ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
async function fails(pattern: RegExp, ...args: string[]): Promise<void> {
  const r = await run(...args);
  assert.notEqual(r.code, 0, `xenode ${args.join(' ')} succeeded: ${r.stdout}`);
  assert.match(r.stderr, pattern);
}

test('vdi-, sr-, host- and pool-param-set: names, descriptions, other-config set and removed', T, async () => {
  const uuid = (await ok('vdi-create', 'sr=default', 'name=p-old', 'size=1M')).trim();
  assert.equal(await ok('vdi-param-set', 'p-old', '--name', 'p-new', '--description', 'renamed by the CLI', '--other-config', 'tier=gold'), `${uuid}\n`);
  const vdi = await db.read((tx) => tx.VDI.get(tx.VDI.getByUuid(uuid)));
  assert.deepEqual([vdi.name_label, vdi.name_description, vdi.other_config['tier']], ['p-new', 'renamed by the CLI', 'gold']);
  await ok('vdi-param-set', uuid, '--other-config', 'tier=');
  assert.equal((await db.read((tx) => tx.VDI.get(tx.VDI.getByUuid(uuid)))).other_config['tier'], undefined);
  await fails(/--other-config takes key=value/, 'vdi-param-set', uuid, '--other-config', 'novalue');
  await fails(/--other-config takes key=value/, 'vdi-param-set', uuid, '--other-config', '=x');
  await fails(/ENOENT: no VDI named 'p-old'/, 'vdi-param-set', 'p-old', '--name', 'again');
  assert.equal((await db.read((tx) => tx.VDI.get(tx.VDI.getByUuid(uuid)))).name_label, 'p-new', 'a failed set changes nothing');

  await ok('sr-create', 'name=scratch', 'type=ram');
  await ok('sr-param-set', 'scratch', '--name', 'fast', '--other-config', 'owner=lab');
  const srs = await db.read((tx) => tx.SR.getAll().map((r) => tx.SR.get(r)));
  assert.equal(srs.find((s) => s.name_label === 'fast')?.other_config['owner'], 'lab');
  await fails(/an SR named 'default' exists already/, 'sr-param-set', 'fast', '--name', 'default');

  await ok('host-param-set', '--name', 'rack-7');
  assert.equal(await db.read((tx) => tx.host.get(tx.host.getAll()[0]!).name_label), 'rack-7');
  await ok('pool-param-set', '--other-config', 'xo:flag=1');
  const poolOther = () => db.read((tx) => tx.pool.get(tx.pool.getAll()[0]!).other_config);
  assert.equal((await poolOther())['xo:flag'], '1');
  await ok('pool-param-set', '--other-config', 'xo:flag=');
  assert.equal((await poolOther())['xo:flag'], undefined);
});

test("vm-, vbd-, vif- and network-param-set on a halted VM's records", T, async () => {
  await ok('vdi-create', 'sr=default', 'name=pv-disk', 'size=1M');
  const cfg = rig.cfgFile('pv', `name = "pv"\nkernel = "${join(FIXTURES, 'ticker.ts')}"\nmemory = 32\n` +
    `disk = [ 'vdev=xvda,target=vdi:pv-disk' ]\nvif = [ 'bridge=xenbr5' ]\n`);
  await ok('vm-import', cfg);

  const vmOut = await ok('vm-param-set', 'pv', '--description', 'from the CLI', '--memory', '48', '--other-config', 'team=net');
  assert.match(vmOut, /pv/);
  const vm = await db.read((tx) => tx.VM.get(tx.VM.getAll().find((r) => tx.VM.get(r).name_label === 'pv')!));
  assert.deepEqual([vm.name_description, vm.memory_static_max, vm.other_config['team']], ['from the CLI', 48 * 2 ** 20, 'net']);

  await ok('vbd-param-set', 'pv', 'xvda', '--mode', 'RO', '--other-config', 'owner=alice');
  const vbd = () => db.read((tx) => tx.VBD.get(tx.VBD.getAll()[0]!));
  assert.deepEqual([(await vbd()).mode, (await vbd()).other_config['owner']], ['RO', 'alice']);
  await fails(/--bootable takes true or false/, 'vbd-param-set', 'pv', 'xvda', '--bootable', 'yes');
  await fails(/--userdevice takes a number/, 'vbd-param-set', 'pv', 'xvda', '--userdevice', '-1');
  await fails(/must be RO or RW/, 'vbd-param-set', 'pv', 'xvda', '--mode', 'rw');
  assert.equal((await vbd()).mode, 'RO', 'a refused set changes nothing');

  await ok('vif-param-set', 'pv', '0', '--locking-mode', 'locked', '--ipv4-allowed', '10.0.0.5');
  const vif = () => db.read((tx) => tx.VIF.get(tx.VIF.getAll()[0]!));
  assert.deepEqual([(await vif()).locking_mode, (await vif()).ipv4_allowed], ['locked', ['10.0.0.5']]);
  await fails(/must be network_default, locked, unlocked or disabled/, 'vif-param-set', 'pv', '0', '--locking-mode', 'open');
  assert.equal((await vif()).locking_mode, 'locked');

  const network = await db.read((tx) => tx.network.get(tx.VIF.get(tx.VIF.getAll()[0]!).network));
  await ok('network-param-set', network.uuid, '--name', 'lab', '--default-locking-mode', 'disabled');
  const after = await db.read((tx) => tx.network.get(tx.network.getByUuid(network.uuid)));
  assert.deepEqual([after.name_label, after.default_locking_mode], ['lab', 'disabled']);
  await fails(/--default-locking-mode takes unlocked or disabled/, 'network-param-set', network.uuid, '--default-locking-mode', 'locked');
});
