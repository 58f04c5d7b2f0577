// A host daemon in a temporary state dir and a control-socket client to it, for e2e tests
// that drive the host as `xenode` does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteToolstack } from '../../src/toolstack/client.js';
import { HostDaemon } from '../../src/toolstack/daemon.js';
import { killIfAliveAfter } from './exit-guard.js';
import { FIXTURES, ROOT } from './cli.js';

/** The host runs in the test's own process, so a frozen host freezes the file: watched from outside (exit-guard.ts). */
const FILE_BOUND_MS = 15 * 60_000;
/** Kernels the rigs' XenAPI callers name: the test guests and the one shipped guest they use (not examples/ whole: many.ts there is a host script). */
const KERNEL_DIRS = [FIXTURES, join(ROOT, 'examples', 'kv-store')];
let guarded = false;

/**
 * Where a guest-facing suite runs its guests: Pool-0 (a thread per vCPU) or a shared cpupool
 * (realms on pCPU threads, created by the rig). Suites run once per placement (PLACEMENTS).
 */
export interface Placement {
  readonly label: string;
  /** The shared cpupool to create, and its pCPU threads; none for Pool-0. */
  readonly cpupool?: { readonly name: string; readonly cpus: number };
  /** The config line that places a guest there ('' for Pool-0). */
  readonly cfg: string;
}
export const POOL_0: Placement = { label: 'Pool-0', cfg: '' };
export const SHARED_POOL: Placement = { label: 'a shared cpupool', cpupool: { name: 'dense', cpus: 2 }, cfg: 'pool = "dense"\n' };
export const PLACEMENTS: readonly Placement[] = [POOL_0, SHARED_POOL];

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
  migrationListen?: { address: string; port: number };
  /** Create the placement's cpupool (Pool-0 by default). */
  placement?: Placement;
}

export async function startDaemonRig(prefix: string, opts: DaemonRigOptions = {}): Promise<DaemonRig> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `xenode-${prefix}-`));
  const stateDir = join(dir, 'state');
  const daemon = await HostDaemon.start({ stateDir, poolSize: opts.poolSize ?? 1, shutdownGraceMs: opts.shutdownGraceMs ?? 2000,
    ...(opts.xapiPort !== undefined && { xapiPort: opts.xapiPort }), xapiKernelDirs: KERNEL_DIRS, ...(opts.migrationListen && { migrationListen: opts.migrationListen }) });
  const ts = await RemoteToolstack.connect(stateDir);
  const pool = opts.placement?.cpupool;
  if (pool) {
    if (!guarded) killIfAliveAfter(FILE_BOUND_MS, `${process.argv[1]} (a host with a shared cpupool)`);
    guarded = true;
    await ts.call('cpupoolCreate', { name: pool.name, cpus: pool.cpus });
  }
  return {
    dir,
    stateDir,
    daemon,
    ts,
    cfgFile(name, text) {
      const file = join(dir, `${name}.cfg`);
      writeFileSync(file, text);
      return file;
    },
    async close() {
      ts.close();
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
