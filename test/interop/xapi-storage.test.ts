// XenAPI's storage calls and setters through Xen Orchestra's client (the npm package xen-api):
// SR.create and SR.scan, VDI.create, snapshot, clone, copy, resize and destroy, the name and
// other_config setters of VDIs, SRs, networks, the host and the pool (the client's own barrier(), which
// writes pool.other_config, works), session.get_all_subject_identifiers; each with XAPI's
// errors, and a read-only user refused.
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonCall, rootSession, startXapiRig, xenApiClient, type XenApiClient } from '../support/xapi.js';

const fails = (code: string) => (e: Error & { code?: string }) => {
  assert.equal(e.code, code, e.message);
  return true;
};

test('SR and VDI calls, setters and the client\'s barrier', { timeout: 60_000 }, async () => {
  const rig = await startXapiRig('xapi-storage');
  await rig.ts.call('userAdd', { name: 'storer', role: 'pool-admin', password: 'disks' });
  await rig.ts.call('userAdd', { name: 'looker', role: 'read-only', password: 'eyes' });
  const xapi = await xenApiClient<XenApiClient & { barrier(): Promise<void> }>(rig.url, 'storer', 'disks');
  const ro = await xenApiClient(rig.url, 'looker', 'eyes');
  try {
    await Promise.all([xapi.connect(), ro.connect()]);
    const [host] = await xapi.call('host.get_all') as string[];
    const sr = await xapi.call('SR.create', host, { location: join(rig.stateDir, 'sr-x') }, 0, 'sr-x', 'made over XenAPI', 'file', 'user', false, {}) as string;
    await assert.rejects(xapi.call('SR.create', host, {}, 0, 'sr-y', '', 'lvm', 'user', false, {}), fails('SR_UNKNOWN_DRIVER'));
    await assert.rejects(xapi.call('SR.create', host, {}, 0, 'sr-y', '', 'file', 'user', false, {}), fails('MAP_DOES_NOT_CONTAIN_KEY'));
    await assert.rejects(xapi.call('SR.create', host, { location: join(rig.stateDir, 'sr-z') }, 0, 'sr-x', '', 'file', 'user', false, {}), fails('OPERATION_NOT_ALLOWED'));

    const vdi = await xapi.call('VDI.create', { SR: sr, name_label: 'data', virtual_size: String(2 ** 20), type: 'user', sharable: false, read_only: false,
      other_config: {}, sm_config: { format: 'vhd' } }) as string;
    assert.equal(await xapi.call('VDI.get_SR', vdi), sr);
    await xapi.callAsync('VDI.resize', vdi, String(2 ** 21));
    assert.equal(Number(await xapi.call('VDI.get_virtual_size', vdi)), 2 ** 21);
    const snap = await xapi.call('VDI.snapshot', vdi, {}) as string;
    assert.deepEqual([await xapi.call('VDI.get_is_a_snapshot', snap), await xapi.call('VDI.get_snapshot_of', snap)], [true, vdi]);
    assert.deepEqual(await xapi.call('VDI.get_snapshots', vdi), [snap]);
    const clone = await xapi.call('VDI.clone', snap, {}) as string;
    assert.equal(await xapi.call('VDI.get_read_only', clone), false);
    const copy = await xapi.callAsync('VDI.copy', vdi, sr) as string;
    assert.equal((await xapi.call('VDI.get_sm_config', copy) as Record<string, string>)['vhd-parent'], undefined);
    await xapi.call('VDI.set_name_label', copy, 'data-copy');
    await xapi.call('VDI.set_name_description', copy, 'a full copy');
    await xapi.call('VDI.add_to_other_config', copy, 'owner', 'ops');
    const rec = await xapi.call('VDI.get_record', copy) as { name_label: string; name_description: string; other_config: Record<string, string> };
    assert.deepEqual([rec.name_label, rec.name_description, rec.other_config['owner']], ['data-copy', 'a full copy', 'ops']);
    await xapi.call('VDI.remove_from_other_config', copy, 'owner');
    await assert.rejects(xapi.call('VDI.add_to_other_config', copy, 'xenode-created', 'false'), fails('OPERATION_NOT_ALLOWED'));
    await assert.rejects(xapi.call('VDI.set_name_label', copy, 'a/b'), fails('OPERATION_NOT_ALLOWED'));
    await assert.rejects(ro.call('VDI.set_name_label', copy, 'mine'), fails('RBAC_PERMISSION_DENIED'));
    await assert.rejects(ro.call('VDI.destroy', copy), fails('RBAC_PERMISSION_DENIED'));
    await assert.rejects(xapi.call('VDI.copy', vdi, 'OpaqueRef:nope'), fails('HANDLE_INVALID'));
    await xapi.call('VDI.destroy', copy);
    await assert.rejects(xapi.call('VDI.get_record', copy), fails('HANDLE_INVALID'));
    await xapi.callAsync('SR.scan', sr);

    await xapi.call('SR.set_name_label', sr, 'sr-renamed');
    assert.equal(await xapi.call('SR.get_name_label', sr), 'sr-renamed');
    const [net] = await xapi.call('network.get_all') as string[];
    if (net !== undefined) {
      await xapi.call('network.set_name_description', net, 'the lab');
      assert.equal(await xapi.call('network.get_name_description', net), 'the lab');
    }
    await xapi.call('host.set_name_label', host, 'rack-3');
    assert.equal(await xapi.call('host.get_name_label', host), 'rack-3');
    const [pool] = await xapi.call('pool.get_all') as string[];
    await xapi.call('pool.set_name_label', pool, 'lab pool');
    assert.equal(await xapi.call('pool.get_name_label', pool), 'lab pool');
    // The client's barrier: a pool.other_config key it writes and waits to see in its events.
    await xapi.barrier();
    // (The client refuses session.* calls of its own: over JSON-RPC as root on the local socket.)
    const root = await rootSession({ socket: rig.socket });
    assert.deepEqual(await jsonCall({ socket: rig.socket }, 'session.get_all_subject_identifiers', [root]), { jsonrpc: '2.0', result: [], id: 1 });
  } finally {
    await Promise.all([xapi.disconnect(), ro.disconnect()]);
    await rig.close();
  }
});

test("an SR whose directory fails its check at plug: SR.scan is SR_BACKEND_FAILURE_47 (a failed PBD.plug), its use SR_NOT_ATTACHED", { timeout: 60_000 }, async () => {
  const rig = await startXapiRig('xapi-storage-plug');
  await rig.ts.call('userAdd', { name: 'storer', role: 'pool-admin', password: 'disks' });
  const xapi = await xenApiClient(rig.url, 'storer', 'disks');
  try {
    await xapi.connect();
    const [host] = await xapi.call('host.get_all') as string[];
    const dir = join(rig.stateDir, 'sr-shared');
    const sr = await xapi.call('SR.create', host, { location: dir }, 0, 'sr-shared', '', 'file', 'user', false, {}) as string;
    chmodSync(dir, 0o777);
    await assert.rejects(xapi.callAsync('SR.scan', sr), (e: Error & { code?: string; params?: string[] }) => {
      assert.equal(e.code, 'SR_BACKEND_FAILURE_47', e.message);
      assert.match(String(e.params?.[1]), /^The SR is not available \[opterr=path=.*sr-shared has mode 777: .*\(fix: chmod go-w .*sr-shared\)\]$/);
      return true;
    });
    await assert.rejects(xapi.call('VDI.create', { SR: sr, name_label: 'data', virtual_size: String(2 ** 20), type: 'user', sharable: false, read_only: false,
      other_config: {}, sm_config: {} }), (e: Error & { code?: string; params?: string[] }) => {
      assert.equal(e.code, 'SR_NOT_ATTACHED', e.message);
      assert.deepEqual(e.params, [sr]);
      return true;
    });
    chmodSync(dir, 0o700);
    await xapi.callAsync('SR.scan', sr);
    await xapi.call('VDI.create', { SR: sr, name_label: 'data', virtual_size: String(2 ** 20), type: 'user', sharable: false, read_only: false, other_config: {}, sm_config: {} });
  } finally {
    await xapi.disconnect();
    await rig.close();
  }
});
