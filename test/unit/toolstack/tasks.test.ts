// Tasks of the command layer: progress reported by the operation through taskControl(),
// success with the result, failure with [errno, message], cancel through the AbortSignal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XenError } from '../../../src/errors.js';
import { Tasks, taskControl } from '../../../src/toolstack/tasks.js';

const settled = async (tasks: Tasks, uuid: string) => {
  for (let i = 0; i < 1000 && tasks.get(uuid).finished === null; i++) await new Promise((r) => setImmediate(r));
  return tasks.get(uuid);
};

test('a task reports its progress, then its result; a failing one its errno and message', async () => {
  const tasks = new Tasks();
  let step!: () => void;
  const t = tasks.start('vdiExport', async () => {
    taskControl()!.progress(1, 4);
    await new Promise<void>((r) => (step = r));
    return { file: '/x' };
  });
  assert.equal(t.status, 'pending');
  await new Promise((r) => setImmediate(r));
  assert.equal(tasks.get(t.uuid).progress, 0.25);
  step();
  const done = await settled(tasks, t.uuid);
  assert.equal(done.status, 'success');
  assert.deepEqual(done.result, { file: '/x' });
  assert.equal(done.progress, 1);
  const bad = tasks.start('vdiImport', async () => {
    throw new XenError('ENOSPC', 'the SR is full');
  });
  assert.deepEqual((await settled(tasks, bad.uuid)).error_info, ['ENOSPC', 'ENOSPC: the SR is full']);
  assert.equal(tasks.get(bad.uuid).status, 'failure');
  assert.equal(taskControl(), undefined, 'outside a task there is none');
});

test('cancel aborts the signal the operation checks; the task ends cancelled', async () => {
  const tasks = new Tasks();
  const t = tasks.start('srGc', async () => {
    const { signal } = taskControl()!;
    for (let i = 0; i < 10_000; i++) {
      signal.throwIfAborted();
      await new Promise((r) => setImmediate(r));
    }
    return 'not cancelled';
  });
  assert.equal(tasks.cancel(t.uuid).status, 'cancelling');
  const done = await settled(tasks, t.uuid);
  assert.equal(done.status, 'cancelled');
  assert.equal(done.error_info[0], 'EINTR');
  assert.throws(() => tasks.get('nope'), /no task/);
});

test('the table is bounded: finished tasks make room, running ones do not', async () => {
  const tasks = new Tasks(2);
  const forever = () => new Promise(() => {});
  const a = tasks.start('a', async () => 1);
  await settled(tasks, a.uuid);
  tasks.start('b', forever);
  tasks.start('c', forever);
  assert.throws(() => tasks.get(a.uuid), /no task/);
  assert.throws(() => tasks.start('d', forever), (e: Error) => e instanceof XenError && e.errno === 'EAGAIN');
});
