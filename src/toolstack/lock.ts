// One host per state dir: the host holds a lock file with its pid. The file appears with its
// content in one step (written aside, then hard-linked into place, which fails if it exists),
// so nobody reads a half-written lock. A lock whose pid is gone is stale and taken over.
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { XenError } from '../errors.js';
import { displayPath } from './paths.js';

/** The pid a lock file names, if it names one. */
export function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined): pid is number {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is just not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ignoreMissing(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export class HostLock {
  private constructor(readonly path: string) {}

  /** Take the lock for this process; EEXIST (saying what to do) if a live host holds it. */
  static acquire(path: string, stateDir: string): HostLock {
    const running = (pid: number) => new XenError('EEXIST',
      `a host is already running on ${displayPath(stateDir)} (pid ${pid}): stop it with \`xenode host stop\`, or use another --state-dir`);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
    try {
      // Twice at most: once as it is, once more after clearing a stale lock.
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          linkSync(tmp, path);
          return new HostLock(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const holder = readPid(path);
        if (alive(holder)) throw running(holder);
        // Move the stale lock aside, then make sure it was that stale lock we moved: another
        // starter may have replaced it in between, and then it goes back.
        const aside = `${path}.stale.${process.pid}`;
        try {
          renameSync(path, aside);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw e;
        }
        const moved = readPid(aside);
        if (moved !== holder && alive(moved)) {
          ignoreMissing(() => linkSync(aside, path));
          unlinkSync(aside);
          throw running(moved);
        }
        unlinkSync(aside);
      }
      throw new XenError('EAGAIN', `another host is starting on ${displayPath(stateDir)}: try again`);
    } finally {
      ignoreMissing(() => unlinkSync(tmp));
    }
  }

  /** Give the lock up (synchronous, so that exit handlers can do it). */
  release(): void {
    if (readPid(this.path) === process.pid) ignoreMissing(() => unlinkSync(this.path));
  }
}

/**
 * Wait until the host `pid` no longer holds the lock at `path` (it released it, or died). A host
 * hangs up on its clients before it has closed and released its state dir, so `xenode host stop`
 * waits here: a `host start` right after it then finds the state dir free. False past `ms`.
 */
export async function lockReleased(path: string, pid: number, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (readPid(path) === pid && alive(pid)) {
    if (performance.now() > end) return false;
    await sleep(20);
  }
  return true;
}
