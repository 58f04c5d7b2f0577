// An SR's journals are read within their bound and without blocking: whoever can write in the
// SR's directory cannot have recovery read a huge file whole, or wait on a FIFO for ever.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JOURNAL_DIR, journalDone, journalEntries, journalWrite } from '../../../src/storage/journal.js';
import { refusedNamed } from '../../support/named.js';

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

function sr(): string {
  const d = join(dir, `sr${n++}`);
  mkdirSync(join(d, JOURNAL_DIR), { recursive: true });
  return d;
}

test('journals written are read back; one past the bound is refused by its size, before it is read', async () => {
  const d = sr();
  // One of this process's own operations, still running: not a crash's leftover, so not listed.
  const id = await journalWrite(d, { op: 'snapshot', vdi: 'v' });
  const name = '00000000-0000-4000-8000-000000000000.json';
  writeFileSync(join(d, JOURNAL_DIR, name), JSON.stringify({ op: 'coalesce' }));
  assert.deepEqual(await journalEntries(d), [{ id: name.slice(0, 36), entry: { op: 'coalesce' } }]);
  await journalDone(d, id);
  // A sparse 4 GiB file: refused by its size (before, it was read as a whole first).
  truncateSync(join(d, JOURNAL_DIR, name), 2 ** 32);
  await refusedNamed(journalEntries(d), 'E2BIG', /^E2BIG: journal \S+\/00000000-0000-4000-8000-000000000000\.json is 4294967296 bytes; the limit is 65536$/);
});

test('a FIFO named as a journal is refused without waiting for a writer', { timeout: 20_000 }, async () => {
  const d = sr();
  const fifo = join(d, JOURNAL_DIR, '11111111-1111-4111-8111-111111111111.json');
  execFileSync('mkfifo', [fifo]);
  fifos.push(fifo);
  await refusedNamed(journalEntries(d), 'EINVAL', /journal \S+\.json is a FIFO \(named pipe\); it must be a regular file$/);
});
