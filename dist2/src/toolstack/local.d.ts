import { ToolstackApi } from './api.js';
import { Host } from './host.js';
import type { HostEvent } from './contract.js';
import { HostLog } from './hostlog.js';
export interface LocalHostOptions {
    /** Exposes xenstored's socket there. */
    readonly stateDir?: string;
    readonly poolSize?: number;
    /** Pre-built domains (shells.ts): how many, for which memory=. */
    readonly shells?: {
        readonly count: number;
        readonly memory: number;
    };
    /** The JSON-lines log file; none when absent. */
    readonly logFile?: string;
    readonly echo?: (e: HostEvent) => void;
    /** What `xenode host stop` does; an in-process host without it refuses to be stopped. */
    readonly onStop?: () => void;
}
export interface LocalHost {
    readonly host: Host;
    readonly api: ToolstackApi;
    readonly log: HostLog;
    /** Destroy every guest and stop the host (shutdownAll first for a graceful stop). */
    close(): Promise<void>;
}
export declare function startLocalHost(opts?: LocalHostOptions): Promise<LocalHost>;
