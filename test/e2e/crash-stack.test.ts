// A guest's crash stack names the guest's own source file, wherever xenode runs from: not the
// linked image in the kernel cache, nor a path made up from the working directory.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { FIXTURES, ROOT, XENODE } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-crash-stack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `xenode run crash.cfg` from `cwd`, with no daemon (an embedded host); its console output. */
async function crashFrom(cwd: string): Promise<string> {
  const r = await promisify(execFile)(process.execPath, [XENODE, 'run', join(FIXTURES, 'crash.cfg')], {
    cwd, env: { ...process.env, XENODE_STATE_DIR: join(dir, 'state') }, timeout: 90_000,
  }).catch((e: { code: number; stdout: string; stderr: string }) => e);
  assert.equal((r as { code?: number }).code, 2, r.stderr);
  return r.stdout;
}

for (const [where, cwd] of [['the repository', ROOT], ['another directory', dir]] as const) {
  test(`run from ${where}: the crash stack names the guest's source file`, { timeout: 100_000 }, async () => {
    const out = await crashFrom(cwd);
    assert.match(out, /guest crashed: Error: boom from the guest/);
    const frame = /\n +at [^\n]*?\(?((?:file:\/\/)?\/[^\s()]*crash\.ts):6:\d+\)?/.exec(out);
    assert.ok(frame, `no frame in crash.ts:\n${out}`);
    const path = frame[1]!.replace(/^file:\/\//, '');
    assert.equal(path, join(FIXTURES, 'crash.ts'));
    assert.ok(existsSync(path));
    assert.doesNotMatch(out, /xenode-kernels/);
  });
}
