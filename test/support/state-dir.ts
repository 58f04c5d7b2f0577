// A test process's own state directory. A bare Host (no stateDir option) keeps its database in
// memory, but its default SR's images (a disk's bare-name target, a VDI made there, a suspend
// image) go under the state dir it resolves: $XENODE_STATE_DIR, else ~/.xenode, a user's. A test
// file (or a bench, through bin/bench.js) that starts one sets XENODE_STATE_DIR to a temporary
// directory, which the children it spawns inherit, and removes it as the process exits (after
// every hook, a Host's close included): no test writes under $HOME, and an image a failed test
// left goes with its directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let made: string | undefined;

/**
 * The process's scratch state dir, made by its first call (named after `prefix`) and the same for
 * every later one: a host a file started first keeps the dir its images went to when a second host
 * is started (hostile.test.ts starts two XenAPI services).
 */
export function scratchStateDir(prefix: string): string {
  if (made === undefined) {
    const dir = mkdtempSync(join(tmpdir(), `xenode-${prefix}-state-`));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    made = dir;
  }
  process.env['XENODE_STATE_DIR'] = made;
  return made;
}
