// An SR's journals are read within their bound and without blocking, and checked before they
// are acted on: whoever can write in the SR's directory cannot have recovery read a huge file
// whole, wait on a FIFO for ever, rename or delete a file outside the SR, or stop sr-scan.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import { BadJournal, JOURNAL_DIR, journalDone, journalWrite, readJournals, type JournalOp } from '../../../src/storage/journal.js';
import { Storage } from '../../../src/storage/sr.js';
import { Vdis } from '../../../src/storage/vdi.js';
import { SqliteHostDb } from '../../../src/toolstack/db/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-journal-'));
const fifos: string[] = [];
after(() => {
  // Had a read opened a FIFO and waited for a writer, this lets it end (and the process exit).
  for (const f of fifos) {
    try {
      closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch { /* ENXIO: nobody is reading it */ }
  }
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;

/** The checked journals of `op` left in `d`. */
const journalEntries = async (d: string, op: JournalOp) => (await readJournals(d)).of(op);

function sr(): string {
  const d = join(dir, `sr${n++}`);
  mkdirSync(join(d, JOURNAL_DIR), { recursive: true });
  return d;
}

const U = () => randomUUID();
const coalesceJournal = () => ({ op: 'coalesce', format: 'vhd', leaf: true, parent: { uuid: U(), location: `${U()}.vhd` }, child: { uuid: U(), location: `${U()}.vhd` } });

/** The journals recovery leaves alone in `d`: file name → why. */
async function bad(d: string): Promise<Record<string, string>> {
  return Object.fromEntries((await readJournals(d)).bad.map((b) => {
    assert.ok(b instanceof BadJournal && isXenError(b, 'EINVAL'), b.message);
    return [basename(b.path), b.why];
  }));
}

test('journals written are read back; one past the bound is left alone by its size, before it is read', async () => {
  const d = sr();
  // One of this process's own operations, still running: not a crash's leftover, so not listed.
  const id = await journalWrite(d, coalesceJournal(), []);
  const name = '00000000-0000-4000-8000-000000000000.json';
  const entry = coalesceJournal();
  writeFileSync(join(d, JOURNAL_DIR, name), JSON.stringify(entry));
  assert.deepEqual(await journalEntries(d, 'coalesce'), [{ id: name.slice(0, 36), entry }]);
  assert.deepEqual(await journalEntries(d, 'snapshot'), []);
  await journalDone(d, id);
  // A sparse 4 GiB file: refused by its size (before, it was read as a whole first); the others are still read.
  truncateSync(join(d, JOURNAL_DIR, name), 2 ** 32);
  writeFileSync(join(d, JOURNAL_DIR, '00000000-0000-4000-8000-000000000001.json'), JSON.stringify(entry));
  assert.deepEqual((await journalEntries(d, 'coalesce')).map((e) => e.id), ['00000000-0000-4000-8000-000000000001']);
  assert.deepEqual(await bad(d), { [name]: 'is 4294967296 bytes; the limit is 65536' });
});

test('a FIFO named as a journal is left alone without waiting for a writer', { timeout: 20_000 }, async () => {
  const d = sr();
  const fifo = join(d, JOURNAL_DIR, '11111111-1111-4111-8111-111111111111.json');
  execFileSync('mkfifo', [fifo]);
  fifos.push(fifo);
  assert.deepEqual(await journalEntries(d, 'snapshot'), []);
  assert.deepEqual(await bad(d), { [basename(fifo)]: 'is a FIFO (named pipe); it must be a regular file' });
});

test('a journal naming a file outside its SR, a bad uuid or format, or not an object is never acted on', async () => {
  const d = sr();
  const snap = {
    op: 'snapshot', vdi: U(), format: 'vhd', leaf: 'x.vhd', tmp: `.snapshot-${U()}.vhd`, base: { uuid: U(), location: `${U()}.vhd` },
    child: { uuid: U(), location: `${U()}.vhd`, name: 'n', description: '', clone: false, time: '' },
  };
  const cases: [unknown, string][] = [
    [{ ...snap, tmp: '../victim/important.conf' }, 'tmp is not a hidden file name in the SR'],
    [{ ...snap, child: { ...snap.child, location: '../victim/other.conf' } }, 'child location is not a file name in the SR'],
    [{ ...snap, base: { ...snap.base, location: '/etc/passwd' } }, 'base location is not a file name in the SR'],
    [{ ...snap, leaf: '.journal' }, 'leaf is not a file name in the SR'],
    [{ ...snap, vdi: 'x' }, 'vdi is not a uuid'],
    [{ ...snap, format: 'raw' }, 'format is not a format with differencing images'],
    [{ ...coalesceJournal(), format: 'qed' }, 'format is not a format with differencing images'],
    [{ ...coalesceJournal(), parent: { uuid: U(), location: '..' } }, 'parent location is not a file name in the SR'],
    [{ op: 'migrate', vdi: U(), files: ['a.vhd', '../b.vhd'] }, 'files [1] is not a file name in the SR'],
    [{ op: 'migrate', vdi: U(), files: [], src: { sr: U(), location: 'a/b' } }, 'src location is not a file name in the SR'],
    [[1, 2], 'is not a journal of a known operation'],
    [7, 'is not a journal of a known operation'],
    [null, 'is not a journal of a known operation'],
    [{ op: 'format-disk' }, 'is not a journal of a known operation'],
  ];
  const want: Record<string, string> = {};
  for (const [i, [entry, why]] of cases.entries()) {
    const name = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}.json`;
    writeFileSync(join(d, JOURNAL_DIR, name), JSON.stringify(entry));
    want[name] = why;
  }
  const good = `ffffffff-0000-4000-8000-000000000000.json`;
  writeFileSync(join(d, JOURNAL_DIR, good), JSON.stringify(snap));
  for (const op of ['snapshot', 'coalesce', 'migrate'] as const) {
    assert.deepEqual((await journalEntries(d, op)).map((e) => e.id), op === 'snapshot' ? [good.slice(0, 36)] : [], op);
  }
  assert.deepEqual(await bad(d), want);
});

test('sr-scan with a planted journal: no host file is touched, the scan goes on, and the journal is reported', async () => {
  const state = join(dir, `scan${n++}`);
  mkdirSync(join(state, 'images'), { recursive: true });
  const db = SqliteHostDb.open(join(state, 'host.db'));
  const vdis = new Vdis(new Storage(db, join(state, 'images')), async () => []);
  const made = await vdis.create({ sr: 'default', name: 'd', size: '1M', format: 'vhd' });
  const victim = join(state, 'victim');
  mkdirSync(victim);
  writeFileSync(join(victim, 'important.conf'), 'keep me\n');
  writeFileSync(join(victim, 'other.conf'), 'keep me too\n');
  mkdirSync(join(state, 'images', JOURNAL_DIR));
  const planted = [
    { op: 'snapshot', vdi: U(), format: 'vhd', leaf: 'x.vhd', tmp: '../victim/important.conf', base: { uuid: U(), location: 'nothing.vhd' },
      child: { uuid: U(), location: '../victim/other.conf', name: 'n', description: '', clone: false, time: '' } },
    { op: 'coalesce', format: 'vhd', leaf: false, parent: { uuid: U(), location: 'p.vhd' }, child: { uuid: U(), location: '../victim/other.conf' } },
    { op: 'migrate', vdi: U(), files: ['../victim/important.conf'] },
    [], { op: 'snapshot', format: 'qed' },
  ];
  const names = planted.map((_, i) => `${JOURNAL_DIR}/00000000-0000-4000-8000-00000000000${i}.json`);
  for (const [i, j] of planted.entries()) writeFileSync(join(state, 'images', names[i]!), JSON.stringify(j));
  const report = await vdis.scan('default');
  assert.equal(readFileSync(join(victim, 'important.conf'), 'utf8'), 'keep me\n');
  assert.equal(readFileSync(join(victim, 'other.conf'), 'utf8'), 'keep me too\n');
  assert.deepEqual(report.skipped.map((s) => s.file), names);
  assert.match(report.skipped[0]!.why, /^tmp is not a hidden file name in the SR$/);
  assert.deepEqual((await vdis.list()).map((v) => [v.record.uuid, v.record.missing]), [[made.record.uuid, false]]);
  // Left where they are, for the administrator: reported again by the next scan.
  assert.equal((await vdis.scan('default')).skipped.length, planted.length);
  await db.close();
});

/** Run `body` with `fsp[name]` replaced by `patched` (seen by the modules' named imports too), then put back. */
async function patchedFs<K extends 'readdir' | 'rm'>(name: K, patched: (orig: (typeof fsp)[K]) => (typeof fsp)[K], body: () => Promise<void>): Promise<void> {
  const orig = fsp[name];
  fsp[name] = patched(orig);
  syncBuiltinESMExports();
  try {
    await body();
  } finally {
    fsp[name] = orig;
    syncBuiltinESMExports();
  }
}

test('a journal is its operation\'s until its file is gone: a recovery that lists it while journalDone removes it does not replay it', async () => {
  const d = sr();
  const id = await journalWrite(d, coalesceJournal(), []);
  const path = join(d, JOURNAL_DIR, `${id}.json`);
  let seen: Awaited<ReturnType<typeof readJournals>> | undefined;
  await patchedFs('rm', (rm) => (async (p: string, o?: unknown) => {
    // A recovery reads the SR's journals just before the file goes.
    if (String(p) === path) seen = await readJournals(d);
    return rm(p, o as never);
  }) as typeof fsp.rm, () => journalDone(d, id));
  assert.deepEqual([seen?.entries, seen?.bad], [[], []]);
});

test('a journal listed, then removed by its operation before it is read, is skipped: neither replayed nor reported', async () => {
  const d = sr();
  const id = await journalWrite(d, coalesceJournal(), []);
  const path = join(d, JOURNAL_DIR, `${id}.json`);
  // Read as another host process (or after a restart) would: not this process's operation.
  writeFileSync(join(d, JOURNAL_DIR, `${U()}.json`), JSON.stringify(coalesceJournal()));
  await journalDone(d, id);
  writeFileSync(path, JSON.stringify(coalesceJournal()));
  let listed: string[] = [];
  await patchedFs('readdir', (readdir) => (async (p: string, o?: unknown) => {
    const names = await readdir(p, o as never);
    if (String(p) === join(d, JOURNAL_DIR)) {
      listed = names.map(String);
      rmSync(path);
    }
    return names;
  }) as typeof fsp.readdir, async () => {
    const js = await readJournals(d);
    assert.equal(listed.length, 2);
    assert.deepEqual([js.entries.length, js.bad], [1, []]);
    assert.notEqual(js.entries[0]!.id, id);
  });
});

test('an operation that begins while sr-scan reads the SR, or fails and removes its file then, is neither introduced nor fails the scan', async () => {
  const state = join(dir, `race${n++}`);
  const images = join(state, 'images');
  mkdirSync(images, { recursive: true, mode: 0o700 });
  const db = SqliteHostDb.open(join(state, 'host.db'));
  const vdis = new Vdis(new Storage(db, images), async () => []);
  await vdis.create({ sr: 'default', name: 'd', size: '1M' });
  const begun = `${U()}.raw`;
  const failed = `${U()}.raw`;
  writeFileSync(join(images, failed), Buffer.alloc(1 << 20));
  const failing = await journalWrite(images, coalesceJournal(), [failed]);
  let journal: string | undefined;
  await patchedFs('readdir', (readdir) => (async (p: string, o?: unknown) => {
    const names = await readdir(p, o as never);
    if (String(p) !== images) return names;
    // After the scan listed the SR: one operation begins and makes its file, the other fails and removes its own.
    journal = await journalWrite(images, coalesceJournal(), [begun]);
    writeFileSync(join(images, begun), Buffer.alloc(1 << 20));
    rmSync(join(images, failed));
    await journalDone(images, failing);
    return [...names.map(String), begun] as never;
  }) as typeof fsp.readdir, async () => {
    const report = await vdis.scan('default');
    assert.deepEqual(report.introduced, []);
    assert.deepEqual(report.skipped, [{ file: begun, why: 'an operation in progress (a vdi-create, -copy or -import, a snapshot, coalesce or migration) is making it' }]);
  });
  await journalDone(images, journal!);
  assert.deepEqual((await vdis.list()).map((v) => v.record.name_label), ['d']);
  await db.close();
});
