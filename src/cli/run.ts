// `xenode run FILE.cfg`: boot one guest with its console on this terminal and exit when it is
// gone, with a status that says how it ended (RUN_EXIT). It uses the host daemon of the state
// dir when one runs; otherwise it starts a host in this process for this one guest.
import { HostNotRunning, RemoteToolstack } from '../toolstack/client.js';
import { displayPath, resolveStateDir } from '../toolstack/paths.js';
import { say } from './common.js';
import { createDomain, type CreateOptions } from './follow.js';
import { keepHeapFlagsToDom0 } from './heap-flags.js';

export interface RunOptions {
  readonly stateDir?: string;
  readonly quiet?: boolean;
}

export async function run(file: string, opts: RunOptions): Promise<number> {
  const stateDir = resolveStateDir(opts.stateDir);
  const how: CreateOptions = { console: true, foreground: true, quiet: opts.quiet === true };
  const remote = await RemoteToolstack.connect(stateDir).catch((e: unknown) => {
    if (e instanceof HostNotRunning) return null;
    throw e;
  });
  if (remote) {
    if (!opts.quiet) say(`Using the host running on ${displayPath(stateDir)}`);
    try {
      return await createDomain(remote, file, how);
    } finally {
      remote.close();
    }
  }
  keepHeapFlagsToDom0();
  const { startLocalHost } = await import('../toolstack/local.js');
  const local = await startLocalHost({ stateDir, echo: (e) => void (e.type === 'message' && say(`xenode: ${e.text}`)) });
  try {
    return await createDomain(local.api, file, how);
  } finally {
    await local.close();
  }
}
