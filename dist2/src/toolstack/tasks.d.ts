export type TaskStatus = 'pending' | 'success' | 'failure' | 'cancelling' | 'cancelled';
/** A task as XAPI's task record names its fields (created and finished as ISO 8601). */
export interface TaskInfo {
    readonly uuid: string;
    readonly name_label: string;
    readonly status: TaskStatus;
    /** 0..1. */
    readonly progress: number;
    readonly created: string;
    /** null while pending. */
    readonly finished: string | null;
    /** The operation's result once it succeeded (null before). */
    readonly result: unknown;
    /** [errno, message] once it failed or was cancelled. */
    readonly error_info: string[];
}
/** What a running operation sees of its task. */
export interface TaskControl {
    progress(done: number, total: number): void;
    readonly signal: AbortSignal;
}
/** The task the calling operation runs in, if it was submitted as one. */
export declare function taskControl(): TaskControl | undefined;
export declare class Tasks {
    #private;
    readonly max: number;
    constructor(max?: number);
    /** Run `work` as a task named `name`; its record at once. */
    start(name: string, work: () => Promise<unknown>): TaskInfo;
    get(uuid: string): TaskInfo;
    list(): TaskInfo[];
    /** Ask a pending task to stop: it goes to cancelling, then cancelled once the operation has let go. */
    cancel(uuid: string): TaskInfo;
}
