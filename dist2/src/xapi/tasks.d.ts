import type { EventLog } from './events.js';
import { type XValue } from './types.js';
export declare const NULL_REF = "OpaqueRef:NULL";
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
}
export declare class TaskTable {
    #private;
    private readonly events;
    private readonly hostRef;
    readonly max: number;
    constructor(events: EventLog, hostRef: () => string, max?: number);
    record(t: Task): Record<string, XValue>;
    /** Run `work` as a task; returns its ref at once. `work` reports its progress (0..1) as it goes: each change is an event. */
    start(name: string, session: string, work: (progress: (fraction: number) => void) => Promise<XValue | undefined>): string;
    get(ref: string): Task;
    destroy(ref: string): void;
    all(): Task[];
}
export {};
