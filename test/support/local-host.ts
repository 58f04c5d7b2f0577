// An in-process host for a test file, started before its tests, closed and its directory removed
// after them: the command layer over a Host with a state dir of its own, or a bare Host.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Host } from '../../src/toolstack/host.js';
import type { TaskCall, TaskInfo } from '../../src/toolstack/contract.js';
import { startLocalHost, type LocalHost } from '../../src/toolstack/local.js';
import { scratchStateDir } from './state-dir.js';

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

/**
 * The same for a bare Host (no state dir option): `dir` is a scratch directory for the file's
 * images and save files, and its default SR's images go to a state dir of the process's own.
 */
export function hostForTests(prefix: string, use: (host: Host, dir: string) => void): void {
  scratchStateDir(prefix);
  let host: Host | undefined;
  let dir: string | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `xenode-${prefix}-`));
    host = await Host.start({ poolSize: 1 });
    use(host, dir);
  });
  after(async () => {
    await host?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * Submit `call` as a task, cancel it at once, and wait for its end: polled until it finishes,
 * for at most a minute (a loaded machine runs the task's steps late; the caller asserts its end).
 */
export async function cancelledTask(local: LocalHost, call: TaskCall): Promise<TaskInfo> {
  const t = await local.api.call('taskSubmit', { call });
  await local.api.call('taskCancel', { task: t.uuid });
  let info: TaskInfo = t;
  for (const end = Date.now() + 60_000; info.finished === null && Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 10));
    info = await local.api.call('taskGet', { task: t.uuid });
  }
  return info;
}
