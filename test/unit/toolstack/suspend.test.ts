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

test("vm-resume runs only its VM's own image: one whose configuration names another kernel (written over the suspend VDI) is refused, and the VM stays Suspended", async () => {
  const ts = local.api;
  // Two kernels whose paths are as long as each other, so that one can be written over the other in the image.
  for (const k of ['ticker.ts', 'tocker.ts']) copyFileSync(join(GUESTS, 'ticker.ts'), join(dir, k));
  const file = join(dir, 'forged.cfg');
  writeFileSync(file, `name = "forged"\nkernel = "${join(dir, 'ticker.ts')}"\nmemory = 32\n`);
  const { uuid } = await ts.call('vmImport', { file });
  await ts.call('vmStart', { vm: uuid });
  await ts.call('vmSuspend', { vm: uuid });
  const image = await local.host.db.read((tx) => {
    const vdi = tx.VDI.get(tx.VM.get(tx.VM.getByUuid(uuid)).suspend_VDI);
    return imagePath(srPath(tx, vdi.SR)!, vdi);
  });
  const bytes = readFileSync(image);
  const at = bytes.indexOf(join(dir, 'ticker.ts'));
  assert.ok(at > 0, 'the image names its kernel');
  bytes.write(join(dir, 'tocker.ts'), at);
  writeFileSync(image, bytes);
  await assert.rejects(ts.call('vmResume', { vm: uuid }), (e: Error) => /the image's kernel is not its VM's/.test(e.message));
  const vm = (await ts.call('vmList', {})).find((v) => v.uuid === uuid)!;
  assert.equal(vm.powerState, 'Suspended');
  await ts.call('vmResume', { vm: uuid, discard: true });
});
