// Tasks of the command layer: progress reported by the operation through taskControl(),
// success with the result, failure with [errno, message], cancel through the AbortSignal down
// to the storage copy.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { XenError } from '../../../src/errors.js';
import { Tasks, taskControl } from '../../../src/toolstack/tasks.js';
import { storageRig } from '../../support/storage.js';
/** The task once finished (polled for at most 20 s). */
const settled = async (tasks, uuid) => {
    const end = performance.now() + 20_000;
    while (tasks.get(uuid).finished === null && performance.now() < end)
        await new Promise((r) => setTimeout(r, 2));
    return tasks.get(uuid);
};
test('a task reports its progress, then its result; a failing one its errno and message', async () => {
    const tasks = new Tasks();
    let step;
    const t = tasks.start('vdiExport', async () => {
        taskControl().progress(1, 4);
        await new Promise((r) => (step = r));
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
        const { signal } = taskControl();
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
    const forever = () => new Promise(() => { });
    const a = tasks.start('a', async () => 1);
    await settled(tasks, a.uuid);
    tasks.start('b', forever);
    tasks.start('c', forever);
    assert.throws(() => tasks.get(a.uuid), /no task/);
    assert.throws(() => tasks.start('d', forever), (e) => e instanceof XenError && e.errno === 'EAGAIN');
});
test('a cancelled export stops between chunks and leaves no file; progress reached the storage copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenode-tasks-'));
    try {
        const r = storageRig(join(dir, 's'));
        await r.vdis.create({ sr: 'default', name: 'big', size: '64M', format: 'vhd' });
        const tasks = new Tasks();
        const seen = [];
        const t = tasks.start('vdiExport', () => {
            const ctl = taskControl();
            return r.vdis.export('big', { file: join(dir, 'out.qcow2'), format: 'qcow2' }, {
                signal: ctl.signal,
                progress: (done, total) => {
                    ctl.progress(done, total);
                    seen.push(done);
                    if (seen.length === 3)
                        tasks.cancel(t.uuid);
                },
            });
        });
        const done = await settled(tasks, t.uuid);
        assert.equal(done.status, 'cancelled');
        assert.equal(seen.length, 3, 'the copy stopped at the next chunk');
        assert.ok(done.progress > 0 && done.progress < 1);
        assert.equal(existsSync(join(dir, 'out.qcow2')), false);
        await r.db.close();
    }
    finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
//# sourceMappingURL=tasks.test.js.map