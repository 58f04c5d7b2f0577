// `xenode demo` as the README's quick start runs it: four guests boot and do their work, www's
// page comes back through dom0's gateway, and on a terminal (a pty from util-linux's `script`)
// www keeps serving until Enter, so that a user's own curl is answered by the guest.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, XENODE, xenode } from '../support/cli.js';

// Bounds against a hung demo, not timings: it boots four guests, and took 7 s at load 6 but over
// 60 s (the old kill) at load 18.
const T = { timeout: 240_000 };
const KILL_MS = 200_000;

// On a failure, the demo's whole output: a guest still running at its timeout, or www not
// serving, has it dump the event channels (xenode debug-keys e), which says which side lost an event.
function checkSummary(out: string): void {
  const said = `the demo said:\n${out}`;
  assert.match(out, /\n4 guests:\n/, said);
  assert.match(out, /hello.*powered off; Hello from xenode!/, said);
  assert.match(out, /kv-store.*found it on its disk/, said);
  assert.match(out, /blkbench.*[0-9,]+ IOPS/, said);
  assert.match(out, /www.*GET http:\/\/127\.0\.0\.1:\d+\/ -> 200, \d+ bytes/, said);
  assert.match(out, /Cleaned up /, said);
}

test('the demo without a terminal: four guests, a page from www, everything cleaned up', T, async () => {
  const state = mkdtempSync(join(tmpdir(), 'xenode-demo-test-'));
  try {
    // Any free port: the www tests may hold 8080 at the same time.
    const r = await xenode(['demo', '--port', '0'], { state, killMs: KILL_MS });
    assert.equal(r.code, 0, r.stderr);
    // The summary on stdout, the demo's remarks on stderr.
    checkSummary(r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /Press Enter/);
    const dir = /Cleaned up (\S+)\./.exec(r.stderr)![1]!;
    assert.equal(existsSync(dir), false);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

test('the demo on a terminal keeps www serving until Enter: the user can curl it', T, async (t) => {
  if (!existsSync('/usr/bin/script')) return t.skip('util-linux script(1) is not installed: no pty to run the demo on');
  const state = mkdtempSync(join(tmpdir(), 'xenode-demo-test-'));
  const child = spawn('/usr/bin/script', ['-qfc', `${process.execPath} ${XENODE} demo --port 0`, '/dev/null'], {
    cwd: ROOT, env: { ...process.env, XENODE_STATE_DIR: state, TERM: 'dumb' },
  });
  const kill = setTimeout(() => child.kill('SIGKILL'), KILL_MS);
  let out = '';
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /www is serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('close', () => reject(new Error(`the demo ended without serving:\n${out}`)));
    });
    // The demo's own fetch was one request; ours is answered by the same guest.
    // On failure, the demo's output so far (its top view, what its own fetch gave) goes with the error.
    const res = await fetch(`${url}api/status`, { signal: AbortSignal.timeout(15_000) }).catch((e: Error) => {
      // A timeout's error has no cause: its own message says what happened.
      const why = e.cause == null ? '' : ` (${String((e.cause as Error).message ?? e.cause)})`;
      throw new Error(`${e.message}${why}; the demo said:\n${out}`, { cause: e });
    });
    const status = (await res.json()) as { server: string; requests: number };
    assert.equal(status.server, 'xenode-www');
    assert.ok(status.requests >= 2, `requests ${status.requests}`);
    child.stdin.write('\r');
    assert.equal(await closed, 0, out);
    checkSummary(out.replace(/\r\n/g, '\n').replace(/\x1b\[[0-9;]*m/g, ''));
  } finally {
    clearTimeout(kill);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(state, { recursive: true, force: true });
  }
});
