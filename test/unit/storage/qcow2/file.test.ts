// The qcow2 image file extended ahead of its appends (file.ts): an extension never cuts a write,
// whatever order the pool runs them in, and close leaves the file where the writes end.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ImageFile } from '../../../../src/storage/qcow2/file.js';

/** A directory of the test's own, removed after it. */
async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-qcow2-file-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('writes racing ahead of the extensions in flight all land; close cuts the file back to the furthest write', async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'img');
  await writeFile(path, new Uint8Array(1000).fill(7));
  const f = await ImageFile.open(path, true);
  f.growAhead(64 << 10);
  // 400 writes of 4 KiB, 8 KiB apart (3.2 MiB: some fifty extensions of 64 KiB), all in
  // flight at once and issued out of order, so that many start past an extension still running.
  const at = Array.from({ length: 400 }, (_, i) => 4096 + i * 8192);
  for (let i = at.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [at[i], at[j]] = [at[j]!, at[i]!];
  }
  await Promise.all(at.map((pos) => f.write(pos, [new Uint8Array(4096).fill(((pos / 8192) % 250) + 1)])));
  const end = 4096 + 399 * 8192 + 4096;
  assert.ok((await stat(path)).size >= end, 'the file reaches the furthest write');
  await f.close();
  assert.equal((await stat(path)).size, end, 'the space extended ahead is cut off at close');
  const img = await readFile(path);
  assert.ok(img.subarray(0, 1000).every((x) => x === 7), 'what the file held stays');
  for (let i = 0; i < 400; i++) {
    const pos = 4096 + i * 8192;
    assert.ok(img.subarray(pos, pos + 4096).every((x) => x === (i % 250) + 1), `write ${i} is there`);
    assert.ok(img.subarray(pos + 4096, Math.min(pos + 8192, end)).every((x) => x === 0), `the gap after write ${i} reads as zeros`);
  }
});

test('a file never written keeps its size; one not extended ahead is not cut at close', async (t) => {
  const dir = await scratch(t);
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  await writeFile(a, new Uint8Array(5000));
  await writeFile(b, new Uint8Array(5000));
  const fa = await ImageFile.open(a, true);
  fa.growAhead(1 << 20);
  await fa.close();
  assert.equal((await stat(a)).size, 5000);
  const fb = await ImageFile.open(b, true);
  await fb.write(10_000, [new Uint8Array(100).fill(1)]);
  await fb.close();
  assert.equal((await stat(b)).size, 10_100);
});

test("a second writer of the file (a migration's leaf opened again) appends past the first's extension, and the first's close cuts none of it", async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'img');
  await writeFile(path, new Uint8Array(4096).fill(9));
  const first = await ImageFile.open(path, true);
  first.growAhead(1 << 20);
  await first.write(4096, [new Uint8Array(4096).fill(1)]);
  // Opened while the first is open and extended: it starts appending at the extended end.
  const second = await ImageFile.open(path, true);
  second.growAhead(1 << 20);
  const at = second.size;
  assert.ok(at > 8192, 'the second sees the first\'s extension');
  await second.write(at, [new Uint8Array(4096).fill(2)]);
  await first.close();
  assert.ok((await stat(path)).size >= at + 4096, "the first's close leaves the second's write");
  await second.write(at + 4096, [new Uint8Array(4096).fill(3)]);
  await second.close();
  assert.equal((await stat(path)).size, at + 8192, 'the last close cuts back to the furthest write of either');
  const img = await readFile(path);
  assert.ok(img.subarray(4096, 8192).every((x) => x === 1));
  assert.ok(img.subarray(at, at + 4096).every((x) => x === 2));
  assert.ok(img.subarray(at + 4096, at + 8192).every((x) => x === 3));
});
