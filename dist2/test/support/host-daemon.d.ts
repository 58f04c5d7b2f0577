import { RemoteToolstack } from '../../src/toolstack/client.js';
import { HostDaemon } from '../../src/toolstack/daemon.js';
export interface DaemonRig {
    readonly dir: string;
    readonly stateDir: string;
    readonly daemon: HostDaemon;
    readonly ts: RemoteToolstack;
    /** Write a config file in the rig's dir (`text` as given); returns its absolute path. */
    cfgFile(name: string, text: string): string;
    close(): Promise<void>;
}
export interface DaemonRigOptions {
    /** The temporary dir to use (removed on close); a new one by default. */
    dir?: string;
    poolSize?: number;
    shutdownGraceMs?: number;
    /** Serve XenAPI over HTTPS on this port too (0: a free one). */
    xapiPort?: number;
    /** Receive migrations on this address (port 0: a free one). */
    migrationListen?: {
        address: string;
        port: number;
    };
}
export declare function startDaemonRig(prefix: string, opts?: DaemonRigOptions): Promise<DaemonRig>;
