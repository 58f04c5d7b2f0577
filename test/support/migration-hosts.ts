// Two host daemons for migration tests: `a` sends, `b` receives on loopback (its token and
// address ready).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Host } from '../../src/toolstack/host.js';
import { startDaemonRig, type DaemonRig } from './host-daemon.js';

export interface HostPair {
  readonly a: DaemonRig;
  readonly b: DaemonRig;
  /** b's migration token and HOST:PORT. */
  readonly token: string;
  readonly target: string;
  close(): Promise<void>;
}

export async function startHostPair(prefix: string): Promise<HostPair> {
  const a = await startDaemonRig(`${prefix}-a`, { poolSize: 1 });
  const b = await startDaemonRig(`${prefix}-b`, { poolSize: 1, migrationListen: { address: '127.0.0.1', port: 0 } });
  return {
    a, b,
    token: readFileSync(join(b.stateDir, 'migration-token'), 'utf8').trim(),
    target: `127.0.0.1:${b.daemon.migration!.port}`,
    close: async () => {
      await a.close();
      await b.close();
    },
  };
}

export const hostOf = (r: DaemonRig): Host => r.daemon.local.host;

/** A pair started before the file's tests (handed to `use`) and closed after them. */
export function hostPairForTests(prefix: string, use: (p: HostPair) => void): void {
  let pair: HostPair | undefined;
  before(async () => {
    pair = await startHostPair(prefix);
    use(pair);
  });
  after(() => pair?.close());
}
