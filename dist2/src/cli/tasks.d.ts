import type { Commands, TaskOp, Toolstack } from '../toolstack/contract.js';
/** Run `call` as a task and wait for it; its result, or its error thrown. */
export declare function runTask<K extends TaskOp>(ts: Toolstack, call: {
    op: K;
    args: Commands[K]['args'];
}, what: string, json: boolean): Promise<Commands[K]['result']>;
