// Long commands (vdi-import, vdi-export, vdi-migrate, sr-gc) run as tasks of the command
// layer: submitted, then polled until done, with a progress bar on a terminal (progress.ts), or
// with --json a JSON line per poll on stderr (stdout keeps the one result a script parses);
// Ctrl-C cancels the task on the host (the command then exits 130).
import type { Commands, TaskCall, TaskInfo, TaskOp, Toolstack } from '../toolstack/contract.js';
import { Progress } from './progress.js';

const POLL_MS = 200;
const PERCENT = 100;

/** Run `call` as a task and wait for it; its result, or its error thrown. */
export async function runTask<K extends TaskOp>(ts: Toolstack, call: { op: K; args: Commands[K]['args'] }, what: string, json: boolean): Promise<Commands[K]['result']> {
  let task: TaskInfo = await ts.call('taskSubmit', { call: call as TaskCall });
  const bar = json ? undefined : new Progress(what, PERCENT);
  let cancelled = false;
  const onInt = () => {
    if (cancelled) process.exit(130);
    cancelled = true;
    void ts.call('taskCancel', { task: task.uuid }).catch(() => {});
  };
  process.on('SIGINT', onInt);
  try {
    while (task.finished === null) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      task = await ts.call('taskGet', { task: task.uuid });
      if (json) process.stderr.write(`${JSON.stringify({ task: task.uuid, status: task.status, progress: task.progress })}\n`);
      else bar!.update(Math.round(task.progress * PERCENT));
    }
  } finally {
    process.off('SIGINT', onInt);
    bar?.finish();
  }
  if (task.status === 'success') return task.result as Commands[K]['result'];
  const [errno, message] = task.error_info;
  if (task.status === 'cancelled') process.exitCode = 130;
  throw Object.assign(new Error(message ?? `task ${task.uuid} ${task.status}`), { errno });
}
