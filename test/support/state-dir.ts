// A test process's own state directory. A bare Host (no stateDir option) keeps its database in
// memory, but its default SR's images (a disk's bare-name target, a VDI made there, a suspend
// image) go under the state dir it resolves: $XENODE_STATE_DIR, else ~/.xenode, a user's. A test
// file that starts one sets XENODE_STATE_DIR to a fresh temporary directory, which the children it
// spawns inherit, and removes it as the process exits (after every hook, a Host's close included):
// no test writes under $HOME, and an image a failed test left goes with its directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function scratchStateDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `xenode-${prefix}-state-`));
  process.env['XENODE_STATE_DIR'] = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
