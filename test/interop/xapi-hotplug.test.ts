// XAPI's device hot-plug through Xen Orchestra's client (the npm package xen-api): VBD and VIF
// create on a running VM (the record, unplugged), plug and unplug (the command layer's
// block-attach and network-attach, and their detaches), destroy of an unplugged device, and
// XAPI's errors for each wrong state (DEVICE_ALREADY_ATTACHED, DEVICE_ALREADY_DETACHED,
// VM_BAD_POWER_STATE, OPERATION_NOT_ALLOWED); currently_attached always the database's and the
// domain's.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { GUESTS, startXapiRig, xenApiClient } from '../support/xapi.js';

const MiB = 2 ** 20;

const fails = (code: string) => (e: Error & { code?: string }) => {
  assert.equal(e.code, code, e.message);
  return true;
};

test('VBD and VIF create, plug, unplug and destroy on a running VM, with XAPI errors for wrong states', async () => {
  const rig = await startXapiRig('xapi-hotplug');
  const add = await rig.ts.call('userAdd', { name: 'ops', role: 'vm-admin', password: 'hotplug' });
  assert.equal(add.role, 'vm-admin');
  const xapi = await xenApiClient(rig.url, 'ops', 'hotplug');
  const host = rig.daemon.local.host;
  try {
    await xapi.connect();
    const vm = await xapi.call('VM.create', {
      name_label: 'hotplug', PV_kernel: join(GUESTS, 'ticker.ts'), memory_static_max: String(32 * MiB),
    }) as string;
    const vdi = (await rig.ts.call('vdiCreate', { sr: 'default', name: 'hotplug-disk', size: '1M' })).uuid;
    const vdiRef = await xapi.call('VDI.get_by_uuid', vdi) as string;
    const network = await xapi.call('network.get_by_uuid', (await rig.ts.call('networkCreate', { name: 'hotplug-net', bridge: 'xenbr0' })).uuid) as string;
    const vbdArgs = { VM: vm, VDI: vdiRef, userdevice: '1', mode: 'RW', type: 'Disk', bootable: false, empty: false, other_config: {} };

    // Halted: plug is the wrong power state.
    const early = await xapi.call('VBD.create', vbdArgs) as string;
    await assert.rejects(xapi.call('VBD.plug', early), fails('VM_BAD_POWER_STATE'));
    await xapi.call('VBD.destroy', early);

    await xapi.call('VM.start', vm, false, false);
    const domid = Number(await xapi.call('VM.get_domid', vm));
    const vbd = await xapi.call('VBD.create', vbdArgs) as string;
    const vif = await xapi.call('VIF.create', { VM: vm, network, device: '0', MAC: '', MTU: '1500', other_config: {} }) as string;
    const attached = async () => [await xapi.call('VBD.get_currently_attached', vbd), await xapi.call('VIF.get_currently_attached', vif)];
    assert.deepEqual(await attached(), [false, false], 'created on a running VM: the record, unplugged');
    assert.deepEqual(await xapi.call('VBD.get_allowed_operations', vbd), ['plug']);
    assert.deepEqual(await rig.ts.call('blockList', { domain: domid }), []);
    await assert.rejects(xapi.call('VBD.unplug', vbd), fails('DEVICE_ALREADY_DETACHED'));
    await assert.rejects(xapi.call('VIF.unplug', vif), fails('DEVICE_ALREADY_DETACHED'));

    await xapi.callAsync('VBD.plug', vbd);
    await xapi.call('VIF.plug', vif);
    assert.deepEqual(await attached(), [true, true]);
    assert.deepEqual((await rig.ts.call('blockList', { domain: domid })).map((d) => d.vdev), ['xvdb']);
    const mac = await xapi.call('VIF.get_MAC', vif);
    assert.deepEqual((await rig.ts.call('networkList', { domain: domid })).map((n) => n.mac), [mac]);
    await assert.rejects(xapi.call('VBD.plug', vbd), fails('DEVICE_ALREADY_ATTACHED'));
    await assert.rejects(xapi.call('VIF.plug', vif), fails('DEVICE_ALREADY_ATTACHED'));
    await assert.rejects(xapi.call('VBD.destroy', vbd), fails('OPERATION_NOT_ALLOWED'));

    // Unplugged, the records stay (same refs); the domain has the devices no more.
    await xapi.callAsync('VBD.unplug', vbd);
    await xapi.call('VIF.unplug_force', vif);
    assert.deepEqual(await attached(), [false, false]);
    assert.deepEqual(await rig.ts.call('blockList', { domain: domid }), []);
    assert.deepEqual(await rig.ts.call('networkList', { domain: domid }), []);
    assert.deepEqual(await host.db.read((tx) => [tx.VBD.get(vbd).currently_attached, tx.VIF.get(vif).currently_attached]), [false, false]);
    // And plugged again: the same device.
    await xapi.call('VBD.plug', vbd);
    assert.deepEqual((await rig.ts.call('blockList', { domain: domid })).map((d) => d.vdev), ['xvdb']);
    await xapi.call('VBD.unplug', vbd);
    await xapi.call('VBD.destroy', vbd);
    await assert.rejects(xapi.call('VBD.get_record', vbd), fails('HANDLE_INVALID'));

    // A reboot keeps an unplugged device the VM's, unplugged.
    await xapi.call('VM.hard_reboot', vm);
    assert.deepEqual(await xapi.call('VM.get_VIFs', vm), [vif]);
    assert.equal(await xapi.call('VIF.get_currently_attached', vif), false);
    // An unplugged vif joins the configuration when the VM halts: XAPI plugs every device at start.
    await xapi.call('VM.hard_shutdown', vm);
    assert.deepEqual(await xapi.call('VM.get_VIFs', vm), [vif]);
    await xapi.call('VM.start', vm, false, false);
    assert.equal(await xapi.call('VIF.get_currently_attached', vif), true);
    const d2 = Number(await xapi.call('VM.get_domid', vm));
    assert.deepEqual((await rig.ts.call('networkList', { domain: d2 })).map((n) => n.mac), [mac]);

    // The control domain's devices are not XenAPI's to hot-plug; a paused VM's neither.
    await xapi.call('VM.pause', vm);
    await assert.rejects(xapi.call('VIF.unplug', vif), fails('VM_BAD_POWER_STATE'));
    await xapi.call('VM.hard_shutdown', vm);
    await xapi.call('VM.destroy', vm);
  } finally {
    await xapi.disconnect();
    await rig.close();
  }
});

test("VBD and VIF setters through xen-api: mode, userdevice and bootable while halted (the restart boots with them), other_config any time, XAPI's errors otherwise", async () => {
  const rig = await startXapiRig('xapi-setters');
  await rig.ts.call('userAdd', { name: 'ops', role: 'vm-admin', password: 'setters' });
  const xapi = await xenApiClient(rig.url, 'ops', 'setters');
  try {
    await xapi.connect();
    const vm = await xapi.call('VM.create', { name_label: 'setters', PV_kernel: join(GUESTS, 'ticker.ts'), memory_static_max: String(32 * MiB) }) as string;
    const vdiRef = await xapi.call('VDI.get_by_uuid', (await rig.ts.call('vdiCreate', { sr: 'default', name: 'setters-disk', size: '1M' })).uuid) as string;
    const network = await xapi.call('network.get_by_uuid', (await rig.ts.call('networkCreate', { name: 'setters-net', bridge: 'xenbr0' })).uuid) as string;
    const vbd = await xapi.call('VBD.create', { VM: vm, VDI: vdiRef, userdevice: '0', mode: 'RW', type: 'Disk', bootable: true, empty: false, other_config: {} }) as string;
    const vif = await xapi.call('VIF.create', { VM: vm, network, device: '0', MAC: '', MTU: '1500', other_config: {} }) as string;

    await xapi.call('VBD.set_mode', vbd, 'RO');
    await xapi.call('VBD.set_userdevice', vbd, '2');
    await xapi.call('VBD.set_other_config', vbd, { owner: 'ops' });
    await xapi.call('VIF.add_to_other_config', vif, 'owner', 'ops');
    await assert.rejects(xapi.call('VBD.set_mode', vbd, 'WO'), fails('INVALID_VALUE'));
    await assert.rejects(xapi.call('VBD.set_mode', vif, 'RO'), fails('HANDLE_INVALID'));
    await assert.rejects(xapi.call('VIF.add_to_other_config', vif, 'xenode-own', '1'), fails('OPERATION_NOT_ALLOWED'));

    await xapi.call('VM.start', vm, false, false);
    const domid = Number(await xapi.call('VM.get_domid', vm));
    const [disk] = await rig.ts.call('blockList', { domain: domid });
    assert.equal(disk!.vdev, 'xvdc', 'the restart boots with the moved disk');
    assert.equal(await rig.daemon.local.host.xs.readOptional(`${disk!.backendPath}/mode`), 'r');
    await assert.rejects(xapi.call('VBD.set_mode', vbd, 'RW'), fails('VM_BAD_POWER_STATE'));
    await xapi.call('VIF.remove_from_other_config', vif, 'owner');
    assert.deepEqual(await xapi.call('VIF.get_other_config', vif), {});
    assert.deepEqual([await xapi.call('VBD.get_mode', vbd), await xapi.call('VBD.get_userdevice', vbd), (await xapi.call('VBD.get_other_config', vbd) as Record<string, string>)['owner']], ['RO', '2', 'ops']);
    await xapi.call('VM.hard_shutdown', vm);
    await xapi.call('VM.destroy', vm);
  } finally {
    await xapi.disconnect();
    await rig.close();
  }
});
