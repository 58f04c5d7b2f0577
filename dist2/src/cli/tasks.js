import { Progress } from './progress.js';
const POLL_MS = 200;
const PERCENT = 100;
/** Run `call` as a task and wait for it; its result, or its error thrown. */
export async function runTask(ts, call, what, json) {
    let task = await ts.call('taskSubmit', { call: call });
    const bar = json ? undefined : new Progress(what, PERCENT);
    let cancelled = false;
    const onInt = () => {
        if (cancelled)
            process.exit(130);
        cancelled = true;
        void ts.call('taskCancel', { task: task.uuid }).catch(() => { });
    };
    process.on('SIGINT', onInt);
    try {
        while (task.finished === null) {
            await new Promise((r) => setTimeout(r, POLL_MS));
            task = await ts.call('taskGet', { task: task.uuid });
            if (json)
                process.stderr.write(`${JSON.stringify({ task: task.uuid, status: task.status, progress: task.progress })}\n`);
            else
                bar.update(Math.round(task.progress * PERCENT));
        }
    }
    finally {
        process.off('SIGINT', onInt);
        bar?.finish();
    }
    if (task.status === 'success')
        return task.result;
    const [errno, message] = task.error_info;
    if (task.status === 'cancelled')
        process.exitCode = 130;
    throw Object.assign(new Error(message ?? `task ${task.uuid} ${task.status}`), { errno });
}
//# sourceMappingURL=tasks.js.map