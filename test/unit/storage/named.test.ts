// Paths a client names: opened without blocking, refused unless of the kind asked for, read
// within a limit; each refusal names the path and says why.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openNamed, readNamed } from '../../../src/storage/named.js';
import { refusedNamed } from '../../support/named.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-named-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('only a regular file is read, within its limit', async () => {
  const file = join(dir, 'f');
  writeFileSync(file, 'hello');
  assert.equal(Buffer.from(await readNamed(file, { what: 'thing', limit: 5 })).toString(), 'hello');
  await refusedNamed(readNamed(file, { what: 'thing', limit: 4 }), 'E2BIG', /^E2BIG: thing \S+\/f is 5 bytes; the limit is 4$/);
  await refusedNamed(readNamed('/dev/zero', { what: 'thing', limit: 4 }), 'EINVAL', /thing \/dev\/zero is a character device; it must be a regular file$/);
  await refusedNamed(readNamed(dir, { what: 'thing', limit: 4 }), 'EISDIR', /is a directory/);
  await refusedNamed(readNamed(join(dir, 'none'), { what: 'thing', limit: 4 }), 'ENOENT', /thing \S+none does not exist$/);
  // A file whose size says 0 but that has more to read.
  await refusedNamed(readNamed('/proc/self/status', { what: 'thing', limit: 16 }), 'E2BIG', /is more than 16 bytes/);
  // One that says 0 and holds more than the first buffer (64 KiB): read whole all the same.
  const maps = Buffer.from(await readNamed('/proc/self/smaps', { what: 'thing', limit: 64 << 20 })).toString();
  assert.ok(maps.length > 64 << 10 && /^[0-9a-f]+-[0-9a-f]+ /.test(maps) && maps.endsWith('\n'), `${maps.length} octets`);
});

test('a FIFO and a socket are refused without blocking', async () => {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  await refusedNamed(readNamed(fifo, { what: 'thing', limit: 4 }), 'EINVAL', /is a FIFO \(named pipe\)/);
  await refusedNamed(openNamed(fifo, { what: 'disk', kind: 'disk' }), 'EINVAL', /is a FIFO \(named pipe\); it must be a regular file or a block device/);
  const sock = join(dir, 'sock');
  const server = createServer();
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    await refusedNamed(openNamed(sock, { what: 'disk', kind: 'disk', write: true }), 'EINVAL', /is a socket/);
  } finally {
    server.close();
  }
});
