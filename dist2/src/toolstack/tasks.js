// Long operations as tasks, the way XenAPI's Async calls work: `taskSubmit` starts an
// operation of the command layer and returns its task at once; the task's progress (0..1) and
// status (XAPI's pending, success, failure, cancelling, cancelled) are polled with `taskGet`,
// and `taskCancel` asks it to stop. A handler reaches its task through `taskControl()` (an
// AsyncLocalStorage, so no handler's signature changes): it reports progress there and passes
// the AbortSignal down to the storage code, which checks it between chunks. The records carry
// XAPI's field names, so src/xapi's task table can be mapped onto these. The table is bounded:
// finished tasks are dropped oldest first, and a full table of running ones refuses more.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { XenError } from '../errors.js';
const current = new AsyncLocalStorage();
/** The task the calling operation runs in, if it was submitted as one. */
export function taskControl() {
    return current.getStore();
}
export class Tasks {
    max;
    #tasks = new Map();
    constructor(max = 256) {
        this.max = max;
    }
    /** Run `work` as a task named `name`; its record at once. */
    start(name, work) {
        if (this.#tasks.size >= this.max) {
            const done = [...this.#tasks.values()].find((t) => t.info.finished !== null);
            if (!done)
                throw new XenError('EAGAIN', `${this.max} tasks are running: wait for one to finish`);
            this.#tasks.delete(done.info.uuid);
        }
        const t = {
            info: { uuid: randomUUID(), name_label: name, status: 'pending', progress: 0, created: new Date().toISOString(), finished: null, result: null, error_info: [] },
            abort: new AbortController(),
        };
        this.#tasks.set(t.info.uuid, t);
        const control = {
            signal: t.abort.signal,
            progress: (done, total) => {
                if (t.info.finished === null && total > 0)
                    t.info = { ...t.info, progress: Math.min(1, Math.max(0, done / total)) };
            },
        };
        current.run(control, () => Promise.resolve().then(work)).then((result) => {
            t.info = { ...t.info, status: 'success', progress: 1, result: result ?? null, finished: new Date().toISOString() };
        }, (e) => {
            const cancelled = t.abort.signal.aborted;
            const errno = e.errno ?? (cancelled ? 'EINTR' : 'EIO');
            t.info = { ...t.info, status: cancelled ? 'cancelled' : 'failure', error_info: [errno, e?.message ?? String(e)], finished: new Date().toISOString() };
        });
        return t.info;
    }
    get(uuid) {
        const t = this.#tasks.get(uuid);
        if (!t)
            throw new XenError('ENOENT', `no task ${uuid.slice(0, 80)} (finished tasks are kept for a while, not for ever)`);
        return t.info;
    }
    list() {
        return [...this.#tasks.values()].map((t) => t.info);
    }
    /** Ask a pending task to stop: it goes to cancelling, then cancelled once the operation has let go. */
    cancel(uuid) {
        const t = this.#tasks.get(uuid);
        if (!t)
            return this.get(uuid);
        if (t.info.finished === null && !t.abort.signal.aborted) {
            t.info = { ...t.info, status: 'cancelling' };
            t.abort.abort(new XenError('EINTR', `task ${uuid} was cancelled`));
        }
        return t.info;
    }
}
//# sourceMappingURL=tasks.js.map