// What every subcommand that talks to a host shares: --state-dir, the connection, messages.
import type { Command } from 'commander';
import type { Toolstack } from '../toolstack/contract.js';
import { RemoteToolstack } from '../toolstack/client.js';
import { resolveStateDir } from '../toolstack/paths.js';

export interface StateDirOpts {
  readonly stateDir?: string;
}

export const STATE_DIR_DESCRIPTION = "the host's state directory (default: $XENODE_STATE_DIR, else ~/.xenode)";

export function withStateDir(cmd: Command): Command {
  return cmd.option('--state-dir <dir>', STATE_DIR_DESCRIPTION);
}

/** Run `fn` against the host daemon of the state dir; HostNotRunning if there is none. */
export async function withHost<T>(opts: StateDirOpts, fn: (ts: Toolstack) => Promise<T>): Promise<T> {
  const ts = await RemoteToolstack.connect(resolveStateDir(opts.stateDir));
  try {
    return await fn(ts);
  } finally {
    ts.close();
  }
}

/** xl prints its progress and notes on stderr, keeping stdout for results and consoles. */
export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}
