// Paths a client names: opened without blocking, refused unless of the kind asked for, read
// within a limit; each refusal names the path and says why.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, lchownSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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

const SAVE = { what: 'save file', kind: 'save', create: 0o600 } as const;

/** Whether the test runs as root; if not it is skipped, saying why. */
function asRoot(t: { skip(why: string): void }, why: string): boolean {
  if (process.geteuid?.() === 0) return true;
  t.skip(`needs root ${why}`);
  console.log(`# skipped: not root, needed ${why}`);
  return false;
}

test("a save's FIFO is opened once its reader comes (xl save d p & gzip < p), tried again with no thread held; with none, ENXIO after the wait", async () => {
  const fifo = join(dir, 'late.fifo');
  execFileSync('mkfifo', [fifo]);
  // Before, ENXIO at once: a reader started after the save never got the image.
  let reader: number | undefined;
  const late = setTimeout(() => (reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)), 300);
  try {
    const { fd, stats } = await openNamed(fifo, { ...SAVE, readerWaitMs: 20_000 });
    closeSync(fd);
    assert.ok(stats.isFIFO());
  } finally {
    clearTimeout(late);
    if (reader !== undefined) closeSync(reader);
  }
  await refusedNamed(openNamed(fifo, { ...SAVE, readerWaitMs: 300 }), 'ENXIO', /a FIFO with no reader/);
});

test('a block device is refused as a save target (restore reads regular files only)', async (t) => {
  if (!asRoot(t, 'to make a block device node')) return;
  const dev = join(dir, 'blk');
  execFileSync('mknod', [dev, 'b', '7', '200']);
  // Before, it was opened and written, never synced, and could not be restored from.
  await refusedNamed(openNamed(dev, SAVE), 'EINVAL', /is a block device; it must be a regular file or a FIFO$/);
});

test("a save does not follow a symbolic link another user made in a sticky shared directory, nor a dangling one; a new file is made O_EXCL", async (t) => {
  if (!asRoot(t, 'to make a symbolic link of another user')) return;
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'root only', { mode: 0o600 });
  const planted = join(shared, 'vm.save');
  symlinkSync(victim, planted);
  lchownSync(planted, 65534, 65534);
  // Before, the victim was opened (and a save then emptied and wrote it).
  await refusedNamed(openNamed(planted, SAVE), 'EACCES', /is a symbolic link another user \(uid 65534\) made in a shared directory: not followed$/);
  assert.equal(readFileSync(victim, 'utf8'), 'root only');
  // Before, a dangling link made its target.
  const dangling = join(shared, 'dangling.save');
  const target = join(dir, 'made-by-save');
  symlinkSync(target, dangling);
  await refusedNamed(openNamed(dangling, SAVE), 'ENOENT', /is a symbolic link to nothing$/);
  lchownSync(dangling, 65534, 65534);
  await refusedNamed(openNamed(dangling, SAVE), 'EACCES', /not followed$/);
  assert.equal(existsSync(target), false, 'no file made through the link');
  // A link of ours to that planted link: before, realpath followed the planted one unchecked.
  const chained = join(dir, 'chained.save');
  symlinkSync(planted, chained);
  await refusedNamed(openNamed(chained, SAVE), 'EINVAL', /is a symbolic link to another \(.*\): not followed$/);
  assert.equal(readFileSync(victim, 'utf8'), 'root only');
  // A link of our own is followed; a new file is made.
  const mine = join(shared, 'mine.save');
  symlinkSync(victim, mine);
  const { fd } = await openNamed(mine, SAVE);
  closeSync(fd);
  const made = await openNamed(join(shared, 'new.save'), SAVE);
  closeSync(made.fd);
  assert.equal(statSync(join(shared, 'new.save')).mode & 0o777, 0o600);
});
