import { type BuildContext, type BuildSpec, type Shell } from './builder.js';
export declare function isShellName(name: string): boolean;
export interface ShellPoolOptions {
    /** Shells kept ready. */
    readonly count: number;
    /** memory= of the configurations they serve, MiB. */
    readonly memory: number;
}
export declare class ShellPool {
    #private;
    constructor(ctx: () => BuildContext, opts: ShellPoolOptions, log?: (line: string) => void);
    /** Shells ready to be claimed now. */
    get ready(): number;
    /** Whether a shell can become the domain `spec` describes: same memory, default limits, not a driver domain. */
    fits(spec: BuildSpec): boolean;
    /**
     * A ready shell, taken out of the pool (synchronously: no two creates get one shell), or
     * undefined when none is ready. Starts a refill.
     */
    take(): Shell | undefined;
    /** Start filling the pool (a host does at start). */
    fill(): void;
    /** A shell whose vCPU died while it waited is no use: take it out and tear it down. */
    reap(): void;
    /** Stop refilling and tear every shell down. */
    close(): Promise<void>;
}
