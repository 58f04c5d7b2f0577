// XAPI's suspend, resume and cross-host migration through Xen Orchestra's client (the npm
// package xen-api): VM.suspend puts the image in a suspend VDI (suspend_VDI) and leaves the VM
// Suspended, VM.resume runs it again from there and the VDI goes, hard_shutdown of a suspended
// VM discards the image; host.migrate_receive on a second host on loopback hands out where and
// with what token to send, and VM.migrate_send moves the VM there (the command layer's save,
// restore and migrate rows, each run as a task whose progress the Async.* task mirrors, and
// which task.cancel cancels).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startDaemonRig, type DaemonRig } from '../support/host-daemon.js';
import { askKv } from '../support/kv.js';
import type { XapiRole } from '../../src/toolstack/contract.js';
import { GUESTS, xenApiClient, type XenApiClient } from '../support/xapi.js';

const MiB = 2 ** 20;
const KV = fileURLToPath(new URL('../../../examples/kv-store/kv.ts', import.meta.url));
const T = { timeout: 120_000 };
let a: DaemonRig;
let b: DaemonRig;
let xa: XenApiClient;
let xb: XenApiClient;

async function client(r: DaemonRig, role: XapiRole): Promise<XenApiClient> {
  await r.ts.call('userAdd', { name: 'mover', role, password: 'elsewhere' });
  const x = await xenApiClient(`https://127.0.0.1:${r.daemon.xapi.server.port}`, 'mover', 'elsewhere');
  await x.connect();
  return x;
}

before(async () => {
  a = await startDaemonRig('xapi-mig-a', { xapiPort: 0 });
  b = await startDaemonRig('xapi-mig-b', { xapiPort: 0, migrationListen: { address: '127.0.0.1', port: 0 } });
  // host.migrate_receive (on b) needs pool-admin: its token lets the sender name a kernel b loads.
  [xa, xb] = await Promise.all([client(a, 'vm-power-admin'), client(b, 'pool-admin')]);
});
after(async () => {
  await Promise.all([xa?.disconnect(), xb?.disconnect()]);
  await a?.close();
  await b?.close();
});

const fails = (code: string) => (e: Error & { code?: string }) => {
  assert.equal(e.code, code, e.message);
  return true;
};

/**
 * Every progress an Async task reported, from its events (each change is one: event.from from a
 * token taken before the call), until it is no longer pending; each also to `seen`. The task's
 * own changes are not sampled here, but the task samples the command layer's (viaTask polls it):
 * a step between two polls shows only if the operation waits for it to be seen (see VM.suspend's test).
 */
async function taskProgress(x: XenApiClient, start: () => Promise<string>, seen?: (p: number) => void): Promise<{ task: string; progress: number[] }> {
  const [pool] = await x.call('pool.get_all') as string[];
  let from = await x.call('event.inject', 'pool', pool) as string;
  const task = await start();
  const progress: number[] = [];
  let status = 'pending';
  // Bounded: each event.from waits up to 30 s for events, and a task has a handful.
  for (let i = 0; i < 100 && status === 'pending'; i++) {
    const r = await x.call('event.from', ['task'], from, 30) as { events: { ref: string; snapshot?: { status: string; progress: number } }[]; token: string };
    from = r.token;
    for (const e of r.events) {
      if (e.ref !== task || !e.snapshot) continue;
      progress.push(Number(e.snapshot.progress));
      seen?.(Number(e.snapshot.progress));
      status = e.snapshot.status;
    }
  }
  return { task, progress };
}

function ticker(x: XenApiClient, name: string): Promise<string> {
  return x.call('VM.create', { name_label: name, PV_kernel: join(GUESTS, 'ticker.ts'), memory_static_max: String(32 * MiB) }) as Promise<string>;
}

test('VM.suspend keeps the image in a suspend VDI; VM.resume runs the VM from it; hard_shutdown discards it', T, async () => {
  const vm = await ticker(xa, 'xs-suspend');
  await assert.rejects(xa.call('VM.suspend', vm), fails('VM_BAD_POWER_STATE'));
  await xa.call('VM.start', vm, false, false);
  // The command layer reports a quarter before it asks the guest to suspend; the XAPI task shows
  // it at its next poll. Under load the whole suspend once ended before that poll (progress 0,1),
  // so the guest's suspend waits (up to 30 s) until the quarter was seen.
  const host = a.daemon.local.host;
  const suspend = host.suspend;
  let midway!: () => void;
  const seenMidway = new Promise<void>((resolve) => (midway = resolve));
  host.suspend = async (...args) => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([seenMidway, new Promise((r) => (timer = setTimeout(r, 30_000)))]).finally(() => clearTimeout(timer));
    return suspend.apply(host, args);
  };
  const { task, progress } = await taskProgress(xa, () => xa.call('Async.VM.suspend', vm) as Promise<string>, (p) => {
    if (p > 0 && p < 1) midway();
  }).finally(() => (host.suspend = suspend));
  assert.equal(await xa.call('task.get_status', task), 'success', JSON.stringify(await xa.call('task.get_error_info', task)));
  assert.equal(Number(await xa.call('task.get_progress', task)), 1);
  assert.ok(progress.some((p) => p > 0 && p < 1) && progress.every((p, i) => i === 0 || p >= progress[i - 1]!), `progress goes up while pending: ${progress}`);
  assert.equal(progress.at(-1), 1);
  assert.equal(await xa.call('VM.get_power_state', vm), 'Suspended');
  assert.equal(Number(await xa.call('VM.get_domid', vm)), -1);
  assert.deepEqual(await xa.call('VM.get_allowed_operations', vm), ['resume', 'resume_on', 'hard_shutdown', 'snapshot']);
  const vdi = await xa.call('VM.get_suspend_VDI', vm) as string;
  assert.equal(await xa.call('VDI.get_type', vdi), 'suspend');
  assert.ok(Number(await xa.call('VDI.get_physical_utilisation', vdi)) > 0, 'the image is in the VDI');
  await assert.rejects(xa.call('VM.start', vm, false, false), fails('VM_BAD_POWER_STATE'));

  await xa.callAsync('VM.resume', vm, false, false);
  assert.equal(await xa.call('VM.get_power_state', vm), 'Running');
  assert.equal(await xa.call('VM.get_suspend_VDI', vm), 'OpaqueRef:NULL');
  await assert.rejects(xa.call('VDI.get_record', vdi), fails('HANDLE_INVALID'));
  const domid = Number(await xa.call('VM.get_domid', vm));
  assert.equal((await a.ts.call('list', { domains: [domid] }))[0]!.name, 'xs-suspend');

  // Suspended again, then halted without resuming: the image goes.
  await xa.call('VM.suspend', vm);
  const again = await xa.call('VM.get_suspend_VDI', vm) as string;
  await xa.call('VM.hard_shutdown', vm);
  assert.equal(await xa.call('VM.get_power_state', vm), 'Halted');
  await assert.rejects(xa.call('VDI.get_record', again), fails('HANDLE_INVALID'));
  await xa.call('VM.destroy', vm);
});

test('host.migrate_receive and VM.migrate_send move a running VM to a second host on loopback', T, async () => {
  const vm = await ticker(xa, 'xs-mover');
  await xa.call('VM.start', vm, false, false);
  const [hostB] = await xb.call('host.get_all') as string[];
  const netB = await xb.call('network.get_by_uuid', (await b.ts.call('networkCreate', { name: 'mig-net', bridge: 'xenbr0' })).uuid) as string;
  // A vm-power-admin gets no token (it would name a kernel the host loads); a host that does not
  // listen has none to give anyway (calls.test.ts: OPERATION_NOT_ALLOWED for a pool-admin).
  const [hostA] = await xa.call('host.get_all') as string[];
  const netA = await xa.call('network.get_by_uuid', (await a.ts.call('networkCreate', { name: 'mig-net', bridge: 'xenbr0' })).uuid) as string;
  await assert.rejects(xa.call('host.migrate_receive', hostA, netA, {}), fails('RBAC_PERMISSION_DENIED'));
  const dest = await xb.call('host.migrate_receive', hostB, netB, {}) as Record<string, string>;
  assert.equal(dest['host'], hostB);
  assert.match(dest['token']!, /^[0-9a-f]{64}$/);
  await assert.rejects(xa.call('VM.migrate_send', vm, { ...dest, token: '0'.repeat(64) }, true, {}, {}, {}), (e: Error & { code?: string }) => e.code !== undefined);
  assert.equal(await xa.call('VM.get_power_state', vm), 'Running', 'a refused migration leaves the VM running here');
  // VM.pool_migrate within a pool of one host: to its own host (XAPI's localhost migration),
  // the same VM in a new domain; another host's ref is not this pool's.
  await assert.rejects(xa.call('VM.pool_migrate', vm, hostB, {}), fails('HANDLE_INVALID'));
  const before = Number(await xa.call('VM.get_domid', vm));
  const { task, progress } = await taskProgress(xa, () => xa.call('Async.VM.pool_migrate', vm, hostA, {}) as Promise<string>);
  assert.equal(await xa.call('task.get_status', task), 'success', JSON.stringify(await xa.call('task.get_error_info', task)));
  assert.deepEqual(progress, [...progress].sort((x, y) => x - y), 'progress only goes up');
  assert.equal(await xa.call('VM.get_power_state', vm), 'Running');
  assert.notEqual(Number(await xa.call('VM.get_domid', vm)), before, 'a new domain');
  assert.equal(await xa.call('VM.get_resident_on', vm), hostA);
  assert.equal(await xa.call('VM.get_suspend_VDI', vm), 'OpaqueRef:NULL', 'the image went with the resume');

  await xa.callAsync('VM.migrate_send', vm, dest, true, {}, {}, {});
  await assert.rejects(xa.call('VM.get_record', vm), fails('HANDLE_INVALID'));
  const there = await xb.call('VM.get_by_name_label', 'xs-mover') as string[];
  assert.equal(there.length, 1);
  assert.equal(await xb.call('VM.get_power_state', there[0]), 'Running');
  assert.equal(a.daemon.local.host.domains().some((d) => d.name.startsWith('xs-mover')), false, 'it runs in one place');
  await xb.call('VM.hard_shutdown', there[0]);
});

test('task.cancel stops a VM.migrate_send in flight: the task ends cancelled and the VM runs on here', T, async () => {
  const vm = await ticker(xa, 'xs-stayer');
  await xa.call('VM.start', vm, false, false);
  const domid = Number(await xa.call('VM.get_domid', vm));
  const [hostB] = await xb.call('host.get_all') as string[];
  const [netB] = await xb.call('network.get_all') as string[];
  const dest = await xb.call('host.migrate_receive', hostB, netB, {}) as Record<string, string>;
  // A destination that takes the connection and then says nothing: the migration waits there until cancelled.
  const held: Socket[] = [];
  const silent = createServer((s) => void held.push(s.on('error', () => {})));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const connected = once(silent, 'connection');
    const task = await xa.call('Async.VM.migrate_send', vm, { ...dest, migration: `127.0.0.1:${(silent.address() as AddressInfo).port}` }, true, {}, {}, {}) as string;
    await connected;
    // Until the command layer's task is under way, the XenAPI task cannot be cancelled yet.
    for (let i = 0; ; i++) {
      try {
        await xa.call('task.cancel', task);
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'OPERATION_NOT_ALLOWED' || i === 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    let status = await xa.call('task.get_status', task) as string;
    for (const end = Date.now() + 10_000; (status === 'pending' || status === 'cancelling') && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 20));
      status = await xa.call('task.get_status', task) as string;
    }
    assert.equal(status, 'cancelled');
    assert.deepEqual(await xa.call('task.get_error_info', task), ['TASK_CANCELLED', task]);
    assert.deepEqual([await xa.call('VM.get_power_state', vm), Number(await xa.call('VM.get_domid', vm))], ['Running', domid], 'the VM runs on here');
    // A finished task cannot be cancelled.
    await assert.rejects(xa.call('task.cancel', task), fails('OPERATION_NOT_ALLOWED'));
  } finally {
    for (const s of held) s.destroy();
    silent.close();
  }
  await xa.call('VM.hard_shutdown', vm);
});

/** A kv-store VM (it uses its disk) on a new raw VDI of host a's default SR, through XenAPI. */
async function kvVm(name: string, sr: string): Promise<{ vm: string; vdi: string }> {
  const uuid = (await a.ts.call('vdiCreate', { sr, name: `${name}-disk`, size: '4M' })).uuid;
  const vdi = await xa.call('VDI.get_by_uuid', uuid) as string;
  const vm = await xa.call('VM.create', { name_label: name, PV_kernel: KV, PV_args: 'serve', memory_static_max: String(32 * MiB) }) as string;
  await xa.call('VBD.create', { VM: vm, VDI: vdi, userdevice: '0', mode: 'RW', type: 'Disk', bootable: true, empty: false, other_config: {} });
  return { vm, vdi };
}

test('VM.migrate_send with a vdi_map moves the VM and its disk into the SR the map names on the second host', T, async () => {
  const { vm, vdi } = await kvVm('xs-disk-mover', 'default');
  await xa.call('VM.start', vm, false, false);
  const [hostB] = await xb.call('host.get_all') as string[];
  const [netB] = await xb.call('network.get_all') as string[];
  const dest = await xb.call('host.migrate_receive', hostB, netB, {}) as Record<string, string>;
  const defaultB = await xb.call('pool.get_default_SR', (await xb.call('pool.get_all') as string[])[0]) as string;
  assert.equal(dest[`SR:${defaultB}`], await xb.call('SR.get_uuid', defaultB), 'the dest map names the destination\'s SRs');
  await assert.rejects(xa.call('VM.migrate_send', vm, dest, true, {}, {}, {}), fails('VDI_NOT_IN_MAP'));
  await assert.rejects(xa.call('VM.migrate_send', vm, dest, true, { [vdi]: 'OpaqueRef:nowhere' }, {}, {}), fails('HANDLE_INVALID'));
  assert.equal(await xa.call('VM.get_power_state', vm), 'Running');

  await xa.callAsync('VM.migrate_send', vm, dest, true, { [vdi]: defaultB }, {}, {});
  await assert.rejects(xa.call('VM.get_record', vm), fails('HANDLE_INVALID'));
  const [there] = await xb.call('VM.get_by_name_label', 'xs-disk-mover') as string[];
  assert.equal(await xb.call('VM.get_power_state', there), 'Running');
  const [vbd] = await xb.call('VM.get_VBDs', there) as string[];
  const moved = await xb.call('VBD.get_VDI', vbd) as string;
  assert.deepEqual([await xb.call('VDI.get_SR', moved), await xb.call('VDI.get_name_label', moved)], [defaultB, 'xs-disk-mover-disk']);
  // The guest serves from its disk there.
  const domid = Number(await xb.call('VM.get_domid', there));
  assert.equal(await askKv(b.daemon.local.host, domid, 'set k v'), 'ok');
  await xb.call('VM.hard_shutdown', there);
});

test('VM.migrate_send of a VDI the mirror cannot move (a RAM SR\'s) is VALUE_NOT_SUPPORTED, and the VM runs on here', T, async () => {
  const ram = (await a.ts.call('srCreate', { name: 'xs-ram', type: 'ram' })).uuid;
  const { vm, vdi } = await kvVm('xs-ram-disk', ram);
  await xa.call('VM.start', vm, false, false);
  const [hostB] = await xb.call('host.get_all') as string[];
  const [netB] = await xb.call('network.get_all') as string[];
  const dest = await xb.call('host.migrate_receive', hostB, netB, {}) as Record<string, string>;
  const srB = Object.keys(dest).find((k) => k.startsWith('SR:'))!.slice(3);
  await assert.rejects(xa.call('VM.migrate_send', vm, dest, true, { [vdi]: srB }, {}, {}), fails('VALUE_NOT_SUPPORTED'));
  assert.equal(await xa.call('VM.get_power_state', vm), 'Running');
  await xa.call('VM.hard_shutdown', vm);
});
