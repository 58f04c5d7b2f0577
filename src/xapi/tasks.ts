// XAPI's tasks: what an Async.* call returns at once, then finishes with the call's result
// (an XML-RPC value, as XAPI keeps it) or its error. Clients watch them through event.from.
// The table is bounded: finished tasks go first, and a full table of pending ones refuses more
// with TOO_MANY_PENDING_TASKS. A task whose work said how to stop it (the command layer's
// task under it) can be cancelled: cancelling, then cancelled with TASK_CANCELLED once the
// work has let go (or success, if it finished first).
import { randomUUID } from 'node:crypto';
import { handleInvalid, operationNotAllowed, XapiError } from './errors.js';
import type { EventLog } from './events.js';
import { encodeValue } from './xmlrpc.js';
import { Double, type XValue } from './types.js';

export const NULL_REF = 'OpaqueRef:NULL';

export type TaskStatus = 'pending' | 'success' | 'failure' | 'cancelling' | 'cancelled';

interface Task {
  readonly ref: string;
  readonly uuid: string;
  readonly name: string;
  /** The session that started it. */
  readonly session: string;
  readonly created: Date;
  finished: Date;
  status: TaskStatus;
  result: string;
  error: string[];
  /** 0..1 while pending, as the call reports it. */
  progress: number;
  /** How to stop the work, once it has said. */
  cancel?: () => Promise<void>;
}

/** What a task's work gets: a way to report progress (0..1; each change is an event) and to say how it is stopped. */
export interface TaskWork {
  progress(fraction: number): void;
  cancellable(cancel: () => Promise<void>): void;
}

export class TaskTable {
  readonly #tasks = new Map<string, Task>();

  constructor(private readonly events: EventLog, private readonly hostRef: () => string, readonly max = 1000) {}

  record(t: Task): Record<string, XValue> {
    return {
      uuid: t.uuid, name_label: t.name, name_description: '', allowed_operations: [], current_operations: {},
      created: t.created, finished: t.finished, status: t.status, resident_on: this.hostRef(),
      progress: new Double(t.status === 'pending' ? t.progress : 1), type: '', result: t.result, error_info: t.error,
      other_config: {}, subtask_of: NULL_REF, subtasks: [], backtrace: '',
    };
  }

  /** Run `work` as a task; returns its ref at once. */
  start(name: string, session: string, work: (task: TaskWork) => Promise<XValue | undefined>): string {
    if (this.#tasks.size >= this.max) {
      const done = [...this.#tasks.values()].find((t) => t.status !== 'pending');
      if (!done) throw new XapiError('TOO_MANY_PENDING_TASKS');
      this.destroy(done.ref);
    }
    const t: Task = { ref: `OpaqueRef:${randomUUID()}`, uuid: randomUUID(), name, session, created: new Date(), finished: new Date(0), status: 'pending', result: '', error: [], progress: 0 };
    this.#tasks.set(t.ref, t);
    this.events.record('task', 'add', t.ref, this.record(t));
    const progress = (fraction: number) => {
      const p = Math.min(1, Math.max(0, fraction));
      if (t.status !== 'pending' || p <= t.progress || this.#tasks.get(t.ref) !== t) return;
      t.progress = p;
      this.events.record('task', 'mod', t.ref, this.record(t));
    };
    const cancellable = (cancel: () => Promise<void>) => {
      t.cancel = cancel;
    };
    work({ progress, cancellable }).then((v) => {
      t.status = 'success';
      t.result = v === undefined ? '' : encodeValue(v);
    }, (e: unknown) => {
      if (t.status === 'cancelling') {
        t.status = 'cancelled';
        t.error = ['TASK_CANCELLED', t.ref];
        return;
      }
      t.status = 'failure';
      t.error = e instanceof XapiError ? e.description : ['INTERNAL_ERROR', String((e as Error)?.message ?? e)];
    }).finally(() => {
      t.finished = new Date();
      if (this.#tasks.get(t.ref) === t) this.events.record('task', 'mod', t.ref, this.record(t));
    });
    return t.ref;
  }

  get(ref: string): Task {
    const t = this.#tasks.get(ref);
    if (!t) throw handleInvalid('task', ref);
    return t;
  }

  /** Ask a pending task to stop (XAPI's task.cancel); OPERATION_NOT_ALLOWED for one that cannot be. */
  async cancel(ref: string): Promise<void> {
    const t = this.get(ref);
    if (t.status === 'cancelling') return;
    if (t.status !== 'pending') throw operationNotAllowed(`task ${t.ref} (${t.name}) has finished: ${t.status}`);
    if (!t.cancel) throw operationNotAllowed(`task ${t.ref} (${t.name}) cannot be cancelled`);
    t.status = 'cancelling';
    this.events.record('task', 'mod', t.ref, this.record(t));
    await t.cancel();
  }

  destroy(ref: string): void {
    this.get(ref);
    this.#tasks.delete(ref);
    this.events.record('task', 'del', ref);
  }

  all(): Task[] {
    return [...this.#tasks.values()];
  }
}
