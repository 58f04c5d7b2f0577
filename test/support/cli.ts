// The xenode command as a user runs it, for end-to-end tests: a child process, its output and
// its exit status.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const XENODE = join(ROOT, 'bin/xenode.cjs');
export const FIXTURES = join(ROOT, 'test/fixtures/guests');

export interface Result { code: number | null; stdout: string; stderr: string }

export interface RunOptions {
  /** XENODE_STATE_DIR of the command. */
  readonly state: string;
  /** More environment variables for the command. */
  readonly env?: Readonly<Record<string, string>>;
  /** Typed into its stdin. */
  readonly input?: string;
  /** Sees the output so far, and may signal or type into the child. */
  readonly onStdout?: (text: string, child: ChildProcessWithoutNullStreams) => void;
  /** When a hung child is killed (default 60 s): a command that boots several guests needs more under load. */
  readonly killMs?: number;
}

/** Run `xenode ARGS` from the repository root to the end (killed after `killMs`: a bound against a
 * hung child, not a timing check; a loaded CI machine runs a migrate or a second host slowly). */
export function xenode(args: string[], opts: RunOptions): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [XENODE, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env, XENODE_STATE_DIR: opts.state } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      opts.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    if (opts.input !== undefined) child.stdin.write(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.killMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
