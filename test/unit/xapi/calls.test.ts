// XenAPI's VM lifecycle over the host database: VM.create makes a persistent halted VM,
// VM.start boots it, setters change it through the command layer, VM.destroy removes it; VBD,
// VIF, console, network and SR records are served from the database; classic events
// (event.register/next/unregister) see the changes; each role gets what its rank allows.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EVTCHN_DUMP_HEADER, XAPI_ROLES, type XapiRole } from '../../../src/toolstack/contract.js';
import { AuditLog } from '../../../src/xapi/audit.js';
import { configOfRecord } from '../../../src/xapi/calls.js';
import { XapiError } from '../../../src/xapi/errors.js';
import { GUESTS, jsonCall, rootSession, startInProcessXapi, type InProcessXapi } from '../../support/xapi.js';

let x: InProcessXapi;
let root: string;
const auditDir = mkdtempSync(join(tmpdir(), 'xenode-audit-'));
const audit = new AuditLog(join(auditDir, 'audit.log'));

before(async () => {
  x = await startInProcessXapi('xapi-calls', { audit });
  root = await rootSession(x.unix);
});
after(async () => {
  await x.close();
  await audit.close();
  rmSync(auditDir, { recursive: true, force: true });
});

type Reply = Awaited<ReturnType<typeof jsonCall>>;
const code = (r: Reply) => r.error?.message;

function call(session: string, method: string, ...params: unknown[]): Promise<Reply> {
  return jsonCall(x.unix, method, [session, ...params]);
}

async function ok<T>(session: string, method: string, ...params: unknown[]): Promise<T> {
  const r = await call(session, method, ...params);
  assert.equal(r.error, undefined, `${method}: ${JSON.stringify(r.error)}`);
  return r.result as T;
}

const MiB = 2 ** 20;

function vmArgs(name: string): Record<string, unknown> {
  return { name_label: name, name_description: 'made by VM.create', PV_kernel: join(GUESTS, 'ticker.ts'), memory_static_max: String(32 * MiB), other_config: { purpose: 'test' } };
}

test('VM.create makes a halted persistent VM; start, setters, hard_reboot, hard_shutdown and destroy', async () => {
  const vm = await ok<string>(root, 'VM.create', vmArgs('xc-one'));
  const rec = await ok<Record<string, unknown>>(root, 'VM.get_record', vm);
  assert.equal(rec['power_state'], 'Halted');
  assert.equal(rec['name_description'], 'made by VM.create');
  assert.deepEqual(rec['other_config'], { purpose: 'test' });
  assert.deepEqual(rec['allowed_operations'], ['start', 'start_on', 'destroy', 'snapshot', 'clone', 'copy']);
  assert.equal(rec['xenode_config'], undefined, "xenode's own fields are not served");
  assert.equal(code(await call(root, 'VM.pause', vm)), 'VM_BAD_POWER_STATE');
  await ok(root, 'VM.set_memory', vm, String(48 * MiB));
  assert.equal(await ok(root, 'VM.get_memory_static_max', vm), 48 * MiB);
  assert.equal(code(await call(root, 'VM.set_VCPUs_max', vm, '2')), 'VALUE_NOT_SUPPORTED');
  await ok(root, 'VM.add_to_other_config', vm, 'owner', 'alice');
  await ok(root, 'VM.remove_from_other_config', vm, 'purpose');
  assert.deepEqual(await ok(root, 'VM.get_other_config', vm), { owner: 'alice' });

  await ok(root, 'VM.start', vm, false, false);
  assert.equal(await ok(root, 'VM.get_power_state', vm), 'Running');
  const domid = await ok<number>(root, 'VM.get_domid', vm);
  const [d] = await x.local.api.call('list', { domains: [domid] });
  assert.equal(d!.memoryKiB, 48 * 1024);
  assert.equal(code(await call(root, 'VM.start', vm, false, false)), 'VM_BAD_POWER_STATE');
  assert.equal(code(await call(root, 'VM.destroy', vm)), 'VM_BAD_POWER_STATE');
  // A running VM's name is its domain's.
  await ok(root, 'VM.set_name_label', vm, 'xc-renamed');
  assert.equal((await x.local.api.call('lookup', { domain: domid })).name, 'xc-renamed');
  const vbds = await ok<string[]>(root, 'VM.get_VBDs', vm);
  const consoles = await ok<string[]>(root, 'VM.get_consoles', vm);
  assert.deepEqual(vbds, []);
  assert.equal(consoles.length, 1);
  assert.equal(await ok(root, 'console.get_protocol', consoles[0]), 'vt100');

  await ok(root, 'VM.hard_reboot', vm);
  const again = await ok<number>(root, 'VM.get_domid', vm);
  assert.notEqual(again, domid);
  assert.equal(await ok(root, 'VM.get_power_state', vm), 'Running');
  await ok(root, 'VM.hard_shutdown', vm);
  assert.equal(await ok(root, 'VM.get_power_state', vm), 'Halted');
  assert.equal(await ok(root, 'VM.get_domid', vm), -1);
  assert.deepEqual(await ok(root, 'VM.get_consoles', vm), []);
  await ok(root, 'VM.destroy', vm);
  assert.equal(code(await call(root, 'VM.get_record', vm)), 'HANDLE_INVALID');
});

test('VM.create refuses records it cannot turn into a configuration', () => {
  assert.throws(() => configOfRecord({ name_label: 'x', PV_kernel: '/k.js' }), (e: XapiError) => e.code === 'MAP_DOES_NOT_CONTAIN_KEY');
  assert.throws(() => configOfRecord({ name_label: 'x\ny', PV_kernel: '/k.js', memory_static_max: String(MiB) }), (e: XapiError) => e.code === 'INVALID_VALUE');
  assert.throws(() => configOfRecord({ name_label: 'x', PV_kernel: '/k.js', memory_static_max: '1000' }), (e: XapiError) => e.code === 'INVALID_VALUE');
  assert.throws(() => configOfRecord({ name_label: 'x', PV_kernel: '/k.js', memory_static_max: String(MiB), actions_after_shutdown: 'preserve' }),
    (e: XapiError) => e.code === 'INVALID_VALUE');
  assert.equal(configOfRecord({ name_label: 'a "b"', PV_kernel: '/k.js', memory_static_max: String(64 * MiB), memory_dynamic_min: String(32 * MiB), PV_args: 'x=1' }),
    'name = "a \\"b\\""\nkernel = "/k.js"\nmemory = 32\nmaxmem = 64\ncmdline = "x=1"\n');
});

test('classic events: event.register, event.next sees a VM change, event.unregister', async () => {
  assert.equal(code(await call(root, 'event.next')), 'SESSION_NOT_REGISTERED');
  await ok(root, 'event.register', ['vm']);
  const vm = await ok<string>(root, 'VM.create', vmArgs('xc-events'));
  const events = await ok<{ class: string; operation: string; ref: string }[]>(root, 'event.next');
  assert.ok(events.some((e) => e.class === 'vm' && e.operation === 'add' && e.ref === vm), JSON.stringify(events));
  await ok(root, 'event.unregister', ['vm']);
  assert.equal(code(await call(root, 'event.next')), 'SESSION_NOT_REGISTERED');
  await ok(root, 'VM.destroy', vm);
});

test('networks, SRs and VDIs are served from the database', async () => {
  await x.local.api.call('vdiCreate', { sr: 'default', name: 'xc-disk', size: '1M' });
  const srs = await ok<Record<string, { VDIs: string[]; name_label: string }>>(root, 'SR.get_all_records');
  const vdis = Object.values(srs).flatMap((s) => s.VDIs);
  assert.ok(vdis.length >= 1);
  const names = await Promise.all(vdis.map((v) => ok<string>(root, 'VDI.get_name_label', v)));
  assert.ok(names.includes('xc-disk'));
  assert.equal(code(await call(root, 'VDI.get_record', 'OpaqueRef:00000000-0000-0000-0000-000000000000')), 'HANDLE_INVALID');
  assert.equal(code(await call(root, 'SR.get_by_uuid', '00000000-0000-0000-0000-000000000000')), 'UUID_INVALID');
});

test('each role may make the VM calls of its rank, and no more', async () => {
  // The least role each call needs, and what it answers past the role check.
  const vm = await ok<string>(root, 'VM.create', vmArgs('xc-roles'));
  const net = await ok<string>(root, 'network.get_by_uuid', (await x.local.api.call('networkCreate', { name: 'xc-roles', bridge: 'xcroles0' })).uuid);
  const samples: [string, unknown[], XapiRole, string | undefined][] = [
    ['VM.get_record', [vm], 'read-only', undefined],
    ['VM.get_all_records', [], 'read-only', undefined],
    ['VM.pause', [vm], 'vm-operator', 'VM_BAD_POWER_STATE'],
    ['VM.set_name_description', [vm, 'x'], 'vm-admin', undefined],
    ['VM.set_memory', [vm, String(32 * MiB)], 'vm-power-admin', undefined],
    ['VM.start_on', [vm, 'OpaqueRef:00000000-0000-0000-0000-000000000000', false, false], 'vm-power-admin', 'HANDLE_INVALID'],
    ['host.dmesg', [(await ok<string[]>(root, 'host.get_all'))[0]], 'pool-operator', undefined],
    ['host.send_debug_keys', [(await ok<string[]>(root, 'host.get_all'))[0], 'e'], 'pool-admin', undefined],
    // Its token lets the sender name a kernel the host loads (host code): pool-admin, not XAPI's vm-power-admin.
    ['host.migrate_receive', [(await ok<string[]>(root, 'host.get_all'))[0], net, {}], 'pool-admin', 'OPERATION_NOT_ALLOWED'],
  ];
  for (const role of XAPI_ROLES) {
    const s = await x.login(role);
    for (const [method, params, need, after] of samples) {
      const allowed = XAPI_ROLES.indexOf(role) <= XAPI_ROLES.indexOf(need);
      assert.equal(code(await call(s, method, ...params)), allowed ? after : 'RBAC_PERMISSION_DENIED', `${role} ${method}`);
    }
  }
  const readOnly = await x.login('read-only');
  assert.equal(code(await call(readOnly, 'VM.destroy', vm)), 'RBAC_PERMISSION_DENIED');
  await ok(root, 'VM.destroy', vm);
});

const auditLines = () => readFileSync(join(auditDir, 'audit.log'), 'utf8').trim().split('\n').filter((l) => l).map((l) => JSON.parse(l) as Record<string, unknown>);

test('the audit log has every state-changing call and login with its user, and how it ended', async () => {
  await audit.flushed();
  const before = auditLines().length;
  const admin = await x.login('vm-admin');
  const vm = await ok<string>(admin, 'VM.create', vmArgs('xc-audit'));
  const reader = await x.login('read-only');
  assert.equal(code(await call(reader, 'VM.destroy', vm)), 'RBAC_PERMISSION_DENIED');
  await ok(reader, 'VM.get_record', vm);
  assert.equal(code(await jsonCall(x.tcp, 'session.login_with_password', ['u-vm-admin', 'wrong'])), 'SESSION_AUTHENTICATION_FAILED');
  await ok(admin, 'VM.destroy', vm);
  await audit.flushed();
  const lines = auditLines().slice(before);
  const mine = lines.filter((l) => l['user'] === 'u-vm-admin' || l['user'] === 'u-read-only').map((l) => `${l['user']} ${l['call']} ${l['result']}`);
  assert.deepEqual(mine.filter((l) => !l.includes('login_with_password ok')), [
    'u-vm-admin VM.create ok',
    'u-read-only VM.destroy RBAC_PERMISSION_DENIED',
    'u-vm-admin session.login_with_password SESSION_AUTHENTICATION_FAILED',
    'u-vm-admin VM.destroy ok',
  ]);
  assert.ok(lines.every((l) => !JSON.stringify(l).includes('wrong')), 'no password is logged');
  const destroy = lines.find((l) => l['call'] === 'VM.destroy' && l['result'] === 'ok')!;
  assert.deepEqual(destroy['args'], [vm]);
  assert.equal(destroy['source'], '127.0.0.1', 'where the session logged in from');
});

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: x.unix.socket, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('/rrd_updates serves the sampled host and VM data sources as JSON', async () => {
  const vm = await ok<string>(root, 'VM.create', vmArgs('xc-rrd'));
  await ok(root, 'VM.start', vm, false, false);
  const uuid = await ok<string>(root, 'VM.get_uuid', vm);
  await x.service.rrd.sampleNow();
  const r = await get(`/rrd_updates?session_id=${root}&start=0&cf=AVERAGE&interval=5&host=true&json=true`);
  assert.equal(r.status, 200, r.body);
  const u = JSON.parse(r.body) as { meta: { legend: string[]; step: number; rows: number }; data: { t: number; values: (number | null)[] }[] };
  assert.equal(u.meta.step, 5);
  assert.ok(u.meta.rows >= 1);
  const host = await ok<string>(root, 'host.get_uuid', (await ok<string[]>(root, 'host.get_all'))[0]);
  assert.ok(u.meta.legend.includes(`AVERAGE:host:${host}:memory_total_kib`), u.meta.legend.join(' '));
  const col = u.meta.legend.indexOf(`AVERAGE:vm:${uuid}:memory`);
  assert.ok(col >= 0);
  assert.equal(u.data[0]!.values[col], 32 * MiB);
  assert.equal((await get('/rrd_updates?session_id=OpaqueRef:forged&start=0&json=true')).status, 401);
  assert.equal((await get(`/rrd_updates?session_id=${root}&start=0`)).status, 400);
  assert.equal((await get(`/rrd_updates?session_id=${root}&start=0&cf=MAX&json=true`)).status, 400);
  await ok(root, 'VM.hard_shutdown', vm);
  await ok(root, 'VM.destroy', vm);
});

test('VIF.locking_mode and ipv4/ipv6_allowed: given at VIF.create, kept in the record, written to the backend\'s nodes when the VM starts, changed live by set_locking_mode and the allowed-address calls', async () => {
  const net = await ok<string>(root, 'network.create', { name_label: 'xc-lock', bridge: 'xcbr9' });
  const vm = await ok<string>(root, 'VM.create', vmArgs('xc-locking'));
  const base = { VM: vm, network: net, MAC: '', MTU: '1500', other_config: {} };
  assert.equal(code(await call(root, 'VIF.create', { ...base, device: '0', locking_mode: 'open' })), 'INVALID_VALUE');
  assert.equal(code(await call(root, 'VIF.create', { ...base, device: '0', locking_mode: 'locked', ipv4_allowed: ['10.0.0.300'] })), 'INVALID_IP_ADDRESS_SPECIFIED');
  const unlocked = await ok<string>(root, 'VIF.create', { ...base, device: '0', locking_mode: 'unlocked' });
  const dflt = await ok<string>(root, 'VIF.create', { ...base, device: '1' });
  const locked = await ok<string>(root, 'VIF.create', { ...base, device: '2', locking_mode: 'locked', ipv4_allowed: ['10.0.0.2'], ipv6_allowed: ['fd00::2'] });
  assert.deepEqual([await ok(root, 'VIF.get_locking_mode', unlocked), await ok(root, 'VIF.get_locking_mode', dflt)], ['unlocked', 'network_default']);
  assert.equal((await ok<Record<string, unknown>>(root, 'VIF.get_record', unlocked))['locking_mode'], 'unlocked');
  assert.deepEqual(await ok(root, 'VIF.get_ipv4_allowed', locked), ['10.0.0.2']);
  assert.deepEqual(await ok(root, 'VIF.get_ipv6_allowed', dflt), []);
  // A halted VM's vif: its configuration.
  await ok(root, 'VIF.set_locking_mode', dflt, 'disabled');
  assert.equal(await ok(root, 'VIF.get_locking_mode', dflt), 'disabled');
  await ok(root, 'VM.start', vm, false, false);
  const domid = await ok<number>(root, 'VM.get_domid', vm);
  const xs = x.local.host.xs;
  const be = (devid: number, k: string) => xs.readOptional(`/local/domain/0/backend/vif/${domid}/${devid}/${k}`);
  assert.equal(await be(0, 'locking-mode'), 'unlocked');
  assert.equal(await be(1, 'locking-mode'), 'disabled');
  assert.deepEqual([await be(2, 'locking-mode'), await be(2, 'ipv4-allowed'), await be(2, 'ipv6-allowed')], ['locked', '10.0.0.2', 'fd00::2']);
  // A running VM's plugged vifs: at once.
  await ok(root, 'VIF.set_locking_mode', dflt, 'network_default');
  assert.equal(await be(1, 'locking-mode'), undefined, "network_default: the backend's own default");
  await ok(root, 'VIF.add_ipv4_allowed', locked, '10.0.0.3');
  assert.equal(await be(2, 'ipv4-allowed'), '10.0.0.2 10.0.0.3');
  await ok(root, 'VIF.remove_ipv4_allowed', locked, '10.0.0.2');
  await ok(root, 'VIF.set_ipv6_allowed', locked, []);
  assert.deepEqual([await be(2, 'ipv4-allowed'), await be(2, 'ipv6-allowed')], ['10.0.0.3', undefined]);
  assert.deepEqual(await ok(root, 'VIF.get_ipv4_allowed', locked), ['10.0.0.3']);
  assert.equal(code(await call(root, 'VIF.add_ipv6_allowed', locked, '10.0.0.4')), 'INVALID_IP_ADDRESS_SPECIFIED');
  assert.equal(code(await call(root, 'VIF.set_locking_mode', locked, 'open')), 'INVALID_VALUE');
  assert.deepEqual([await ok(root, 'VIF.get_locking_mode', unlocked), await ok(root, 'VIF.get_locking_mode', dflt)], ['unlocked', 'network_default'], 'the record as the running VM has it');
  await ok(root, 'VM.hard_shutdown', vm);
  await ok(root, 'VM.destroy', vm);
});

test('network.default_locking_mode: unlocked at first; disabled, its network_default VIFs plug disabled; not changed while a VIF on it is plugged (VIF_IN_USE)', async () => {
  const net = await ok<string>(root, 'network.create', { name_label: 'xc-dlm', bridge: 'xcbr8' });
  assert.equal(await ok(root, 'network.get_default_locking_mode', net), 'unlocked');
  assert.equal(code(await call(root, 'network.set_default_locking_mode', net, 'locked')), 'INVALID_VALUE');
  await ok(root, 'network.set_default_locking_mode', net, 'disabled');
  assert.equal((await ok<Record<string, unknown>>(root, 'network.get_record', net))['default_locking_mode'], 'disabled');
  const vm = await ok<string>(root, 'VM.create', vmArgs('xc-dlm'));
  const base = { VM: vm, network: net, MAC: '', MTU: '1500', other_config: {} };
  const dflt = await ok<string>(root, 'VIF.create', { ...base, device: '0' });
  await ok<string>(root, 'VIF.create', { ...base, device: '1', locking_mode: 'unlocked' });
  await ok(root, 'VM.start', vm, false, false);
  const domid = await ok<number>(root, 'VM.get_domid', vm);
  const be = (devid: number) => x.local.host.xs.readOptional(`/local/domain/0/backend/vif/${domid}/${devid}/locking-mode`);
  assert.deepEqual([await be(0), await be(1)], ['disabled', 'unlocked'], "the network's default for the first, its own for the second");
  assert.equal(await ok(root, 'VIF.get_locking_mode', dflt), 'network_default', 'the VIF record keeps its own');
  const busy = await call(root, 'network.set_default_locking_mode', net, 'unlocked');
  assert.equal(code(busy), 'VIF_IN_USE');
  assert.equal(await ok(root, 'network.get_default_locking_mode', net), 'disabled');
  await ok(root, 'VM.hard_shutdown', vm);
  await ok(root, 'network.set_default_locking_mode', net, 'unlocked');
  await ok(root, 'VM.start', vm, false, false);
  const again = await ok<number>(root, 'VM.get_domid', vm);
  assert.equal(await x.local.host.xs.readOptional(`/local/domain/0/backend/vif/${again}/0/locking-mode`), undefined, 'unlocked: the MAC check, no node');
  await ok(root, 'VM.hard_shutdown', vm);
  await ok(root, 'VM.destroy', vm);
});

test('VBD.create and VIF.create give a halted VM a disk and a vif it boots with; destroy takes them away; network.create', async () => {
  const net = await ok<string>(root, 'network.create', { name_label: 'xc-lab', bridge: 'xcbr0' });
  assert.equal(await ok(root, 'network.get_bridge', net), 'xcbr0');
  assert.equal(code(await call(root, 'network.create', { name_label: 'again', bridge: 'xcbr0' })), 'OPERATION_NOT_ALLOWED');
  const vdi = (await x.local.api.call('vdiCreate', { sr: 'default', name: 'xc-vbd', size: '1M' })).uuid;
  const vdiRef = await ok<string>(root, 'VDI.get_by_uuid', vdi);
  const vm = await ok<string>(root, 'VM.create', vmArgs('xc-devices'));
  const vbd = await ok<string>(root, 'VBD.create', { VM: vm, VDI: vdiRef, userdevice: 'autodetect', mode: 'RW', type: 'Disk', bootable: true, empty: false, other_config: {} });
  const vif = await ok<string>(root, 'VIF.create', { VM: vm, network: net, device: '0', MAC: '', MTU: '1500', other_config: {} });
  const b = await ok<Record<string, unknown>>(root, 'VBD.get_record', vbd);
  assert.deepEqual([b['device'], b['userdevice'], b['VDI'], b['currently_attached']], ['xvda', '0', vdiRef, false]);
  assert.deepEqual(await ok(root, 'VDI.get_VBDs', vdiRef), [vbd]);
  const mac = await ok<string>(root, 'VIF.get_MAC', vif);
  assert.match(mac, /^00:16:3e:/, 'a persistent VM gets its MAC once');
  assert.deepEqual(await ok(root, 'network.get_VIFs', net), [vif]);
  await ok(root, 'VM.start', vm, false, false);
  assert.equal(await ok(root, 'VBD.get_currently_attached', vbd), true);
  assert.equal(await ok(root, 'VIF.get_MAC', vif), mac);
  const domid = await ok<number>(root, 'VM.get_domid', vm);
  assert.equal((await x.local.api.call('blockList', { domain: domid }))[0]!.vdev, 'xvda');
  assert.equal((await x.local.api.call('networkList', { domain: domid }))[0]!.mac, mac);
  // Each device's counters, for the per-VBD and per-VIF data sources (vbd_xvda_read, vif_0_tx).
  const dev = (await x.local.api.call('deviceStats', {})).find((d) => d.domid === domid);
  assert.deepEqual([dev?.vbds.map((v) => v.vdev), dev?.vifs.map((v) => v.devid)], [['xvda'], [0]]);
  assert.equal(code(await call(root, 'VBD.destroy', vbd)), 'OPERATION_NOT_ALLOWED', 'an attached VBD cannot go: unplug it first');
  await ok(root, 'VM.hard_shutdown', vm);
  await ok(root, 'VBD.destroy', vbd);
  await ok(root, 'VIF.destroy', vif);
  assert.deepEqual([await ok(root, 'VM.get_VBDs', vm), await ok(root, 'VM.get_VIFs', vm)], [[], []]);
  await ok(root, 'VM.destroy', vm);
});

test("VBD setters change the halted VM's configuration (a restart sees them); VBD and VIF other_config; hostile calls refused as XAPI refuses them", async () => {
  const net = await ok<string>(root, 'network.create', { name_label: 'xc-set', bridge: 'xcbr5' });
  const vdis = await Promise.all(['xc-set-a', 'xc-set-b'].map(async (name) => ok<string>(root, 'VDI.get_by_uuid', (await x.local.api.call('vdiCreate', { sr: 'default', name, size: '1M' })).uuid)));
  const vm = await ok<string>(root, 'VM.create', vmArgs('xc-setters'));
  const disk = (VDI: string) => ({ VM: vm, VDI, userdevice: 'autodetect', mode: 'RW', type: 'Disk', bootable: false, empty: false, other_config: {} });
  const a = await ok<string>(root, 'VBD.create', disk(vdis[0]!));
  const b = await ok<string>(root, 'VBD.create', disk(vdis[1]!));
  const vif = await ok<string>(root, 'VIF.create', { VM: vm, network: net, device: '0', MAC: '', MTU: '1500', other_config: {} });

  await ok(root, 'VBD.set_mode', b, 'RO');
  await ok(root, 'VBD.set_userdevice', b, '3');
  await ok(root, 'VBD.set_bootable', b, true);
  const rec = await ok<Record<string, unknown>>(root, 'VBD.get_record', b);
  assert.deepEqual([rec['mode'], rec['userdevice'], rec['device'], rec['bootable']], ['RO', '3', 'xvdd', true], 'the same VBD ref, moved');
  assert.equal(await ok(root, 'VBD.get_bootable', a), false);
  const stored = await x.local.host.db.read((tx) => tx.VM.get(vm).xenode_config);
  assert.match(JSON.stringify(stored), /xvdd/, "the VM's stored configuration has the change");

  await ok(root, 'VBD.add_to_other_config', a, 'owner', 'alice');
  await ok(root, 'VBD.set_other_config', b, { tier: 'gold' });
  await ok(root, 'VIF.add_to_other_config', vif, 'owner', 'bob');
  await ok(root, 'VIF.set_other_config', vif, { role: 'frontend' });
  assert.deepEqual(await ok(root, 'VIF.get_other_config', vif), { role: 'frontend' });
  assert.equal((await ok<Record<string, string>>(root, 'VBD.get_other_config', b))['tier'], 'gold');
  await ok(root, 'VBD.remove_from_other_config', b, 'tier');
  assert.equal((await ok<Record<string, string>>(root, 'VBD.get_other_config', b))['tier'], undefined);

  // Hostile: a bad ref, a ref of another class, a bad mode or userdevice, a taken userdevice, xenode's own keys.
  const NULL = 'OpaqueRef:00000000-0000-0000-0000-000000000000';
  assert.equal(code(await call(root, 'VBD.set_mode', NULL, 'RO')), 'HANDLE_INVALID');
  assert.equal(code(await call(root, 'VBD.set_mode', vif, 'RO')), 'HANDLE_INVALID');
  assert.equal(code(await call(root, 'VIF.add_to_other_config', a, 'k', 'v')), 'HANDLE_INVALID');
  assert.equal(code(await call(root, 'VBD.set_mode', a, 'rw')), 'INVALID_VALUE');
  assert.equal(code(await call(root, 'VBD.set_userdevice', a, 'xvdz')), 'INVALID_VALUE');
  assert.equal(code(await call(root, 'VBD.set_userdevice', a, '3')), 'DEVICE_ALREADY_EXISTS');
  assert.equal(code(await call(root, 'VBD.add_to_other_config', a, 'xenode-created', 'x')), 'OPERATION_NOT_ALLOWED');
  assert.equal(code(await call(root, 'VIF.set_other_config', vif, { 'xenode-x': '1' })), 'OPERATION_NOT_ALLOWED');
  assert.equal(code(await call(root, 'VBD.add_to_other_config', a, 'target', '/etc/passwd')), 'OPERATION_NOT_ALLOWED');

  // A running VM boots from the moved, read-only disk first; its disks' mode is not changed under it.
  await ok(root, 'VM.start', vm, false, false);
  const domid = await ok<number>(root, 'VM.get_domid', vm);
  const disks = await x.local.api.call('blockList', { domain: domid });
  assert.deepEqual(disks.map((d) => d.vdev).sort(), ['xvda', 'xvdd']);
  const mode = (vdev: string) => x.local.host.xs.readOptional(`${disks.find((d) => d.vdev === vdev)!.backendPath}/mode`);
  assert.deepEqual([await mode('xvdd'), await mode('xvda')], ['r', 'w'], "the backend's mode nodes");
  assert.deepEqual([await ok(root, 'VBD.get_bootable', b), await ok(root, 'VBD.get_bootable', a)], [true, false]);
  assert.equal(code(await call(root, 'VBD.set_mode', a, 'RO')), 'VM_BAD_POWER_STATE');
  assert.equal(code(await call(root, 'VBD.set_userdevice', a, '5')), 'VM_BAD_POWER_STATE');
  await ok(root, 'VBD.add_to_other_config', a, 'live', 'yes');
  await ok(root, 'VM.hard_shutdown', vm);
  assert.deepEqual(await ok(root, 'VBD.get_other_config', a).then((o) => [(o as Record<string, string>)['owner'], (o as Record<string, string>)['live']]), ['alice', 'yes'], 'kept through start and shutdown');
  for (const d of [a, b]) await ok(root, 'VBD.destroy', d);
  await ok(root, 'VIF.destroy', vif);
  await ok(root, 'VM.destroy', vm);
});

test("host.send_debug_keys has the hypervisor dump into the host log, as xenode debug-keys; a key it does not know is INVALID_VALUE and dumps nothing", async () => {
  const [host] = await ok<string[]>(root, 'host.get_all');
  const dumps = async () => (await ok<string>(root, 'host.dmesg', host)).split(EVTCHN_DUMP_HEADER).length - 1;
  const before = await dumps();
  assert.equal(await ok(root, 'host.send_debug_keys', host, 'e'), '');
  assert.equal(await dumps(), before + 1);
  const r = await call(root, 'host.send_debug_keys', host, 'ez');
  assert.deepEqual([r.error?.message, r.error?.data[0], r.error?.data[1]], ['INVALID_VALUE', 'keys', 'ez'], JSON.stringify(r));
  assert.match(r.error!.data[2]!, /debug key 'z' is not handled/);
  // The keys are echoed cut short: the answer does not grow with what the caller sent.
  const long = await call(root, 'host.send_debug_keys', host, 'z'.repeat(10_000));
  assert.deepEqual([long.error?.message, long.error?.data[1]], ['INVALID_VALUE', 'z'.repeat(64)]);
  assert.equal(await dumps(), before + 1);
  assert.equal(code(await call(root, 'host.send_debug_keys', 'OpaqueRef:00000000-0000-0000-0000-000000000000', 'e')), 'HANDLE_INVALID');
});
