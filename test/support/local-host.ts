// An in-process host (the command layer over a Host) with a state dir of its own, for a test
// file: started before its tests, closed and its dir removed after them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startLocalHost, type LocalHost } from '../../src/toolstack/local.js';

/** Hands the started host and its state dir to `use` before the file's tests run. */
export function localHostForTests(prefix: string, use: (local: LocalHost, dir: string) => void): void {
  let local: LocalHost | undefined;
  let dir: string | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `xenode-${prefix}-`));
    local = await startLocalHost({ stateDir: dir });
    use(local, dir);
  });
  after(async () => {
    await local?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}
