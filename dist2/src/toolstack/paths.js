// Where a host keeps its sockets, logs and state: --state-dir, else $XENODE_STATE_DIR, else ~/.xenode;
// and how messages show such paths.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
export function resolveStateDir(flag) {
    return resolve(flag ?? process.env['XENODE_STATE_DIR'] ?? join(homedir(), '.xenode'));
}
export function hostPaths(stateDir) {
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
export function displayPath(path) {
    const home = homedir();
    return path === home || path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}
//# sourceMappingURL=paths.js.map