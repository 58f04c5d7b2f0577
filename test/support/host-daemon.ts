// A host daemon in a temporary state dir and a control-socket client to it, for e2e tests
// that drive the host as `xenode` does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  migrationListen?: { address: string; port: number };
}

export async function startDaemonRig(prefix: string, opts: DaemonRigOptions = {}): Promise<DaemonRig> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `xenode-${prefix}-`));
  const stateDir = join(dir, 'state');
  const daemon = await HostDaemon.start({ stateDir, poolSize: opts.poolSize ?? 1, shutdownGraceMs: opts.shutdownGraceMs ?? 2000,
    ...(opts.xapiPort !== undefined && { xapiPort: opts.xapiPort }), ...(opts.migrationListen && { migrationListen: opts.migrationListen }) });
  const ts = await RemoteToolstack.connect(stateDir);
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
