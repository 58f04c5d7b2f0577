// The host daemon (`xenode host`): one Host for a state dir, its command API on the control
// socket, xenstored on its socket, and the JSON-lines log. It holds the state dir's lock for
// as long as it runs. Stopping it (SIGTERM, `xenode host stop`) asks every guest to power off,
// gives them a grace period, then destroys what is left.
import { mkdir } from 'node:fs/promises';
import { memorySplit } from './builder.js';
import { DEFAULT_MEMORY_MIB } from './domconfig.js';
import type { HostEvent } from './contract.js';
import { startLocalHost, type LocalHost } from './local.js';
import { HostLock } from './lock.js';
import { hostPaths, type HostPaths } from './paths.js';
import { ControlServer } from './server.js';
import { startXapi, type XapiHost } from '../xapi/host.js';
import { MigrationReceiver } from '../migration/receive.js';

export interface DaemonOptions {
  readonly stateDir: string;
  /** Pre-started vCPU threads for guests of the default size. */
  readonly poolSize?: number;
  /** Pre-built domains (shells.ts) kept for creates of the default memory=. */
  readonly shells?: number;
  /** Pre-built domains with a vif connected (shells.ts), for configurations with one vif. */
  readonly shellVifs?: number;
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
  /** Where the summoning DNS server listens (`--summon ADDRESS:PORT`, summon.ts). */
  readonly summonDns?: { readonly address: string; readonly port: number };
  /** Receive migrations on this TCP address (`--listen ADDRESS:PORT`); none when absent. */
  readonly migrationListen?: { readonly address: string; readonly port: number };
  /** More directories of kernels XenAPI callers may name (src/xapi/kernels.ts). */
  readonly xapiKernelDirs?: readonly string[];
}

const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export class HostDaemon {
  #stopping: Promise<void> | null = null;
  #resolveStopped!: () => void;
  /** Resolves once the daemon has stopped. */
  readonly stopped = new Promise<void>((resolve) => (this.#resolveStopped = resolve));
  /** The migration listener, with `migrationListen`. */
  migration: MigrationReceiver | null = null;

  private constructor(
    readonly paths: HostPaths,
    readonly local: LocalHost,
    readonly control: ControlServer,
    readonly xapi: XapiHost,
    private readonly lock: HostLock,
    private readonly graceMs: number,
  ) {}

  static async start(opts: DaemonOptions): Promise<HostDaemon> {
    const paths = hostPaths(opts.stateDir);
    await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
    const lock = HostLock.acquire(paths.lockFile, paths.stateDir);
    let local: LocalHost | undefined;
    let xapi: XapiHost | undefined;
    try {
      let daemon: HostDaemon | undefined;
      local = await startLocalHost({
        stateDir: paths.stateDir,
        poolSize: opts.poolSize ?? 2,
        ...((opts.shells || opts.shellVifs) && { shells: { count: opts.shells ?? 0, memory: DEFAULT_MEMORY_MIB, vifs: opts.shellVifs ?? 0 } }),
        ...(opts.summonDns && { summonDns: opts.summonDns }),
        logFile: paths.logFile,
        ...(opts.echo && { echo: opts.echo }),
        onStop: () => void daemon?.stop(),
      });
      local.host.pool.warm({ heapMb: memorySplit(DEFAULT_MEMORY_MIB).heapMb });
      xapi = await startXapi(local.api, {
        stateDir: paths.stateDir,
        db: local.host.db,
        log: (line) => local!.log.message(line),
        ...(opts.xapiPort !== undefined && { port: opts.xapiPort }),
        ...(opts.xapiAddress !== undefined && { address: opts.xapiAddress }),
        ...(opts.xapiPortOptional && { portOptional: true }),
        ...(opts.xapiKernelDirs && { moreKernelDirs: opts.xapiKernelDirs }),
        migration: () => {
          const m = daemon?.migration;
          const a = m?.server.address();
          return m && a && typeof a === 'object' ? { address: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`, token: m.token } : undefined;
        },
      });
      if (xapi.tcpRefused) local.log.message(`XenAPI: no HTTPS (${xapi.tcpRefused}): serving on ${xapi.paths.socket} only`);
      else if (opts.xapiPort !== undefined) local.host.protectPort('tcp', xapi.server.port);
      local.api.setUsers(xapi.users);
      const server = await ControlServer.listen(paths.controlSocket, local.api);
      daemon = new HostDaemon(paths, local, server, xapi, lock, opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
      if (opts.migrationListen) {
        const l = local;
        daemon.migration = await MigrationReceiver.listen(l.host, {
          ...opts.migrationListen, tokenFile: paths.migrationToken, log: (line) => l.log.message(line),
        }).catch(async (e: Error) => {
          await server.close();
          throw new Error(`cannot listen for migrations on ${opts.migrationListen!.address}:${opts.migrationListen!.port}: ${e.message}`);
        });
        local.host.protectPort('tcp', daemon.migration.port);
      }
      local.log.record({ type: 'host', state: 'started', pid: process.pid });
      return daemon;
    } catch (e) {
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
  stop(): Promise<void> {
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
