// XenAPI calls over an in-process host: roles checked on every call (a sample per role), the
// power operations through the command layer with XAPI's VM_BAD_POWER_STATE, Async.* tasks,
// event.from and event.inject with tokens, sessions that end, and failed logins rate-limited.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { XAPI_ROLES, type XapiRole } from '../../../src/toolstack/contract.js';
import { GUESTS, jsonCall, rootSession, startInProcessXapi, type InProcessXapi } from '../../support/xapi.js';

let x: InProcessXapi;
let root: string;

before(async () => {
  // The root session must outlive a test that a loaded machine stretches past a minute (the RBAC
  // one took 67 s at load 20): idle expiry is not what this file tests.
  x = await startInProcessXapi('xapi-service', { sessions: { idleMs: 3600_000 }, logins: { failures: 3 } });
  root = await rootSession(x.unix);
});
after(() => x.close());

type Reply = Awaited<ReturnType<typeof jsonCall>>;
const code = (r: Reply) => r.error?.message;

async function call(session: string, method: string, ...params: unknown[]): Promise<Reply> {
  return jsonCall(x.unix, method, [session, ...params]);
}

async function ok<T>(session: string, method: string, ...params: unknown[]): Promise<T> {
  const r = await call(session, method, ...params);
  assert.equal(r.error, undefined, `${method}: ${JSON.stringify(r.error)}`);
  return r.result as T;
}

async function guest(name: string): Promise<string> {
  const file = join(x.dir, `${name}.cfg`);
  writeFileSync(file, `name = "${name}"\nkernel = "${join(GUESTS, 'ticker.ts')}"\nmemory = 32\n`);
  const { domid } = await x.local.api.call('create', { file });
  const refs = await ok<string[]>(root, 'VM.get_by_name_label', name);
  assert.equal(refs.length, 1);
  assert.equal(await ok(root, 'VM.get_domid', refs[0]), domid);
  return refs[0]!;
}

test('each role may make the calls of its rank and is refused the rest with RBAC_PERMISSION_DENIED', async () => {
  const host = (await ok<string[]>(root, 'host.get_all'))[0]!;
  const dom0 = (await ok<string[]>(root, 'VM.get_by_name_label', 'Domain-0'))[0]!;
  // The least role each sample call needs (dom0 refuses power operations, after the role check).
  const samples: [string, unknown[], XapiRole, string | undefined][] = [
    ['VM.get_all_records', [], 'read-only', undefined],
    ['host.get_servertime', [host], 'read-only', undefined],
    ['VM.pause', [dom0], 'vm-operator', 'OPERATION_NOT_ALLOWED'],
    ['Async.VM.hard_shutdown', [dom0], 'vm-operator', undefined],
    ['host.dmesg', [host], 'pool-operator', undefined],
  ];
  for (const role of XAPI_ROLES) {
    const s = await x.login(role);
    assert.equal(await ok(s, 'session.get_this_user'), `u-${role}`);
    for (const [method, params, need, after] of samples) {
      const r = await call(s, method, ...params);
      const allowed = XAPI_ROLES.indexOf(role) <= XAPI_ROLES.indexOf(need);
      assert.equal(code(r), allowed ? after : 'RBAC_PERMISSION_DENIED', `${role} ${method}`);
    }
  }
});

test('VM power operations go through the command layer; a VM in the wrong state gets VM_BAD_POWER_STATE', async () => {
  const vm = await guest('svc-power');
  assert.equal(await ok(root, 'VM.get_power_state', vm), 'Running');
  assert.deepEqual(await ok(root, 'VM.get_allowed_operations', vm), ['clean_shutdown', 'hard_shutdown', 'clean_reboot', 'hard_reboot', 'pause', 'suspend', 'pool_migrate', 'migrate_send', 'snapshot']);
  await ok(root, 'VM.pause', vm);
  assert.equal(await ok(root, 'VM.get_power_state', vm), 'Paused');
  assert.deepEqual((await call(root, 'VM.clean_shutdown', vm)).error?.data, [vm, 'running', 'paused']);
  assert.equal(code(await call(root, 'VM.pause', vm)), 'VM_BAD_POWER_STATE');
  await ok(root, 'VM.unpause', vm);
  assert.deepEqual((await call(root, 'VM.unpause', vm)).error, { code: 1, message: 'VM_BAD_POWER_STATE', data: [vm, 'paused', 'running'] });
  // The CLI's view agrees: the same domain, running.
  const [d] = await x.local.api.call('list', { domains: ['svc-power'] });
  assert.equal(d!.state[2], '-');
  await ok(root, 'VM.hard_shutdown', vm);
  assert.deepEqual((await call(root, 'VM.get_record', vm)).error?.data, ['VM', vm]);
  assert.deepEqual(await ok(root, 'VM.get_by_name_label', 'svc-power'), []);
});

test('Async calls return a task that finishes through event.from; event.inject gives a token', async () => {
  const vm = await guest('svc-async');
  const pool = (await ok<string[]>(root, 'pool.get_all'))[0]!;
  const token = await ok<string>(root, 'event.inject', 'pool', pool);
  assert.match(token, /^[0-9]{20},[0-9]{20}$/);
  const task = await ok<string>(root, 'Async.VM.clean_shutdown', vm);
  let status = 'pending';
  let from = token;
  const seen = new Set<string>();
  for (let i = 0; i < 50 && (status === 'pending' || !seen.has(`vm/del/${vm}`)); i++) {
    const r = await ok<{ events: { class: string; operation: string; ref: string; snapshot?: { status: string } }[]; token: string; valid_ref_counts: Record<string, number> }>(
      root, 'event.from', ['task', 'VM'], from, 5.0);
    from = r.token;
    assert.ok('task' in r.valid_ref_counts && 'vm' in r.valid_ref_counts);
    for (const e of r.events) {
      seen.add(`${e.class}/${e.operation}/${e.ref}`);
      if (e.ref === task && e.snapshot) status = e.snapshot.status;
    }
  }
  assert.equal(status, 'success');
  assert.ok(seen.has(`vm/del/${vm}`), [...seen].join(' '));
  const rec = await ok<{ status: string; result: string; name_label: string }>(root, 'task.get_record', task);
  assert.equal(rec.name_label, 'Async.VM.clean_shutdown');
  // Another user's task is not theirs to destroy.
  const other = await x.login('vm-admin');
  assert.equal(code(await call(other, 'task.destroy', task)), 'HANDLE_INVALID');
  await ok(root, 'task.destroy', task);
  assert.equal(code(await call(root, 'task.get_record', task)), 'HANDLE_INVALID');
  assert.equal(code(await call(root, 'event.from', ['*'], 'not-a-token', 0)), 'EVENT_FROM_TOKEN_PARSE_FAILURE');
});

test('logout and a replaced user end sessions; failed logins from a source are limited', async () => {
  const s = await x.login('read-only');
  await ok(s, 'VM.get_all');
  await ok(s, 'session.logout');
  assert.equal(code(await call(s, 'VM.get_all')), 'SESSION_INVALID');
  const t = await x.login('vm-admin');
  await x.users.add('u-vm-admin', 'read-only', 'new password');
  assert.equal(code(await call(t, 'VM.get_all')), 'SESSION_INVALID');
  // Three failures from one source, then even the right password is refused for a while.
  for (let i = 0; i < 3; i++) assert.equal(code(await jsonCall(x.tcp, 'session.login_with_password', ['u-vm-admin', 'wrong'])), 'SESSION_AUTHENTICATION_FAILED');
  const r = await jsonCall(x.tcp, 'session.login_with_password', ['u-vm-admin', 'new password']);
  assert.equal(code(r), 'SESSION_AUTHENTICATION_FAILED');
  assert.match(r.error!.data[1]!, /too many failed logins/);
  // Root on the local socket needs no password, and is not limited.
  assert.equal(typeof (await jsonCall(x.unix, 'session.login_with_password', ['root', 'anything'])).result, 'string');
  // Root over TCP is an ordinary user: there is none by that name.
  assert.equal(code(await jsonCall(x.tcp, 'session.login_with_password', ['root', ''])), 'SESSION_AUTHENTICATION_FAILED');
});

test('system.listMethods names every call served, Async forms included', async () => {
  const r = await jsonCall(x.unix, 'system.listMethods', []);
  const names = r.result as string[];
  for (const m of ['session.login_with_password', 'VM.get_all_records', 'VM.clean_shutdown', 'Async.VM.clean_shutdown', 'event.from', 'host.dmesg', 'pool.get_all_records', 'task.get_all_records']) {
    assert.ok(names.includes(m), m);
  }
});
