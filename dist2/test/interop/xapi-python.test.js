// Python's XenAPI clients against a xenode host over HTTPS: the standard library's
// xmlrpc.client (as a read-only user) and Debian's python3-os-xenapi (`from os_xenapi.client
// import XenAPI`, as a vm-admin). Each logs in and reads VM.get_all_records. (os_xenapi's
// UDSTransport, its way to the local socket, fails under Python 3 before it sends anything:
// its send_request takes one argument fewer than xmlrpc.client passes.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startXapiRig } from '../support/xapi.js';
const run = promisify(execFile);
// Debian's python3, where python3-os-xenapi is installed (a pyenv python3 may come first in PATH).
const PYTHON = '/usr/bin/python3';
async function python(script, args) {
    const { stdout } = await run(PYTHON, ['-c', script, ...args], { timeout: 60_000 });
    return stdout;
}
async function has(module) {
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
        const std = JSON.parse(await python(XMLRPC_CLIENT, [rig.url, 'reader', 'pw-reader']));
        const names = Object.values(std.vms).map((r) => r.name_label).sort();
        assert.deepEqual(names, ['Domain-0', 'pyguest']);
        const guest = Object.values(std.vms).find((r) => r.name_label === 'pyguest');
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
        const os = JSON.parse(await python(OS_XENAPI, [rig.url, 'admin', 'pw-admin']));
        assert.deepEqual(Object.values(os.vms).map((r) => r.name_label).sort(), ['Domain-0', 'pyguest']);
        assert.equal(os.api, '2.21');
        assert.deepEqual(os.bad, ['HANDLE_INVALID', 'VM', 'OpaqueRef:forged']);
    }
    finally {
        await rig.close();
    }
});
//# sourceMappingURL=xapi-python.test.js.map