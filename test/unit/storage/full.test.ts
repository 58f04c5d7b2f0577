// Disk full during a snapshot or a live migration (issue 14's bad input): the operation fails
// with a clean error, the guest writing through blkfront runs on and loses no acknowledged
// write, no snapshot or destination file is left, and the operation works once there is room.
// The full file system is a small tmpfs in a user and mount namespace of the test's own
// (unshare -rm), so nothing outside the test fills up; the child (test/support/vdi-full-child.ts)
// runs the host side inside it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('../../support/vdi-full-child.js', import.meta.url));

async function namespaces(): Promise<string | false> {
  if (!existsSync('/usr/bin/unshare')) return 'unshare (util-linux) is not installed';
  return run('/usr/bin/unshare', ['-rm', 'true']).then(() => false, (e: Error) => `user namespaces are not available here: ${e.message.split('\n')[0]}`);
}

interface Outcome {
  error: string; message?: string; steps: string[]; acked: number; writes: number; guestBad: number; imageBad: number;
  vdis: string[]; fullFiles: string[]; srcFiles: string[]; retry: string;
}

/** The child in a namespace of its own, `full` (under the state dir) a tmpfs of `mb` MiB. */
async function inFullNamespace(op: 'snapshot' | 'migrate', format: string, mb: number): Promise<Outcome> {
  const state = await mkdtemp(join(tmpdir(), `xenode-full-${op}-`));
  try {
    const full = join(state, op === 'snapshot' ? 'images' : 'fast');
    const script = `mkdir -p "$1" && mount -t tmpfs -o size=${mb}m,mode=0700 none "$1" && exec "${process.execPath}" "${CHILD}" "$0" "$1" ${op} ${format}`;
    const { stdout } = await run('/usr/bin/unshare', ['-rm', 'sh', '-c', script, state, full], { timeout: 120_000, maxBuffer: 1 << 24 });
    return JSON.parse(stdout.trim().split('\n').pop()!) as Outcome;
  } finally {
    await rm(state, { recursive: true, force: true });
  }
}

function assertNothingLost(o: Outcome): void {
  assert.equal(o.error, 'ENOSPC', `the operation failed with ${o.error}: ${o.message}`);
  assert.match(o.message!, /\.(vhd|qcow2)\b/, 'the error names the image it could not write');
  assert.ok(o.writes >= 100, `the guest wrote on (${o.writes} writes)`);
  assert.equal(o.guestBad, 0, 'acknowledged runs the guest read back wrong');
  assert.equal(o.imageBad, 0, 'acknowledged runs the image holds wrong');
}

for (const format of ['vhd', 'qcow2']) {
  test(`${format}: a snapshot on a full SR fails with ENOSPC; the guest writes on, nothing acknowledged is lost, nothing is left`, async (t) => {
    const skip = await namespaces();
    if (skip) return t.skip(skip);
    const o = await inFullNamespace('snapshot', format, 16);
    assertNothingLost(o);
    assert.deepEqual(o.vdis, ['root@default'], 'no snapshot record');
    assert.equal(o.srcFiles.length, 1, `one image in the SR: ${o.srcFiles.join(', ')}`);
    assert.equal(o.retry, 'after', 'a snapshot works once there is room');
  });

  test(`${format}: a live migration to a full SR fails with ENOSPC; the guest stays on the source, nothing acknowledged is lost, nothing is left`, async (t) => {
    const skip = await namespaces();
    if (skip) return t.skip(skip);
    const o = await inFullNamespace('migrate', format, 16);
    assertNothingLost(o);
    assert.ok(o.steps.includes('mirroring'), `the migration got as far as the copy (steps: ${o.steps.join(', ')})`);
    assert.deepEqual(o.vdis, ['root@default'], 'the VDI is in its SR, no snapshot record');
    assert.deepEqual(o.fullFiles, [], 'nothing left in the destination');
    assert.equal(o.srcFiles.length, 1, `one image in the source: ${o.srcFiles.join(', ')}`);
    assert.equal(o.retry, 'fast', 'the migration works once there is room');
  });
}
