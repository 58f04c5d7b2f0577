// The host daemon (`xenode host`): one Host for a state dir, its command API on the control
// socket, xenstored on its socket, and the JSON-lines log. It holds the state dir's lock for
// as long as it runs. Stopping it (SIGTERM, `xenode host stop`) asks every guest to power off,
// gives them a grace period, then destroys what is left.
import { mkdir } from 'node:fs/promises';
import { memorySplit } from './builder.js';
import { DEFAULT_MEMORY_MIB } from './domconfig.js';
import { startLocalHost } from './local.js';
import { HostLock } from './lock.js';
import { hostPaths } from './paths.js';
import { ControlServer } from './server.js';
import { startXapi } from '../xapi/host.js';
import { MigrationReceiver } from '../migration/receive.js';
const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
export class HostDaemon {
    paths;
    local;
    control;
    xapi;
    lock;
    graceMs;
    #stopping = null;
    #resolveStopped;
    /** Resolves once the daemon has stopped. */
    stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    /** The migration listener, with `migrationListen`. */
    migration = null;
    constructor(paths, local, control, xapi, lock, graceMs) {
        this.paths = paths;
        this.local = local;
        this.control = control;
        this.xapi = xapi;
        this.lock = lock;
        this.graceMs = graceMs;
    }
    static async start(opts) {
        const paths = hostPaths(opts.stateDir);
        await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
        const lock = HostLock.acquire(paths.lockFile, paths.stateDir);
        let local;
        let xapi;
        try {
            let daemon;
            local = await startLocalHost({
                stateDir: paths.stateDir,
                poolSize: opts.poolSize ?? 2,
                ...(opts.shells && { shells: { count: opts.shells, memory: DEFAULT_MEMORY_MIB } }),
                logFile: paths.logFile,
                ...(opts.echo && { echo: opts.echo }),
                onStop: () => void daemon?.stop(),
            });
            local.host.pool.warm({ heapMb: memorySplit(DEFAULT_MEMORY_MIB).heapMb });
            xapi = await startXapi(local.api, {
                stateDir: paths.stateDir,
                db: local.host.db,
                log: (line) => local.log.message(line),
                ...(opts.xapiPort !== undefined && { port: opts.xapiPort }),
                ...(opts.xapiAddress !== undefined && { address: opts.xapiAddress }),
                ...(opts.xapiPortOptional && { portOptional: true }),
                migration: () => {
                    const m = daemon?.migration;
                    const a = m?.server.address();
                    return m && a && typeof a === 'object' ? { address: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`, token: m.token } : undefined;
                },
            });
            if (xapi.tcpRefused)
                local.log.message(`XenAPI: no HTTPS (${xapi.tcpRefused}): serving on ${xapi.paths.socket} only`);
            local.api.setUsers(xapi.users);
            const server = await ControlServer.listen(paths.controlSocket, local.api);
            daemon = new HostDaemon(paths, local, server, xapi, lock, opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
            if (opts.migrationListen) {
                const l = local;
                daemon.migration = await MigrationReceiver.listen(l.host, {
                    ...opts.migrationListen, tokenFile: paths.migrationToken, log: (line) => l.log.message(line),
                }).catch(async (e) => {
                    await server.close();
                    throw new Error(`cannot listen for migrations on ${opts.migrationListen.address}:${opts.migrationListen.port}: ${e.message}`);
                });
            }
            local.log.record({ type: 'host', state: 'started', pid: process.pid });
            return daemon;
        }
        catch (e) {
            await xapi?.close();
            await local?.close();
            lock.release();
            throw e;
        }
    }
    /**
     * Stop: guests get the grace period to power off, then the rest is destroyed and clients
     * are hung up on. A second call while stopping destroys the guests at once.
     */
    stop() {
        const { host, log } = this.local;
        if (this.#stopping) {
            void host.close();
            return this.#stopping;
        }
        log.record({ type: 'host', state: 'stopping', pid: process.pid });
        this.#stopping = (async () => {
            await this.migration?.close();
            await host.shutdownAll(this.graceMs);
            await this.control.close();
            await this.xapi.close();
            log.record({ type: 'host', state: 'stopped', pid: process.pid });
            await this.local.close();
            this.lock.release();
            this.#resolveStopped();
        })();
        return this.#stopping;
    }
}
//# sourceMappingURL=daemon.js.map