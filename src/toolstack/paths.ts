// Where a host keeps its sockets, logs and state: --state-dir, else $XENODE_STATE_DIR, else ~/.xenode;
// and how messages show such paths.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function resolveStateDir(flag?: string): string {
  return resolve(flag ?? process.env['XENODE_STATE_DIR'] ?? join(homedir(), '.xenode'));
}

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

export function hostPaths(stateDir: string): HostPaths {
  return {
    stateDir,
    xenstoredSocket: join(stateDir, 'xenstored.sock'),
    controlSocket: join(stateDir, 'control.sock'),
    lockFile: join(stateDir, 'host.pid'),
    logFile: join(stateDir, 'host.log'),
    hostDb: join(stateDir, 'host.db'),
    migrationToken: join(stateDir, 'migration-token'),
  };
}

/** ~/x for paths under the home directory, as a person would write them. */
export function displayPath(path: string): string {
  const home = homedir();
  return path === home || path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}
