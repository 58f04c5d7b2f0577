// A copy's destination written around the page cache (direct.ts): aligned data goes through a
// descriptor opened with O_DIRECT, anything else through the ordinary one, and every byte
// lands either way; where the file system refuses O_DIRECT (tmpfs) the image works as usual.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeImage } from '../../../src/storage/copy.js';
import { DirectWrites, alignedBuffer } from '../../../src/storage/direct.js';
import { fsError } from '../../../src/storage/disk.js';
import { RamDisk } from '../../../src/storage/ram.js';
import { VhdDisk } from '../../../src/storage/vhd/chain.js';
import { createVhd } from '../../../src/storage/vhd/create.js';

const MiB = 2 ** 20;
const O_DIRECT = 0o40000;

async function scratch(t: { after(fn: () => Promise<void>): void }, base = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(base, 'xenode-direct-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The open flags of this process's descriptors of `path`. */
async function openFlags(path: string): Promise<number[]> {
  const out: number[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) !== path) continue;
    const m = /^flags:\s+([0-7]+)/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => ''));
    if (m) out.push(parseInt(m[1]!, 8));
  }
  return out;
}

/** Whether the file system of `dir` takes O_DIRECT: a probe file opened so. */
async function takesDirect(dir: string): Promise<boolean> {
  const { open } = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  const probe = join(dir, 'probe');
  const fh = await open(probe, constants.O_CREAT | constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined);
  await fh?.close();
  await rm(probe, { force: true });
  return fh !== undefined;
}

/** `data` copied by writeImage from a RAM disk into a VHD in `dir`, and read back. */
async function copiedBack(t: { after(fn: () => Promise<void>): void }, dir: string, data: Uint8Array): Promise<Uint8Array> {
  const src = new RamDisk(data.byteLength);
  await src.write(0, [data]);
  const dst = join(dir, 'copy.vhd');
  await writeImage(src, dst, 'vhd');
  const r = await VhdDisk.open(dst, { readOnly: true });
  t.after(() => r.close());
  const back = new Uint8Array(data.byteLength);
  await r.read(0, [back]);
  return back;
}

test('alignedBuffer: zeroed, the size asked, whole pages of memory', () => {
  for (const n of [4096, 65536, 2 * MiB, 100_000]) {
    const b = alignedBuffer(n);
    assert.equal(b.byteLength, n);
    assert.equal(b.byteOffset, 0);
    assert.ok(b.every((x) => x === 0));
  }
});

test('a VHD opened with directWrites: aligned data goes through an O_DIRECT descriptor, other writes through the ordinary one, all of it lands', async (t) => {
  const dir = await scratch(t);
  if (!(await takesDirect(dir))) return t.skip(`${dir}'s file system refuses O_DIRECT`);
  const path = join(dir, 'd.vhd');
  await createVhd(path, { type: 'dynamic', size: 8 * MiB });
  const d = await VhdDisk.open(path, { readOnly: false, directWrites: true });
  const flags = await openFlags(path);
  assert.equal(flags.filter((f) => (f & O_DIRECT) !== 0).length, 1, 'one descriptor with O_DIRECT');
  assert.equal(flags.filter((f) => (f & O_DIRECT) === 0).length, 1, 'and the ordinary one');
  const aligned = alignedBuffer(MiB);
  aligned.set(randomBytes(MiB));
  const plain = new Uint8Array(randomBytes(3 * 4096)); // ordinary memory: not direct
  const odd = alignedBuffer(4096).subarray(512, 1536).fill(7); // aligned memory, unaligned piece
  await d.write(0, [aligned]); // allocates block 0 whole, direct
  await d.write((2 * MiB) / 512 + 8, [plain]); // allocates block 1 from ordinary memory
  await d.write((MiB + 4096) / 512, [odd]); // inside block 0, at an unaligned offset of the file
  await d.write((3 * MiB) / 512, [aligned.subarray(0, 64 * 1024)]); // inside block 1, direct
  await d.flush();
  await d.close();
  assert.deepEqual(await openFlags(path), [], 'both descriptors closed');
  const r = await VhdDisk.open(path, { readOnly: true });
  t.after(() => r.close());
  const all = new Uint8Array(8 * MiB);
  await r.read(0, [all]);
  assert.deepEqual(all.subarray(0, MiB), aligned);
  assert.deepEqual(all.subarray(MiB + 4096, MiB + 5120), odd);
  assert.deepEqual(all.subarray(2 * MiB + 4096, 2 * MiB + 4096 + plain.byteLength), plain);
  assert.deepEqual(all.subarray(3 * MiB, 3 * MiB + 65536), aligned.subarray(0, 65536));
  assert.ok(all.subarray(4 * MiB).every((x) => x === 0));
});

test('on a file system that refuses O_DIRECT (tmpfs) a copy goes through the page cache and arrives whole', async (t) => {
  if (!existsSync('/dev/shm')) return t.skip('no /dev/shm (tmpfs) here');
  const dir = await scratch(t, '/dev/shm');
  if (await takesDirect(dir)) return t.skip('/dev/shm takes O_DIRECT here');
  // A size that is no whole number of copy chunks nor of pages: the last piece is never direct.
  const data = new Uint8Array(randomBytes(3 * MiB + 5 * 512));
  data.fill(0, MiB, 2 * MiB); // a run of zeros, not written
  assert.deepEqual(await copiedBack(t, dir, data), data);
});

test('a copy onto a file system that takes O_DIRECT arrives whole, its odd-sized end included', async (t) => {
  const dir = await scratch(t);
  if (!(await takesDirect(dir))) return t.skip(`${dir}'s file system refuses O_DIRECT`);
  const data = new Uint8Array(randomBytes(5 * MiB + 3 * 512));
  data.fill(0, 2 * MiB + 65536, 2 * MiB + 3 * 65536); // zero pieces inside a chunk: the chunk is written in two runs
  assert.deepEqual(await copiedBack(t, dir, data), data);
});

test('fsError keeps the system call\'s error as its cause (what a direct write falls back on)', () => {
  const e = fsError('write', '/x', Object.assign(new Error('bad'), { code: 'EINVAL' }));
  assert.equal(e.errno, 'EIO');
  assert.equal((e.cause as NodeJS.ErrnoException).code, 'EINVAL');
});

test('a direct write the device refuses (EINVAL: its sectors are 8 KiB, a page-aligned write is not enough) goes through the page cache, and so does every later one; every byte lands', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root (a loop device of 8 KiB sectors)');
  const dir = await scratch(t);
  const backing = join(dir, 'backing');
  await writeFile(backing, '');
  await truncate(backing, 4 * MiB);
  const made = spawnSync('losetup', ['--find', '--show', '--sector-size', '8192', backing], { encoding: 'utf8' });
  if (made.status !== 0) return t.skip(`no loop device of 8 KiB sectors here: ${(made.stderr || made.error?.message || '').trim()}`);
  const dev = made.stdout.trim();
  const fd = openSync(dev, 'r+');
  t.after(async () => {
    closeSync(fd);
    spawnSync('losetup', ['-d', dev]);
  });
  const direct = await DirectWrites.open(dev, fd);
  if (!direct) return t.skip(`${dev} refuses O_DIRECT opens`);
  const data = alignedBuffer(4 * 8192);
  data.set(randomBytes(data.byteLength));
  let buffered = 0;
  const write = (from: number, to: number, at: number) => direct.write([data.subarray(from, to)], at, async () => {
    buffered++;
    assert.equal(writeSync(fd, data, from, to - from, at), to - from);
  });
  await write(0, 8192, 0); // whole sectors: direct
  assert.equal(buffered, 0);
  assert.equal((await openFlags(dev)).filter((f) => (f & O_DIRECT) !== 0).length, 1, 'the O_DIRECT descriptor');
  await write(8192, 12288, 8192); // a page, half a sector: EINVAL, then buffered
  assert.equal(buffered, 1);
  // The refused descriptor is let go (after the write, not during it).
  for (const end = Date.now() + 20_000; (await openFlags(dev)).some((f) => (f & O_DIRECT) !== 0);) {
    assert.ok(Date.now() < end, 'the refused O_DIRECT descriptor was closed');
    await new Promise((r) => setImmediate(r));
  }
  await write(16384, 32768, 16384); // whole sectors, but no more direct writes
  assert.equal(buffered, 2);
  await direct.close();
  const back = new Uint8Array(32768);
  readSync(fd, back, 0, 12288, 0);
  readSync(fd, back, 16384, 16384, 16384);
  assert.deepEqual(back.subarray(0, 12288), data.subarray(0, 12288));
  assert.deepEqual(back.subarray(16384), data.subarray(16384));
});
