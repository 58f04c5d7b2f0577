// A worker thread's end, listened for from the thread's start.
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';

/**
 * The code `worker` will exit with; call it as the thread is made. Listening later, after an
 * await of one of its messages, can miss the end for good: when a thread posts and ends before
 * this thread reads its message (this thread busy, under load), Node reads that message only as
 * it handles the end, and emits it and then 'exit' in one task (Worker[kOnExit] drains the
 * ports, then emits 'exit'), before the await of the message resumes. Rejects on an 'error'.
 */
export function exitCode(worker: Worker): Promise<number> {
  const code = once(worker, 'exit').then(([c]) => c as number);
  code.catch(() => {}); // an 'error' before anyone awaits the end is seen by whoever does
  return code;
}
