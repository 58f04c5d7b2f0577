import type { Command } from 'commander';
import type { Toolstack } from '../toolstack/contract.js';
export interface TopOptions {
    /** Seconds between refreshes. */
    readonly delay: number;
    /** Stop after this many refreshes (xentop -i); forever when absent. */
    readonly iterations?: number;
    readonly batch?: boolean;
    readonly json?: boolean;
}
/** Run the view until its iterations are done or the user quits. */
export declare function top(ts: Toolstack, o: TopOptions): Promise<void>;
export declare function registerTopCommand(program: Command): void;
