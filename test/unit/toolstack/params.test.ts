// recordSet (xe's vdi-, sr-, network-, host- and pool-param-set): names by their class's rules, SR names
// unique, other_config set and removed, xenode's own keys refused; a VBD's and VIF's other_config,
// and vbdSet (vbd-param-set) on a halted VM's disk.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import type { LocalHost } from '../../../src/toolstack/local.js';
import { localHostForTests } from '../../support/local-host.js';
import { GUESTS } from '../../support/xapi.js';

let dir: string;
let local: LocalHost;
localHostForTests('params', (l, d) => ((local = l), (dir = d)));

const errno = (name: string) => (e: unknown) => isXenError(e, name as never);

test('names, descriptions and other_config of VDIs, SRs, networks and the pool', async () => {
  const ts = local.api;
  const vdi = await ts.call('vdiCreate', { sr: 'default', name: 'old-name', size: '1M' });
  assert.deepEqual(await ts.call('recordSet', { cls: 'VDI', id: 'old-name', name: 'new-name', description: 'renamed' }), { uuid: vdi.uuid });
  const [v] = await ts.call('vdiList', {});
  assert.deepEqual([v!.name_label, v!.name_description], ['new-name', 'renamed']);
  await assert.rejects(ts.call('recordSet', { cls: 'VDI', id: vdi.uuid, name: 'a,b' }), errno('EINVAL'));
  await assert.rejects(ts.call('recordSet', { cls: 'VDI', id: 'old-name', name: 'x' }), errno('ENOENT'));
  // xenode's own keys say which images it may delete: not changed from outside.
  await assert.rejects(ts.call('recordSet', { cls: 'VDI', id: vdi.uuid, otherConfigKey: 'xenode-created' }), errno('EPERM'));
  assert.equal((await ts.call('vdiList', {}))[0]!.other_config['xenode-created'], 'true');

  await ts.call('srCreate', { name: 'mem', type: 'ram' });
  await assert.rejects(ts.call('recordSet', { cls: 'SR', id: 'mem', name: 'default' }), errno('EEXIST'));
  await ts.call('recordSet', { cls: 'SR', id: 'mem', name: 'scratch', otherConfigKey: 'tier', otherConfigValue: 'fast' });
  assert.equal((await ts.call('srList', {})).find((s) => s.name_label === 'scratch')?.other_config['tier'], 'fast');

  const net = await ts.call('networkCreate', { name: 'lab', bridge: 'xenbr7' });
  await ts.call('recordSet', { cls: 'network', id: net.uuid, name: 'lab network' });
  assert.equal(await local.host.db.read((tx) => tx.network.get(tx.network.getByUuid(net.uuid)).name_label), 'lab network');

  await ts.call('recordSet', { cls: 'host', id: '', name: 'rack-3' });
  assert.equal(await local.host.db.read((tx) => tx.host.get(tx.host.getAll()[0]!).name_label), 'rack-3');
  await ts.call('recordSet', { cls: 'pool', id: '', otherConfigKey: 'xo:barrier', otherConfigValue: '1' });
  const other = () => local.host.db.read((tx) => tx.pool.get(tx.pool.getAll()[0]!).other_config);
  assert.equal((await other())['xo:barrier'], '1');
  await ts.call('recordSet', { cls: 'pool', id: '', otherConfigKey: 'xo:barrier' });
  assert.equal((await other())['xo:barrier'], undefined);
  await assert.rejects(ts.call('recordSet', { cls: 'pool', id: '', description: 'x'.repeat(2000) }), errno('EINVAL'));
});

test("a VBD's and a VIF's other_config by uuid or VM/DEVICE; vbdSet changes a halted VM's disk and keeps its VBD", async () => {
  const ts = local.api;
  await ts.call('vdiCreate', { sr: 'default', name: 'p-disk', size: '1M' });
  const file = join(dir, 'p-vm.cfg');
  writeFileSync(file, `name = "p-vm"\nkernel = "${join(GUESTS, 'ticker.ts')}"\nmemory = 32\ndisk = [ 'vdev=xvda,target=vdi:p-disk' ]\nvif = [ 'bridge=xenbr0' ]\n`);
  const vm = await ts.call('vmImport', { file });
  const vbd = await local.host.db.read((tx) => tx.VBD.get(tx.VBD.where('VM', tx.VM.getByUuid(vm.uuid))[0]!));
  await ts.call('recordSet', { cls: 'VBD', id: 'p-vm/xvda', otherConfigKey: 'owner', otherConfigValue: 'alice' });
  await ts.call('recordSet', { cls: 'VIF', id: 'p-vm/0', otherConfigKey: 'owner', otherConfigValue: 'bob' });
  await assert.rejects(ts.call('recordSet', { cls: 'VBD', id: 'p-vm/xvdq', otherConfigKey: 'k', otherConfigValue: 'v' }), errno('ENOENT'));
  await assert.rejects(ts.call('recordSet', { cls: 'VBD', id: 'xvda', otherConfigKey: 'k', otherConfigValue: 'v' }), errno('EINVAL'));
  await assert.rejects(ts.call('recordSet', { cls: 'VBD', id: vbd.uuid, name: 'x' }), errno('EINVAL'));
  await assert.rejects(ts.call('recordSet', { cls: 'VBD', id: vbd.uuid, otherConfigKey: 'format', otherConfigValue: 'qcow2' }), errno('EPERM'));
  await ts.call('vbdSet', { vm: 'p-vm', vbd: '0', mode: 'RO', userdevice: 4 });
  const after = await local.host.db.read((tx) => tx.VBD.get(tx.VBD.getByUuid(vbd.uuid)));
  assert.deepEqual([after.device, after.userdevice, after.mode, after.other_config['owner']], ['xvde', '4', 'RO', 'alice']);
  await assert.rejects(ts.call('vbdSet', { vm: 'p-vm', vbd: 'xvda', mode: 'RW' }), errno('ENOENT'));
  await assert.rejects(ts.call('vbdSet', { vm: 'p-vm', vbd: 'xvde', bootable: false }), errno('EINVAL'), 'its only disk');
});
