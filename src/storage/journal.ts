// Journals of multi-step storage operations (snapshot, coalesce), as sm keeps them on the SR:
// one small JSON file per operation in the SR's `.journal` directory, durable (file and
// directory synced) before the first step and removed after the last. After a crash, what a
// journal names is rolled back or forward (snapshot.ts, gc.ts, migrate.ts) before anything
// else touches the SR. sr-scan skips dot files, so a journal or a step's temporary file is never
// introduced as an image, nor a file a running operation's journal names or it claimed (watchOwned).
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { XenError } from '../errors.js';
import { fsError } from './disk.js';
import { isUuid } from '../toolstack/db/records.js';
import { NamedFileError, readNamed } from './named.js';
import { knownFormat } from './open.js';
import { isLocation } from './sr.js';

export const JOURNAL_DIR = '.journal';
/** Journals larger than this are not ours. */
const MAX_JOURNAL_BYTES = 64 * 1024;

/**
 * Journals of operations running in this process (one host per state dir): not a crash's
 * leftovers. Each with its SR's directory and the files there the operation makes or renames.
 */
const active = new Map<string, { readonly dir: string; readonly owns: readonly string[] }>();

/** Scans under way (watchOwned): the names of files operations own in an SR, since each scan began. */
const watchers = new Set<{ readonly dir: string; readonly names: Set<string> }>();

/** fsync a directory, so the names made or removed in it are durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write a journal entry (durably); its id. `owns`: the files in the SR the operation makes
 * (or renames) before its records name them, which sr-scan must not introduce meanwhile.
 */
export async function journalWrite(srDir: string, entry: object, owns: readonly string[]): Promise<string> {
  const dir = join(srDir, JOURNAL_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const id = randomUUID();
  // Marked ours before the file exists (and before any file it names): a recovery running
  // meanwhile must not take it for a crash's, nor a scan its files for strangers.
  own(id, srDir, owns);
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
    await rm(join(dir, `${id}.json`), { force: true });
    active.delete(id);
    throw fsError('write journal', join(dir, `${id}.json`), e);
  }
  return id;
}

/** Files `owns` of the SR at `srDir` are being made by this process (under `id`): scans under way and to come skip them. */
function own(id: string, srDir: string, owns: readonly string[]): void {
  active.set(id, { dir: srDir, owns });
  for (const w of watchers) if (w.dir === srDir) for (const n of owns) w.names.add(n);
}

/**
 * Run `make`, which writes the files `names` in the SR at `srDir` and commits the records
 * naming them (or removes them), with those files owned meanwhile: a one-step operation
 * (vdi-create, vdi-copy, vdi-import) needs no journal, as a crash leaves a whole or half-made
 * file that sr-scan may introduce then, but a scan while it runs must not introduce it.
 */
export async function claimed<T>(srDir: string, names: readonly string[], make: () => Promise<T>): Promise<T> {
  const id = randomUUID();
  own(id, srDir, names);
  try {
    return await make();
  } finally {
    active.delete(id);
  }
}

/**
 * The operation is over: its journal goes. Its removal is not synced: a journal a power cut
 * brings back is replayed, and replaying a finished snapshot, coalesce or migration changes
 * nothing (each recovery checks the files and records first).
 */
export async function journalDone(srDir: string, id: string): Promise<void> {
  // Ours until its file is gone: a recovery that lists it meanwhile must not replay the operation just finished.
  await rm(join(srDir, JOURNAL_DIR, `${id}.json`), { force: true });
  active.delete(id);
}

/**
 * The files operations of this process own in the SR at `srDir` (named by their journals) at
 * any time from now until `stop()`: a scan that skips them introduces no half-made image,
 * whether its operation began before the scan, during it, or failed and removed it meanwhile.
 */
export function watchOwned(srDir: string): { readonly names: ReadonlySet<string>; stop(): void } {
  const w = { dir: srDir, names: new Set<string>() };
  for (const a of active.values()) if (a.dir === srDir) for (const n of a.owns) w.names.add(n);
  watchers.add(w);
  return { names: w.names, stop: () => void watchers.delete(w) };
}

/** A journal that is read but not acted on: it cannot be read, or names something outside the rules below. */
export class BadJournal extends XenError {
  override name = 'BadJournal';
  constructor(readonly path: string, readonly why: string) {
    super('EINVAL', `journal ${path} ${why}: it is left alone`);
  }
}

/** What is wrong with a journal's value (undefined: nothing). */
type Check = (v: unknown) => string | undefined;

const str = (ok: (s: string) => boolean, what: string): Check => (v) => (typeof v === 'string' && ok(v) ? undefined : `is not ${what}`);
// Every name is a file name in the SR (imagePath's rule): a journal anyone who can write in the
// SR's directory could have planted must not have recovery rename or delete a file elsewhere.
const location = str(isLocation, "a file name in the SR");
const tmpName = str((s) => s.startsWith('.') && isLocation(s.slice(1)), "a hidden file name in the SR");
const uuid = str(isUuid, 'a uuid');
const layered = str((s) => knownFormat(s)?.layers !== undefined, 'a format with differencing images');
const text = str(() => true, 'a string');
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'is not a boolean');
const optional = (c: Check): Check => (v) => (v === undefined ? undefined : c(v));
const list = (c: Check, max: number): Check => (v) => {
  if (!Array.isArray(v) || v.length > max) return `is not a list of at most ${max}`;
  for (const [i, x] of v.entries()) {
    const why = c(x);
    if (why) return `[${i}] ${why}`;
  }
  return undefined;
};
const obj = (fields: Record<string, Check>): Check => (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'is not an object';
  for (const [k, c] of Object.entries(fields)) {
    const why = c((v as Record<string, unknown>)[k]);
    if (why) return `${k} ${why}`;
  }
  return undefined;
};

/** The journals there are (snapshot.ts, gc.ts, migrate.ts write them), and what each must hold. */
const SHAPES = {
  snapshot: obj({
    vdi: uuid, format: layered, leaf: location, tmp: tmpName, base: obj({ uuid, location }),
    child: obj({ uuid, location, name: text, description: text, clone: bool, time: text }),
  }),
  coalesce: obj({ format: layered, leaf: bool, parent: obj({ uuid, location }), child: obj({ uuid, location }) }),
  migrate: obj({ vdi: uuid, files: list(location, 2), src: optional(obj({ sr: uuid, location })) }),
} as const;
export type JournalOp = keyof typeof SHAPES;

/** A journal an operation left, checked against its op's shape. */
export interface Journal {
  readonly id: string;
  readonly entry: Record<string, unknown>;
}

/** An SR's journals as one read found them: what recovery acts on, and what it leaves alone. */
export class Journals {
  constructor(
    /** Left by operations that did not finish, oldest first by name. */
    readonly entries: readonly Journal[],
    /** Not acted on (unreadable, or failing their op's shape), each a BadJournal. */
    readonly bad: readonly BadJournal[],
  ) {}

  /** The journals of operation `op`, oldest first. */
  of(op: JournalOp): Journal[] {
    return this.entries.filter((e) => e.entry['op'] === op);
  }
}

/**
 * Read an SR's journals once (recovery's consumers share the result): those of operations
 * running in this process are not a crash's leftovers, and are skipped.
 */
export async function readJournals(srDir: string): Promise<Journals> {
  const dir = join(srDir, JOURNAL_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  const entries: Journal[] = [];
  const bad: BadJournal[] = [];
  for (const name of names.sort()) {
    const m = /^([0-9a-f-]{36})\.json$/.exec(name);
    if (!m || active.has(m[1]!)) continue;
    const path = join(dir, name);
    let text: string;
    try {
      // Read within its bound and without blocking: a FIFO or a device planted as a journal is refused by kind.
      text = (await readNamed(path, { what: 'journal', limit: MAX_JOURNAL_BYTES })).toString('utf8');
    } catch (e) {
      if (!(e instanceof NamedFileError)) throw e;
      // Listed, then removed: its operation finished meanwhile.
      if (e.errno === 'ENOENT') continue;
      bad.push(new BadJournal(path, e.why));
      continue;
    }
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch {
      // Written and synced before the operation began: an unparsable one means it never began.
      await rm(path, { force: true });
      continue;
    }
    const op = (entry as { op?: unknown } | null)?.op;
    const shape = typeof op === 'string' && Object.hasOwn(SHAPES, op) ? SHAPES[op as JournalOp] : undefined;
    const why = shape ? shape(entry) : 'is not a journal of a known operation';
    if (why) bad.push(new BadJournal(path, why));
    else entries.push({ id: m[1]!, entry: entry as Record<string, unknown> });
  }
  return new Journals(entries, bad);
}
