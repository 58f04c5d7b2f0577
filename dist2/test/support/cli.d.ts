import { type ChildProcessWithoutNullStreams } from 'node:child_process';
export declare const ROOT: string;
export declare const XENODE: string;
export declare const FIXTURES: string;
export interface Result {
    code: number | null;
    stdout: string;
    stderr: string;
}
export interface RunOptions {
    /** XENODE_STATE_DIR of the command. */
    readonly state: string;
    /** Typed into its stdin. */
    readonly input?: string;
    /** Sees the output so far, and may signal or type into the child. */
    readonly onStdout?: (text: string, child: ChildProcessWithoutNullStreams) => void;
}
/** Run `xenode ARGS` from the repository root to the end (killed after 25 s). */
export declare function xenode(args: string[], opts: RunOptions): Promise<Result>;
