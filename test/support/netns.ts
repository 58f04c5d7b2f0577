// What the tests that put Linux in a network namespace need from the machine.
import { execFileSync } from 'node:child_process';

/** True if `tool` is on the PATH. */
export function hasCommand(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why a namespace test cannot run here (not root, or one of `tools` missing); undefined if it can. */
export function netnsUnavailable(tools: readonly string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for a network namespace and a TAP device';
  const absent = tools.find((t) => !hasCommand(t));
  return absent === undefined ? undefined : `needs ${absent}`;
}
