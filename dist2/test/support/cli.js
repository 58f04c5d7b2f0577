// The xenode command as a user runs it, for end-to-end tests: a child process, its output and
// its exit status.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const XENODE = join(ROOT, 'bin/xenode.js');
export const FIXTURES = join(ROOT, 'test/fixtures/guests');
/** Run `xenode ARGS` from the repository root to the end (killed after 25 s). */
export function xenode(args, opts) {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [XENODE, ...args], { cwd: ROOT, env: { ...process.env, XENODE_STATE_DIR: opts.state } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b) => {
            stdout += b.toString();
            opts.onStdout?.(stdout, child);
        });
        child.stderr.on('data', (b) => (stderr += b.toString()));
        if (opts.input !== undefined)
            child.stdin.write(opts.input);
        const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
        child.on('error', reject);
        child.on('close', (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}
//# sourceMappingURL=cli.js.map