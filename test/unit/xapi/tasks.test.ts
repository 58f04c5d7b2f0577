// XAPI's tasks: an Async.* call's task finishes with its result or error; one whose work said
// how to stop it can be cancelled (cancelling, then cancelled with TASK_CANCELLED), others not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XapiError } from '../../../src/xapi/errors.js';
import { EventLog } from '../../../src/xapi/events.js';
import { TaskTable } from '../../../src/xapi/tasks.js';

const settled = () => new Promise((r) => setImmediate(r));

test('task.cancel: a cancellable task goes cancelling, then cancelled once its work lets go; others refuse', async () => {
  const events = new EventLog();
  const tasks = new TaskTable(events, () => 'OpaqueRef:host');
  let stop!: (e: Error) => void;
  let asked = 0;
  const ref = tasks.start('Async.VM.migrate_send', 's', (t) => {
    t.cancellable(async () => {
      asked++;
      stop(new XapiError('INTERNAL_ERROR', ['the stream broke']));
    });
    return new Promise((_, reject) => (stop = reject));
  });
  await tasks.cancel(ref);
  assert.equal(asked, 1);
  await settled();
  const t = tasks.get(ref);
  assert.deepEqual([t.status, t.error], ['cancelled', ['TASK_CANCELLED', ref]]);
  const seen = events.since(0, (e) => e.ref === ref).map((e) => (e.snapshot as { status: string } | undefined)?.status);
  assert.deepEqual(seen, ['pending', 'cancelling', 'cancelled']);
  await assert.rejects(tasks.cancel(ref), (e: XapiError) => e.code === 'OPERATION_NOT_ALLOWED', 'a finished task');

  // No way to stop it: refused, and it runs on to its end.
  let done!: () => void;
  const plain = tasks.start('Async.VM.start', 's', () => new Promise((r) => (done = () => r(undefined))));
  await assert.rejects(tasks.cancel(plain), (e: XapiError) => e.code === 'OPERATION_NOT_ALLOWED');
  done();
  await settled();
  assert.equal(tasks.get(plain).status, 'success');

  // Work that finishes before it lets go: success stands.
  let finish!: () => void;
  const racing = tasks.start('Async.VM.suspend', 's', (t) => {
    t.cancellable(async () => finish());
    return new Promise((r) => (finish = () => r('OpaqueRef:vdi')));
  });
  await tasks.cancel(racing);
  await settled();
  assert.deepEqual([tasks.get(racing).status, tasks.get(racing).result], ['success', '<value>OpaqueRef:vdi</value>']);
});
