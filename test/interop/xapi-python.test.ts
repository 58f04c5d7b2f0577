// Python's XenAPI clients against a xenode host over HTTPS: the standard library's
// xmlrpc.client (as a read-only user) and Debian's python3-os-xenapi (`from os_xenapi.client
// import XenAPI`, as a vm-admin). Each logs in and reads VM.get_all_records; then each takes a
// VM through snapshot, clone, copy and revert, and gets XAPI's errors for wrong ones. (os_xenapi's
// UDSTransport, its way to the local socket, fails under Python 3 before it sends anything:
// its send_request takes one argument fewer than xmlrpc.client passes.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { GUESTS, startXapiRig } from '../support/xapi.js';

const run = promisify(execFile);
// Debian's python3, where python3-os-xenapi is installed (a pyenv python3 may come first in PATH).
const PYTHON = '/usr/bin/python3';

async function python(script: string, args: string[]): Promise<string> {
  const { stdout } = await run(PYTHON, ['-c', script, ...args], { timeout: 60_000 });
  return stdout;
}

async function has(module: string): Promise<boolean> {
  return python(`import ${module}`, []).then(() => true, () => false);
}

const XMLRPC_CLIENT = `
import json, ssl, sys, xmlrpc.client
url, user, password = sys.argv[1:4]
proxy = xmlrpc.client.ServerProxy(url, context=ssl._create_unverified_context())
login = proxy.session.login_with_password(user, password, '2.21', 'xmlrpc-test')
assert login['Status'] == 'Success', login
session = login['Value']
records = proxy.VM.get_all_records(session)
assert records['Status'] == 'Success', records
denied = proxy.VM.hard_shutdown(session, list(records['Value'])[0])
print(json.dumps({'vms': records['Value'], 'denied': denied, 'methods': proxy.system.listMethods()}, default=str))
proxy.session.logout(session)
`;

const OS_XENAPI = `
import json, ssl, sys
from os_xenapi.client import XenAPI
ssl._create_default_https_context = ssl._create_unverified_context
session = XenAPI.Session(sys.argv[1])
session.login_with_password(sys.argv[2], sys.argv[3])
records = session.xenapi.VM.get_all_records()
try:
    session.xenapi.VM.get_record('OpaqueRef:forged')
    bad = None
except XenAPI.Failure as e:
    bad = e.details
print(json.dumps({'vms': records, 'api': session.API_version, 'bad': bad}, default=str))
session.xenapi.session.logout()
`;

test('Python: xmlrpc.client and os_xenapi over HTTPS read VM.get_all_records', async (t) => {
  const { stdout: v } = await run(PYTHON, ['--version']).catch(() => ({ stdout: '' }));
  if (!v) {
    t.skip(`${PYTHON} is missing`);
    return;
  }
  const rig = await startXapiRig('xapi-py');
  try {
    await rig.ts.call('userAdd', { name: 'reader', role: 'read-only', password: 'pw-reader' });
    await rig.ticker('pyguest');

    const std = JSON.parse(await python(XMLRPC_CLIENT, [rig.url, 'reader', 'pw-reader'])) as {
      vms: Record<string, { name_label: string; memory_target: string; power_state: string }>; denied: { Status: string; ErrorDescription: string[] }; methods: unknown;
    };
    const names = Object.values(std.vms).map((r) => r.name_label).sort();
    assert.deepEqual(names, ['Domain-0', 'pyguest']);
    const guest = Object.values(std.vms).find((r) => r.name_label === 'pyguest')!;
    // int64 travels as a string in XML-RPC, as XAPI sends it.
    assert.equal(guest.memory_target, String(32 * 2 ** 20));
    assert.equal(guest.power_state, 'Running');
    assert.equal(std.denied.Status, 'Failure');
    assert.equal(std.denied.ErrorDescription[0], 'RBAC_PERMISSION_DENIED');

    if (!(await has('os_xenapi.client'))) {
      t.diagnostic('python3-os-xenapi is not installed: skipping its half (apt-get install python3-os-xenapi)');
      return;
    }
    await rig.ts.call('userAdd', { name: 'admin', role: 'vm-admin', password: 'pw-admin' });
    const os = JSON.parse(await python(OS_XENAPI, [rig.url, 'admin', 'pw-admin'])) as { vms: Record<string, { name_label: string }>; api: string; bad: string[] };
    assert.deepEqual(Object.values(os.vms).map((r) => r.name_label).sort(), ['Domain-0', 'pyguest']);
    assert.equal(os.api, '2.21');
    assert.deepEqual(os.bad, ['HANDLE_INVALID', 'VM', 'OpaqueRef:forged']);
  } finally {
    await rig.close();
  }
});

const XMLRPC_SNAPSHOTS = `
import json, ssl, sys, time, xmlrpc.client
url, user, password, vm = sys.argv[1:5]
proxy = xmlrpc.client.ServerProxy(url, context=ssl._create_unverified_context())
def ok(r):
    assert r['Status'] == 'Success', r
    return r['Value']
def err(r):
    assert r['Status'] == 'Failure', r
    return r['ErrorDescription']
s = ok(proxy.session.login_with_password(user, password, '2.21', 'snapshot-test'))
out = {}
snap = ok(proxy.VM.snapshot(s, vm, 'py-snap'))
out['snap'] = ok(proxy.VM.get_record(s, snap))
out['snapshots'] = ok(proxy.VM.get_snapshots(s, vm))
out['snap_of_snap'] = err(proxy.VM.snapshot(s, snap, 'again'))
out['start_snap'] = err(proxy.VM.start(s, snap, False, False))
out['clone_running'] = err(proxy.VM.clone(s, vm, 'no'))
out['forged'] = err(proxy.VM.clone(s, 'OpaqueRef:forged', 'x'))
out['not_snapshot'] = err(proxy.VM.revert(s, vm))
out['missing_sr'] = err(proxy.VM.copy(s, snap, 'x', 'OpaqueRef:00000000-0000-4000-8000-000000000000'))
clone = ok(proxy.VM.clone(s, snap, 'py-clone'))
out['clone'] = ok(proxy.VM.get_record(s, clone))
task = ok(proxy.Async.VM.copy(s, snap, 'py-copy', 'OpaqueRef:NULL'))
for _ in range(3000):
    if ok(proxy.task.get_status(s, task)) != 'pending':
        break
    time.sleep(0.02)
out['copy_task'] = ok(proxy.task.get_record(s, task))
ok(proxy.VM.revert(s, snap))
out['reverted'] = ok(proxy.VM.get_record(s, vm))
ok(proxy.VM.destroy(s, snap))
out['gone'] = err(proxy.VM.get_record(s, snap))
print(json.dumps(out, default=str))
proxy.session.logout(s)
`;

const OS_XENAPI_SNAPSHOTS = `
import json, ssl, sys
from os_xenapi.client import XenAPI
ssl._create_default_https_context = ssl._create_unverified_context
session = XenAPI.Session(sys.argv[1])
session.login_with_password(sys.argv[2], sys.argv[3])
x = session.xenapi
vm = x.VM.get_by_name_label(sys.argv[4])[0]
snap = x.VM.snapshot(vm, 'os-snap')
clone = x.VM.clone(snap, 'os-clone')
try:
    x.VM.start(snap, False, False)
    refused = None
except XenAPI.Failure as e:
    refused = e.details
x.VM.revert(snap)
print(json.dumps({'snap': x.VM.get_record(snap), 'clone': x.VM.get_record(clone), 'vm': x.VM.get_record(vm), 'refused': refused}, default=str))
session.xenapi.session.logout()
`;

test('Python: VM.snapshot, clone, copy (Async, a task) and revert with xmlrpc.client and os_xenapi, and their errors', async (t) => {
  const { stdout: v } = await run(PYTHON, ['--version']).catch(() => ({ stdout: '' }));
  if (!v) {
    t.skip(`${PYTHON} is missing`);
    return;
  }
  const rig = await startXapiRig('xapi-py-snap');
  try {
    await rig.ts.call('userAdd', { name: 'snapper', role: 'vm-power-admin', password: 'pw-snap' });
    await rig.ts.call('vdiCreate', { sr: 'default', name: 'py-disk', size: '4M', format: 'vhd' });
    const cfg = rig.cfgFile('pysnap', `name = "pysnap"\nkernel = "${join(GUESTS, 'ticker.ts')}"\nmemory = 32\ndisk = [ 'vdev=xvda, access=rw, target=vdi:py-disk' ]\n`);
    const vm = await rig.ts.call('vmImport', { file: cfg });
    await rig.ts.call('vmStart', { vm: vm.uuid });
    const vmRef = await rig.daemon.local.host.db.read((tx) => tx.VM.getByUuid(vm.uuid));

    type Rec = Record<string, unknown>;
    const r = JSON.parse(await python(XMLRPC_SNAPSHOTS, [rig.url, 'snapper', 'pw-snap', vmRef])) as Record<string, Rec & string[]>;
    assert.equal(r['snap']!['is_a_snapshot'], true);
    assert.equal(r['snap']!['snapshot_of'], vmRef);
    assert.equal(r['snap']!['power_state'], 'Halted');
    assert.equal(r['snapshots']!.length, 1);
    assert.equal(r['snap_of_snap']![0], 'VM_IS_SNAPSHOT');
    assert.deepEqual(r['start_snap'], ['VM_IS_SNAPSHOT', r['snapshots']![0], 'start']);
    assert.deepEqual(r['clone_running'], ['VM_BAD_POWER_STATE', vmRef, 'halted', 'running']);
    assert.deepEqual(r['forged'], ['HANDLE_INVALID', 'VM', 'OpaqueRef:forged']);
    assert.deepEqual(r['not_snapshot'], ['ONLY_REVERT_SNAPSHOT']);
    assert.deepEqual(r['missing_sr'], ['HANDLE_INVALID', 'SR', 'OpaqueRef:00000000-0000-4000-8000-000000000000']);
    assert.equal(r['clone']!['is_a_snapshot'], false);
    assert.equal(r['clone']!['name_label'], 'py-clone');
    assert.equal(r['copy_task']!['status'], 'success', JSON.stringify(r['copy_task']));
    assert.equal(r['copy_task']!['progress'], 1);
    assert.match(String(r['copy_task']!['result']), /OpaqueRef:/);
    // Reverting a running VM halts it (XAPI hard-shuts it down first).
    assert.equal(r['reverted']!['power_state'], 'Halted');
    assert.equal(r['gone']![0], 'HANDLE_INVALID');

    if (!(await has('os_xenapi.client'))) {
      t.diagnostic('python3-os-xenapi is not installed: skipping its half (apt-get install python3-os-xenapi)');
      return;
    }
    const os = JSON.parse(await python(OS_XENAPI_SNAPSHOTS, [rig.url, 'snapper', 'pw-snap', 'pysnap'])) as { snap: Rec; clone: Rec; vm: Rec; refused: string[] };
    assert.equal(os.snap['is_a_snapshot'], true);
    assert.equal(os.snap['name_label'], 'os-snap');
    assert.equal(os.clone['is_a_snapshot'], false);
    assert.equal(os.vm['power_state'], 'Halted');
    assert.equal(os.refused[0], 'VM_IS_SNAPSHOT');
  } finally {
    await rig.close();
  }
});
