import type { HostEvent } from './contract.js';
import { type LocalHost } from './local.js';
import { type HostPaths } from './paths.js';
import { ControlServer } from './server.js';
import { type XapiHost } from '../xapi/host.js';
import { MigrationReceiver } from '../migration/receive.js';
export interface DaemonOptions {
    readonly stateDir: string;
    /** Pre-started vCPU threads for guests of the default size. */
    readonly poolSize?: number;
    /** Pre-built domains (shells.ts) kept for creates of the default memory=. */
    readonly shells?: number;
    /** How long guests get to power off when the host stops. */
    readonly shutdownGraceMs?: number;
    /** Sees every log entry (the foreground daemon prints them). */
    readonly echo?: (e: HostEvent) => void;
    /** XenAPI over HTTPS on this port (0: any free one); only on its Unix socket when absent. */
    readonly xapiPort?: number;
    /** The address XenAPI's HTTPS binds (127.0.0.1 unless told otherwise). */
    readonly xapiAddress?: string;
    /** xapiPort is a default: if it is taken, serve XenAPI on the Unix socket only, and log why. */
    readonly xapiPortOptional?: boolean;
    /** Receive migrations on this TCP address (`--listen ADDRESS:PORT`); none when absent. */
    readonly migrationListen?: {
        readonly address: string;
        readonly port: number;
    };
}
export declare class HostDaemon {
    #private;
    readonly paths: HostPaths;
    readonly local: LocalHost;
    readonly control: ControlServer;
    readonly xapi: XapiHost;
    private readonly lock;
    private readonly graceMs;
    /** Resolves once the daemon has stopped. */
    readonly stopped: Promise<void>;
    /** The migration listener, with `migrationListen`. */
    migration: MigrationReceiver | null;
    private constructor();
    static start(opts: DaemonOptions): Promise<HostDaemon>;
    /**
     * Stop: guests get the grace period to power off, then the rest is destroyed and clients
     * are hung up on. A second call while stopping destroys the guests at once.
     */
    stop(): Promise<void>;
}
