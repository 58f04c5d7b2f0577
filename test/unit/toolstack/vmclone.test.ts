// The command layer's vmSnapshot, vmClone, vmCopy and vmRevert (vmclone.ts) on an in-process
// host: what each makes (VDIs named after their source and the new VM, MACs kept by a snapshot
// and new for a clone), what each refuses (a plain file disk, a running VM for clone and copy,
// a snapshot of a snapshot, starting a snapshot, reverting to a VM that is not a snapshot), that
// a failure part way leaves no VDI behind, and that a vm-copy task cancelled ends cancelled with
// nothing made.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import type { LocalHost } from '../../../src/toolstack/local.js';
import { cancelledTask, localHostForTests } from '../../support/local-host.js';
import { GUESTS } from '../../support/xapi.js';

let dir: string;
let local: LocalHost;
localHostForTests('vmclone', (l, d) => ((local = l), (dir = d)));

const errno = (name: string, re?: RegExp) => (e: unknown) => {
  assert.ok(isXenError(e, name as never), String(e));
  if (re) assert.match((e as Error).message, re);
  return true;
};

/** A persistent VM of `disks` (xl disk specs) and one vif; its uuid. */
async function vm(name: string, disks: string[]): Promise<string> {
  const file = join(dir, `${name}.cfg`);
  writeFileSync(file, `name = "${name}"\nkernel = "${join(GUESTS, 'ticker.ts')}"\nmemory = 32\n` +
    `disk = [ ${disks.map((d) => `'${d}'`).join(', ')} ]\nvif = [ 'bridge=xenbr0' ]\n`);
  return (await local.api.call('vmImport', { file })).uuid;
}

const vdiNames = async () => (await local.api.call('vdiList', {})).map((v) => v.name_label).sort();
const macs = (uuid: string) => local.host.db.read((tx) => tx.VIF.where('VM', tx.VM.getByUuid(uuid)).map((v) => tx.VIF.get(v).MAC));

test('snapshot keeps the MACs and makes read-only VDIs; clone and copy make new MACs and writable VDIs; a snapshot does not start', async () => {
  const ts = local.api;
  await ts.call('vdiCreate', { sr: 'default', name: 'web-root', size: '2M', format: 'qcow2' });
  const web = await vm('web', ['vdev=xvda, access=rw, target=vdi:web-root', 'vdev=xvdb, access=ro, target=vdi:web-root']);
  const snap = await ts.call('vmSnapshot', { vm: 'web', name: 'web-before' });
  assert.equal(snap.isSnapshot, true);
  assert.equal(snap.powerState, 'Halted');
  assert.deepEqual(await macs(snap.uuid), await macs(web));
  const snapConfig = await local.host.db.read((tx) => tx.VM.get(tx.VM.getByUuid(snap.uuid)).xenode_config as { disks: { target?: string; access: string }[] });
  const [snapDisk] = (await ts.call('vdiList', {})).filter((v) => v.name_label === 'web-root (web-before)');
  assert.ok(snapDisk, (await vdiNames()).join(','));
  assert.equal(snapDisk.read_only, true);
  // The writable disk is the snapshot's; the read-only one is shared as it is.
  assert.deepEqual(snapConfig.disks.map((d) => d.target), [`vdi:${snapDisk.uuid}`, 'vdi:web-root']);

  await assert.rejects(ts.call('vmStart', { vm: snap.uuid }), errno('EPERM', /is a snapshot, which does not start/));
  await assert.rejects(ts.call('vmSnapshot', { vm: snap.uuid, name: 'x' }), errno('EPERM', /not snapshotted again/));
  await assert.rejects(ts.call('vmRevert', { snapshot: 'web' }), errno('EINVAL', /only a snapshot can be reverted to/));

  const clone = await ts.call('vmClone', { vm: snap.uuid, name: 'web2' });
  assert.equal(clone.isSnapshot, false);
  const [cloneMac] = await macs(clone.uuid);
  assert.match(cloneMac!, /^00:16:3e:/);
  assert.notDeepEqual([cloneMac], await macs(web));
  const copy = await ts.call('vmCopy', { vm: 'web', name: 'web3' });
  assert.notDeepEqual(await macs(copy.uuid), await macs(web));
  const made = (await ts.call('vdiList', {})).filter((v) => v.name_label === 'web-root (web-before) (web2)' || v.name_label === 'web-root (web3)');
  assert.deepEqual(made.map((v) => v.read_only), [false, false]);
  // A copy has no parent; a clone has the snapshot as its parent.
  assert.deepEqual(made.map((v) => v.sm_config['vhd-parent']), [snapDisk.uuid, undefined]);

  // A running VM is snapshotted, not cloned or copied.
  await ts.call('vmStart', { vm: 'web2' });
  await assert.rejects(ts.call('vmClone', { vm: 'web2', name: 'x' }), errno('EBUSY', /clone needs a halted VM/));
  await assert.rejects(ts.call('vmCopy', { vm: 'web2', name: 'x' }), errno('EBUSY'));
  const live = await ts.call('vmSnapshot', { vm: 'web2', name: 'web2-live' });
  assert.equal(live.isSnapshot, true);
  await ts.call('destroy', { domain: 'web2' });
});

test('a plain file disk is refused, and a failure on the second disk leaves no VDI of the first behind', async () => {
  const ts = local.api;
  const file = join(dir, 'plain.img');
  writeFileSync(file, Buffer.alloc(1 << 20));
  await vm('filed', [`vdev=xvda, access=rw, target=${file}`]);
  await assert.rejects(ts.call('vmSnapshot', { vm: 'filed', name: 'x' }), errno('EOPNOTSUPP', /disk xvda is the file .* not a VDI/));
  await ts.call('vdiCreate', { sr: 'default', name: 'two-a', size: '1M', format: 'vhd' });
  await ts.call('vdiCreate', { sr: 'default', name: 'two-b', size: '1M' });
  await vm('two', ['vdev=xvda, access=rw, target=vdi:two-a', 'vdev=xvdb, access=rw, target=vdi:two-b']);
  const before = await vdiNames();
  for (const op of ['vmSnapshot', 'vmClone'] as const) {
    await assert.rejects(ts.call(op, { vm: 'two', name: 'half' }), errno('EOPNOTSUPP', /raw VDI has no differencing images/));
  }
  // The first disk's snapshot went again (its hidden base stays until the collector coalesces it).
  assert.deepEqual((await vdiNames()).filter((n) => n !== 'base copy'), before.filter((n) => n !== 'base copy'));
  assert.ok(!(await ts.call('vmList', {})).some((v) => v.name === 'half'));
  // A bad name is refused before anything is made.
  await assert.rejects(ts.call('vmClone', { vm: 'two', name: '42' }), errno('EINVAL', /invalid VM name/));
});

test('a vm-copy task cancelled ends cancelled, with no VM and no VDI made', async () => {
  const ts = local.api;
  await ts.call('vdiCreate', { sr: 'default', name: 'big', size: '256M' });
  await vm('big', ['vdev=xvda, access=rw, target=vdi:big']);
  const before = await vdiNames();
  const info = await cancelledTask(local, { op: 'vmCopy', args: { vm: 'big', name: 'big-copy' } });
  assert.equal(info.status, 'cancelled', JSON.stringify(info));
  assert.deepEqual(await vdiNames(), before);
  assert.ok(!(await ts.call('vmList', {})).some((v) => v.name === 'big-copy'));
});
