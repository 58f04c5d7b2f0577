import type { Command } from 'commander';
import type { Toolstack } from '../toolstack/contract.js';
export interface StateDirOpts {
    readonly stateDir?: string;
}
export declare function withStateDir(cmd: Command): Command;
/** Run `fn` against the host daemon of the state dir; HostNotRunning if there is none. */
export declare function withHost<T>(opts: StateDirOpts, fn: (ts: Toolstack) => Promise<T>): Promise<T>;
/** xl prints its progress and notes on stderr, keeping stdout for results and consoles. */
export declare function say(line: string): void;
