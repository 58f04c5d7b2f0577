export declare function resolveStateDir(flag?: string): string;
export interface HostPaths {
    readonly stateDir: string;
    /** xenstored's Unix socket: point Xen's tools at it with XENSTORED_PATH. */
    readonly xenstoredSocket: string;
    /** The host daemon's control socket (toolstack API). */
    readonly controlSocket: string;
    readonly lockFile: string;
    readonly logFile: string;
    /** The host database (SQLite, with its -wal and -shm files beside it). */
    readonly hostDb: string;
    /** The token a migration sender must present (`xenode host --listen`), mode 0600. */
    readonly migrationToken: string;
}
export declare function hostPaths(stateDir: string): HostPaths;
/** ~/x for paths under the home directory, as a person would write them. */
export declare function displayPath(path: string): string;
