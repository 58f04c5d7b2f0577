// recordSet (xe's vdi-, sr-, network-, host- and pool-param-set): names by their class's rules, SR names
// unique, other_config set and removed, xenode's own keys refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import { startLocalHost, type LocalHost } from '../../../src/toolstack/local.js';

let dir: string;
let local: LocalHost;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenode-params-'));
  local = await startLocalHost({ stateDir: dir });
});
after(async () => {
  await local.close();
  rmSync(dir, { recursive: true, force: true });
});

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
