// Cancelling vm-suspend and vm-resume tasks (task.cancel of XAPI's Async.VM.suspend and
// Async.VM.resume): a suspend cancelled before or while its image is written leaves the VM
// running in the same domain with no suspend VDI; a resume cancelled before its domain is built
// leaves the VM Suspended on its image, which a later resume still runs from.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TaskInfo, TaskOp, TaskCall } from '../../../src/toolstack/contract.js';
import type { LocalHost } from '../../../src/toolstack/local.js';
import { cancelledTask, localHostForTests } from '../../support/local-host.js';
import { GUESTS } from '../../support/xapi.js';
import { imagePath, srPath } from '../../../src/storage/sr.js';

let dir: string;
let local: LocalHost;
localHostForTests('suspend', (l, d) => ((local = l), (dir = d)));

/** Submit `call` as a task, cancel it at once, and wait for its end. */
const cancelled = (call: TaskCall): Promise<TaskInfo> => cancelledTask(local, call);

const suspendVdis = async () => (await local.api.call('vdiList', {})).filter((v) => v.type === 'suspend' || v.name_label.startsWith('Suspend image'));

test('a cancelled vm-suspend leaves the VM running; a cancelled vm-resume leaves it Suspended', async () => {
  const ts = local.api;
  const file = join(dir, 'sleeper.cfg');
  writeFileSync(file, `name = "sleeper"\nkernel = "${join(GUESTS, 'ticker.ts')}"\nmemory = 32\n`);
  const { uuid } = await ts.call('vmImport', { file });
  const { domid } = await ts.call('vmStart', { vm: uuid });
  const vm = async () => (await ts.call('vmList', {})).find((v) => v.uuid === uuid)!;

  const op: TaskOp = 'vmSuspend';
  const s = await cancelled({ op, args: { vm: uuid } });
  assert.equal(s.status, 'cancelled', JSON.stringify(s));
  assert.deepEqual([(await vm()).powerState, (await vm()).domid], ['Running', domid], 'the same domain runs on');
  assert.deepEqual(await suspendVdis(), []);
  assert.equal((await ts.call('list', { domains: [domid] }))[0]!.state.includes('p'), false, 'not left paused');

  await ts.call('vmSuspend', { vm: uuid });
  assert.equal((await vm()).powerState, 'Suspended');
  const r = await cancelled({ op: 'vmResume', args: { vm: uuid } });
  assert.equal(r.status, 'cancelled', JSON.stringify(r));
  assert.equal((await vm()).powerState, 'Suspended');
  assert.equal((await suspendVdis()).length, 1, 'the image stays');
  await ts.call('vmResume', { vm: uuid });
  assert.equal((await vm()).powerState, 'Running');
  assert.deepEqual(await suspendVdis(), []);
  await ts.call('destroy', { domain: (await vm()).domid });
});

/** `bytes`, a save image, with its configuration (the xl header's optional data, at 48) changed by `edit`. */
function withConfig(bytes: Buffer, edit: (c: Record<string, unknown>) => void): Buffer {
  const optLen = bytes.readUInt32LE(44);
  const c = JSON.parse(bytes.subarray(52, 48 + optLen - 1).toString()) as Record<string, unknown>;
  edit(c);
  const json = Buffer.from(`${JSON.stringify(c)}\0`);
  const head = Buffer.from(bytes.subarray(0, 48));
  head.writeUInt32LE(4 + json.length, 44);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  return Buffer.concat([head, len, json, bytes.subarray(48 + optLen)]);
}

test("vm-resume builds from its VM's record, not the image's configuration (written over the suspend VDI): a disk the VM has not is refused, another kernel or driver_domain is not taken", async () => {
  const ts = local.api;
  for (const k of ['ticker.ts', 'tocker.ts']) copyFileSync(join(GUESTS, 'ticker.ts'), join(dir, k));
  const secret = join(dir, 'secret.img');
  writeFileSync(secret, Buffer.alloc(1 << 20));
  const file = join(dir, 'forged.cfg');
  writeFileSync(file, `name = "forged"\nkernel = "${join(dir, 'ticker.ts')}"\nmemory = 32\n`);
  const { uuid } = await ts.call('vmImport', { file });
  await ts.call('vmStart', { vm: uuid });
  await ts.call('vmSuspend', { vm: uuid });
  const image = await local.host.db.read((tx) => {
    const vdi = tx.VDI.get(tx.VM.get(tx.VM.getByUuid(uuid)).suspend_VDI);
    return imagePath(srPath(tx, vdi.SR)!, vdi);
  });
  const saved = readFileSync(image);
  const record = () => local.host.db.read((tx) => tx.VM.get(tx.VM.getByUuid(uuid)));
  writeFileSync(image, withConfig(saved, (c) => {
    (c['disks'] as object[]).push({ target: secret, format: 'raw', vdev: 'xvdb', devid: 51728, access: 'rw', cdrom: false, specification: 'xen', directIoSafe: false, discard: false, trusted: true });
  }));
  await assert.rejects(ts.call('vmResume', { vm: uuid }), (e: Error) => /names a disk \(devid 51728\) the VM does not have/.test(e.message));
  assert.equal((await record()).power_state, 'Suspended');
  writeFileSync(image, withConfig(saved, (c) => Object.assign(c, { kernel: join(dir, 'tocker.ts'), driverDomain: true, cmdline: 'forged' })));
  const { domid } = await ts.call('vmResume', { vm: uuid });
  const r = await record();
  assert.equal(r.power_state, 'Running');
  const built = r.xenode_config as { kernel: string; driverDomain?: boolean; cmdline?: string; disks: unknown[] };
  assert.equal(built.kernel, join(dir, 'ticker.ts'));
  assert.equal(built.driverDomain, undefined);
  assert.equal(built.cmdline, undefined);
  assert.deepEqual(built.disks, []);
  await ts.call('destroy', { domain: domid });
});
