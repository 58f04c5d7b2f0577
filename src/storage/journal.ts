// Journals of multi-step storage operations (snapshot, coalesce), as sm keeps them on the SR:
// one small JSON file per operation in the SR's `.journal` directory, durable (file and
// directory synced) before the first step and removed after the last. After a crash, what a
// journal names is rolled back or forward (snapshot.ts, gc.ts) before anything else touches
// the SR. sr-scan skips dot files, so a journal or a step's temporary file is never introduced
// as an image.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { XenError } from '../errors.js';
import { fsError } from './disk.js';
import { readNamed } from './named.js';

export const JOURNAL_DIR = '.journal';
/** Journals larger than this are not ours. */
const MAX_JOURNAL_BYTES = 64 * 1024;

/** Journals of operations running in this process (one host per state dir): not a crash's leftovers. */
const active = new Set<string>();

/** fsync a directory, so the names made or removed in it are durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Write a journal entry (durably); its id. */
export async function journalWrite(srDir: string, entry: object): Promise<string> {
  const dir = join(srDir, JOURNAL_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const id = randomUUID();
  // Marked ours before the file exists: a recovery running meanwhile must not take it for a crash's.
  active.add(id);
  try {
    const fh = await open(join(dir, `${id}.json`), 'wx', 0o600);
    try {
      // The file and its name are synced at once: a journal whose name survives a crash
      // without its text is unparsable, and taken as an operation that never began.
      await Promise.all([fh.writeFile(JSON.stringify(entry)).then(() => fh.sync()), syncDir(dir)]);
    } finally {
      await fh.close();
    }
  } catch (e) {
    active.delete(id);
    await rm(join(dir, `${id}.json`), { force: true });
    throw fsError('write journal', join(dir, `${id}.json`), e);
  }
  return id;
}

/**
 * The operation is over: its journal goes. Its removal is not synced: a journal a power cut
 * brings back is replayed, and replaying a finished snapshot, coalesce or migration changes
 * nothing (each recovery checks the files and records first).
 */
export async function journalDone(srDir: string, id: string): Promise<void> {
  active.delete(id);
  await rm(join(srDir, JOURNAL_DIR, `${id}.json`), { force: true });
}

/** The journals left in an SR by operations that did not finish, oldest first by name; a file that is not one is an error naming it. */
export async function journalEntries(srDir: string): Promise<{ id: string; entry: Record<string, unknown> }[]> {
  const dir = join(srDir, JOURNAL_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: { id: string; entry: Record<string, unknown> }[] = [];
  for (const name of names.sort()) {
    const m = /^([0-9a-f-]{36})\.json$/.exec(name);
    if (!m || active.has(m[1]!)) continue;
    // Read within its bound and without blocking: a FIFO or a device planted as a journal is refused by kind.
    const text = new TextDecoder().decode(await readNamed(join(dir, name), { what: 'journal', limit: MAX_JOURNAL_BYTES }));
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch {
      // Written and synced before the operation began: an unparsable one means it never began.
      await rm(join(dir, name), { force: true });
      continue;
    }
    if (typeof entry !== 'object' || entry === null) throw new XenError('EINVAL', `${join(dir, name)}: not a journal`);
    out.push({ id: m[1]!, entry: entry as Record<string, unknown> });
  }
  return out;
}
