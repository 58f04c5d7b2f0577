// A restore reads the file a client names as named.ts reads such files: a regular file only,
// opened without blocking, read up to the bound on a save image. Before, /dev/zero (which says
// size 0) was read until dom0 ran out of memory, a FIFO held a libuv pool thread until a writer
// came (four of them stalled every file operation), and a directory failed with Node's error.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { maxImageBytes, restoreFile } from '../../../src/migration/restore.js';
import { NamedFileError } from '../../../src/storage/named.js';
import type { Host } from '../../../src/toolstack/host.js';
import { hostForTests } from '../../support/local-host.js';

let host: Host;
let dir: string;
hostForTests('restore', (h, d) => ((host = h), (dir = d)));

function refused(errno: string, message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof NamedFileError, String(e));
    assert.equal(e.errno, errno, e.message);
    assert.match(e.message, message);
    return true;
  };
}

test('a restore file that is not a regular file is refused unread: a directory, /dev/zero, a FIFO without a writer', async () => {
  await assert.rejects(restoreFile(host, dir), refused('EISDIR', /^EISDIR: restore file \S+ is a directory; it must be a regular file$/));
  await assert.rejects(restoreFile(host, '/dev/zero'), refused('EINVAL', /^EINVAL: restore file \/dev\/zero is a character device; it must be a regular file$/));
  const fifo = join(dir, 'save.fifo');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(restoreFile(host, fifo), refused('EINVAL', /restore file \S+save\.fifo is a FIFO \(named pipe\)/));
  await assert.rejects(restoreFile(host, join(dir, 'none')), refused('ENOENT', /restore file \S+none does not exist$/));
});

test('a restore file larger than any save image of a domain this host can run is refused unread', async () => {
  const big = join(dir, 'big.save');
  execFileSync('touch', [big]);
  truncateSync(big, maxImageBytes() + 1);
  await assert.rejects(restoreFile(host, big), refused('E2BIG', new RegExp(`restore file \\S+big\\.save is ${maxImageBytes() + 1} bytes; the limit is ${maxImageBytes()}$`)));
});
