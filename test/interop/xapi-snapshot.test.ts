// XAPI's VM.snapshot, VM.clone, VM.copy and VM.revert through Xen Orchestra's client (the npm
// package xen-api), on the command layer's vmSnapshot/vmClone/vmCopy/vmRevert (vdi-snapshot,
// vdi-clone and vdi-copy underneath): a snapshot of a halted VM and a live one of a running VM
// whose guest has written its disk, a clone and a copy of a snapshot, a revert that brings the
// disk's old contents back; the records as XAPI has them (is_a_snapshot, snapshot_of,
// snapshots, VDI snapshot_of) and its errors for every wrong use (VM_IS_SNAPSHOT,
// VM_BAD_POWER_STATE, ONLY_REVERT_SNAPSHOT, HANDLE_INVALID, SR_OPERATION_NOT_SUPPORTED, SR_FULL).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { openDisk } from '../../src/storage/open.js';
import { FIXTURES } from '../support/cli.js';
import { startXapiRig, xenApiClient, type XapiRig, type XenApiClient } from '../support/xapi.js';

const run = promisify(execFile);
const MiB = 2 ** 20;
const T = { timeout: 120_000 };
const NULL_REF = 'OpaqueRef:NULL';
let rig: XapiRig;
let xapi: XenApiClient;

before(async () => {
  rig = await startXapiRig('xapi-snapshot');
  await rig.ts.call('userAdd', { name: 'snapper', role: 'vm-power-admin', password: 'point-in-time' });
  xapi = await xenApiClient(rig.url, 'snapper', 'point-in-time');
  await xapi.connect();
});
after(async () => {
  await xapi?.disconnect();
  await rig?.close();
});

const fails = (code: string, params?: (p: string[]) => void) => (e: Error & { code?: string; params?: string[] }) => {
  assert.equal(e.code, code, e.message);
  params?.(e.params ?? []);
  return true;
};

/** The first 4 KiB of a VDI, read through its image chain. */
async function firstBlock(vdiRef: string): Promise<Buffer> {
  const { location, sm_config: sm, SR } = await xapi.call('VDI.get_record', vdiRef) as { location: string; sm_config: Record<string, string>; SR: string };
  const pbd = (await xapi.call('SR.get_PBDs', SR) as string[])[0]!;
  const dir = (await xapi.call('PBD.get_device_config', pbd) as Record<string, string>)['location']!;
  const disk = await openDisk(`${sm['format']}:${join(dir, location)}`, { readOnly: true });
  try {
    const buf = Buffer.alloc(4096);
    await disk.read(0, [buf]);
    return buf;
  } finally {
    await disk.close();
  }
}

async function vmDisk(vm: string): Promise<string> {
  const [vbd] = await xapi.call('VM.get_VBDs', vm) as string[];
  return await xapi.call('VBD.get_VDI', vbd) as string;
}

/** A persistent VM running diskio.ts (it writes 7s over its first disk's first blocks) on a new VHD VDI. */
async function diskVm(name: string, format = 'vhd'): Promise<{ vm: string; vdi: string }> {
  const vm = await xapi.call('VM.create', { name_label: name, PV_kernel: join(FIXTURES, 'diskio.ts'), memory_static_max: String(32 * MiB) }) as string;
  const vdi = await xapi.call('VDI.get_by_uuid', (await rig.ts.call('vdiCreate', { sr: 'default', name: `${name}-disk`, size: '4M', format })).uuid) as string;
  await xapi.call('VBD.create', { VM: vm, VDI: vdi, userdevice: '0', mode: 'RW', type: 'Disk', other_config: {} });
  return { vm, vdi };
}

test('snapshot (halted and live), clone and copy of a snapshot, revert: records, disks and contents as XAPI has them', T, async () => {
  const { vm, vdi } = await diskVm('snap-web');
  const zeros = Buffer.alloc(4096);
  const sevens = Buffer.alloc(4096, 7);

  // A snapshot of the halted VM, as an Async call with its task.
  const before = await xapi.callAsync('VM.snapshot', vm, 'snap-before') as string;
  const rec = await xapi.call('VM.get_record', before) as Record<string, unknown>;
  assert.equal(rec['is_a_snapshot'], true);
  assert.equal(rec['snapshot_of'], vm);
  assert.equal(rec['power_state'], 'Halted');
  assert.equal(rec['name_label'], 'snap-before');
  assert.ok(Math.abs(Date.parse(String(rec['snapshot_time']).replace(/^(\d{4})(\d\d)(\d\d)T/, '$1-$2-$3T')) - Date.now()) < 60_000, String(rec['snapshot_time']));
  assert.deepEqual(rec['allowed_operations'], ['revert', 'clone', 'copy', 'destroy']);
  assert.deepEqual(await xapi.call('VM.get_snapshots', vm), [before]);
  const snapVdi = await vmDisk(before);
  assert.notEqual(snapVdi, vdi);
  const sv = await xapi.call('VDI.get_record', snapVdi) as Record<string, unknown>;
  assert.equal(sv['is_a_snapshot'], true);
  assert.equal(sv['snapshot_of'], vdi);
  assert.equal(sv['read_only'], true);
  assert.deepEqual(await xapi.call('VDI.get_snapshots', vdi), [snapVdi]);
  // The snapshot arrives in the client's event loop like any VM, and the VM's snapshots with it (a mod of the VM).
  const cached = xapi as XenApiClient & { getObjectByRef(ref: string, dflt: undefined): { is_a_snapshot: boolean; snapshots: string[] } | undefined };
  const inCache = () => cached.getObjectByRef(before, undefined) !== undefined && cached.getObjectByRef(vm, undefined)?.snapshots.includes(before);
  for (let i = 0; i < 400 && !inCache(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(cached.getObjectByRef(before, undefined)?.is_a_snapshot, true);
  assert.deepEqual(cached.getObjectByRef(vm, undefined)?.snapshots, [before]);
  assert.ok(Object.keys(await xapi.call('VM.get_all_records') as object).includes(before));

  // Snapshots are not started, nor snapshotted again (XAPI's check_snapshot).
  await assert.rejects(xapi.call('VM.start', before, false, false), fails('VM_IS_SNAPSHOT', (p) => assert.deepEqual(p, [before, 'start'])));
  await assert.rejects(xapi.call('VM.snapshot', before, 'again'), fails('VM_IS_SNAPSHOT', (p) => assert.deepEqual(p, [before, 'snapshot'])));

  // Live: the guest has written 7s; the snapshot taken under it has them.
  await xapi.call('VM.start', vm, false, false);
  const domid = Number(await xapi.call('VM.get_domid', vm));
  await rig.daemon.local.host.xs.wait(`/local/domain/${domid}/data/diskio`, (v) => v === 'done', { timeout: 15_000 });
  const live = await xapi.call('VM.snapshot', vm, 'snap-live') as string;
  assert.equal(await xapi.call('VM.get_power_state', vm), 'Running', 'a snapshot leaves the VM running');
  assert.deepEqual(new Set(await xapi.call('VM.get_snapshots', vm) as string[]), new Set([before, live]));
  assert.deepEqual(await firstBlock(await vmDisk(live)), sevens);
  assert.deepEqual(await firstBlock(snapVdi), zeros);

  // No memory checkpoints (a save image re-attaches the disks it was taken with).
  await assert.rejects(xapi.call('VM.checkpoint', vm, 'snap-mem'), fails('OPERATION_NOT_ALLOWED', (p) => assert.match(p[0]!, /memory checkpoints are not supported/)));
  // A running VM is not cloned or copied; a VM that is not a snapshot is not reverted to.
  await assert.rejects(xapi.call('VM.clone', vm, 'no'), fails('VM_BAD_POWER_STATE', (p) => assert.deepEqual(p, [vm, 'halted', 'running'])));
  await assert.rejects(xapi.call('VM.copy', vm, 'no', NULL_REF), fails('VM_BAD_POWER_STATE'));
  await assert.rejects(xapi.call('VM.revert', vm), fails('ONLY_REVERT_SNAPSHOT'));

  // A clone of the live snapshot: an ordinary halted VM on a writable clone sharing the base.
  const clone = await xapi.callAsync('VM.clone', live, 'snap-clone') as string;
  const cr = await xapi.call('VM.get_record', clone) as Record<string, unknown>;
  assert.equal(cr['is_a_snapshot'], false);
  assert.equal(cr['snapshot_of'], NULL_REF);
  assert.deepEqual(cr['allowed_operations'], ['start', 'start_on', 'destroy', 'snapshot', 'clone', 'copy']);
  const cloneVdi = await vmDisk(clone);
  const cv = await xapi.call('VDI.get_record', cloneVdi) as { read_only: boolean; sm_config: Record<string, string> };
  assert.equal(cv.read_only, false);
  assert.equal(cv.sm_config['vhd-parent'], await xapi.call('VDI.get_uuid', await vmDisk(live)), 'the clone shares the snapshot as its parent');
  assert.deepEqual(await firstBlock(cloneVdi), sevens);

  // A copy: a full, flattened image, with progress on its task.
  const task = await xapi.call('Async.VM.copy', live, 'snap-copy', NULL_REF) as string;
  let status = 'pending';
  while (status === 'pending') {
    await new Promise((r) => setTimeout(r, 20));
    status = await xapi.call('task.get_status', task) as string;
  }
  assert.equal(status, 'success', JSON.stringify(await xapi.call('task.get_error_info', task)));
  assert.equal(Number(await xapi.call('task.get_progress', task)), 1);
  const copy = /<value>(OpaqueRef:[^<]+)<\/value>/.exec(await xapi.call('task.get_result', task) as string)![1]!;
  const copyVdi = await vmDisk(copy);
  const pv = await xapi.call('VDI.get_record', copyVdi) as { sm_config: Record<string, string>; read_only: boolean };
  assert.equal(pv.sm_config['vhd-parent'], undefined, 'a copy has no parent');
  assert.equal(pv.read_only, false);
  assert.deepEqual(await firstBlock(copyVdi), sevens);
  // The copy and the clone boot.
  await xapi.call('VM.start', copy, false, false);
  await xapi.call('VM.hard_shutdown', copy);

  // Revert of the running VM to the first snapshot: it halts, its disk is a clone of the
  // snapshot's (zeros again), its old disk goes, and the snapshots stay the VM's.
  await xapi.callAsync('VM.revert', before);
  assert.equal(await xapi.call('VM.get_power_state', vm), 'Halted');
  const reverted = await vmDisk(vm);
  assert.notEqual(reverted, vdi);
  await assert.rejects(xapi.call('VDI.get_record', vdi), fails('HANDLE_INVALID'));
  assert.deepEqual(await firstBlock(reverted), zeros);
  assert.equal(await xapi.call('VDI.get_snapshot_of', snapVdi), reverted, "the VM's disk snapshots follow its new disk");
  assert.equal(await xapi.call('VDI.get_snapshot_of', await vmDisk(live)), reverted);
  assert.deepEqual(new Set(await xapi.call('VM.get_snapshots', vm) as string[]), new Set([before, live]));
  // It boots from the reverted disk, and the guest writes it again.
  await xapi.call('VM.start', vm, false, false);
  const again = Number(await xapi.call('VM.get_domid', vm));
  await rig.daemon.local.host.xs.wait(`/local/domain/${again}/data/diskio`, (v) => v === 'done', { timeout: 15_000 });
  await xapi.call('VM.hard_shutdown', vm);

  // A snapshot is destroyed like a halted VM; its VDI is then the client's to destroy.
  await xapi.call('VM.destroy', before);
  await assert.rejects(xapi.call('VM.get_record', before), fails('HANDLE_INVALID'));
  assert.deepEqual(await xapi.call('VM.get_snapshots', vm), [live]);
  // The reverted disk is a clone of that VDI: destroyed, it stays as the clone's hidden base (sm's "base copy").
  await xapi.call('VDI.destroy', snapVdi);
  assert.deepEqual([await xapi.call('VDI.get_managed', snapVdi), await xapi.call('VDI.get_is_a_snapshot', snapVdi)], [false, false]);
  await xapi.call('VDI.destroy', await vmDisk(clone));
  await assert.rejects(xapi.call('VDI.get_record', cloneVdi), fails('HANDLE_INVALID'));
});

test('hostile VM.snapshot/clone/copy/revert: forged and wrong-class refs, the control domain, a raw disk, a missing and a full SR', T, async () => {
  const { vm, vdi } = await diskVm('snap-hostile');
  const forged = 'OpaqueRef:00000000-0000-4000-8000-000000000000';
  for (const [method, args] of [['VM.snapshot', [forged, 'x']], ['VM.clone', ['OpaqueRef:forged', 'x']], ['VM.copy', [vdi, 'x', NULL_REF]], ['VM.revert', [forged]]] as const) {
    await assert.rejects(xapi.call(method, ...args), fails('HANDLE_INVALID', (p) => assert.equal(p[0], 'VM')), method);
  }
  await assert.rejects(xapi.call('VM.copy', vm, 'x', forged), fails('HANDLE_INVALID', (p) => assert.deepEqual(p, ['SR', forged])));
  await assert.rejects(xapi.call('VM.snapshot', vm), fails('MESSAGE_PARAMETER_COUNT_MISMATCH'));
  await assert.rejects(xapi.call('VM.snapshot', vm, 42), fails('FIELD_TYPE_ERROR'));
  const [dom0] = Object.entries(await xapi.call('VM.get_all_records') as Record<string, { is_control_domain: boolean }>).find(([, r]) => r.is_control_domain)!;
  await assert.rejects(xapi.call('VM.snapshot', dom0, 'x'), fails('OPERATION_NOT_ALLOWED'));
  await assert.rejects(xapi.call('VM.clone', dom0, 'x'), fails('OPERATION_NOT_ALLOWED'));
  await assert.rejects(xapi.call('VM.checkpoint', vm, 'x'), fails('VM_BAD_POWER_STATE', (p) => assert.deepEqual(p, [vm, 'running', 'halted'])));
  // A bad name for the new VM is the command layer's EINVAL.
  await assert.rejects(xapi.call('VM.clone', vm, '1234'), fails('OPERATION_NOT_ALLOWED'));

  // A raw VDI has no differencing images: it is copied, not snapshotted or cloned.
  const raw = await diskVm('snap-raw', 'raw');
  await assert.rejects(xapi.call('VM.snapshot', raw.vm, 'x'), fails('SR_OPERATION_NOT_SUPPORTED', (p) => assert.equal(p[0], raw.vm)));
  await assert.rejects(xapi.call('VM.clone', raw.vm, 'x'), fails('SR_OPERATION_NOT_SUPPORTED'));
  const rawCopy = await xapi.call('VM.copy', raw.vm, 'snap-raw-copy', NULL_REF) as string;
  assert.equal((await xapi.call('VDI.get_sm_config', await vmDisk(rawCopy)) as Record<string, string>)['format'], 'raw');
  // Nothing failed half way: no VM and no VDI left behind by the refusals.
  const names = Object.values(await xapi.call('VM.get_all_records') as Record<string, { name_label: string }>).map((r) => r.name_label);
  assert.ok(!names.includes('x') && !names.includes('1234'), names.join(','));
  assert.equal((await rig.ts.call('vdiList', {})).filter((v) => v.name_label.endsWith('(x)')).length, 0);

  // A copy into another SR lands there; into an SR with no room is SR_FULL, and leaves nothing.
  const other = join(rig.stateDir, 'sr-other');
  const sr = await xapi.call('SR.get_by_uuid', (await rig.ts.call('srCreate', { name: 'other', type: 'file', path: other })).uuid) as string;
  const moved = await xapi.callAsync('VM.copy', vm, 'snap-other', sr) as string;
  assert.equal(await xapi.call('VDI.get_SR', await vmDisk(moved)), sr);
  if (process.getuid?.() !== 0) {
    console.log('# SR_FULL half skipped: mounting a small tmpfs needs root');
    return;
  }
  // The guest fills its disk's first blocks, so the image holds data that a 4 KiB tmpfs cannot.
  await xapi.call('VM.start', vm, false, false);
  const domid = Number(await xapi.call('VM.get_domid', vm));
  await rig.daemon.local.host.xs.wait(`/local/domain/${domid}/data/diskio`, (v) => v === 'done', { timeout: 15_000 });
  await xapi.call('VM.hard_shutdown', vm);
  const tiny = join(rig.stateDir, 'sr-tiny');
  mkdirSync(tiny);
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=4k,mode=0700', 'xenode-test', tiny]).then(() => true, (e: Error) => {
    console.log(`# SR_FULL half skipped: mount -t tmpfs failed: ${e.message}`);
    return false;
  });
  if (!mounted) return;
  try {
    const full = await xapi.call('SR.get_by_uuid', (await rig.ts.call('srCreate', { name: 'tiny', type: 'file', path: tiny })).uuid) as string;
    await assert.rejects(xapi.callAsync('VM.copy', vm, 'snap-full', full), fails('SR_FULL', (p) => assert.ok(Number(p[0]) > Number(p[1]), p.join(','))));
    assert.deepEqual(await xapi.call('SR.get_VDIs', full), []);
    assert.ok(!Object.values(await xapi.call('VM.get_all_records') as Record<string, { name_label: string }>).some((r) => r.name_label === 'snap-full'));
  } finally {
    await run('umount', [tiny]).catch(() => {});
    rmSync(tiny, { recursive: true, force: true });
  }
});
