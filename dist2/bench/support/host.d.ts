import { type ChildProcess } from 'node:child_process';
export interface HostProcess {
    readonly child: ChildProcess;
    /** The daemon's resident memory (all its threads: dom0 and every guest), bytes. */
    rss(): number;
    /** SIGTERM, and wait until it has exited. */
    stop(): Promise<void>;
}
/** `xenode host` in the foreground (`xenode` is bin/xenode.js); resolves once it serves. */
export declare function spawnHost(xenode: string, stateDir: string, args: readonly string[]): Promise<HostProcess>;
