// DESIGN.md §7: a write acknowledged after a flush survives a kill -9 of the host process.
// A child process runs the whole path (blkfront, ring, blkback, raw file) and says which
// records it saw flushed; it is killed without warning, and every one of them must be in the
// image.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('every record whose flush was acknowledged is in the image after kill -9', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-durable-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const image = join(dir, 'disk.img');
  const fh = await open(image, 'w');
  await fh.truncate(16 << 20);
  await fh.close();
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../../support/blk-durable-child.js', import.meta.url)), image], { stdio: ['ignore', 'pipe', 'inherit'] });
  let acked = -1;
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code}`))));
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) acked = Number(l.split(' ')[1]);
      if (acked >= 20) child.kill('SIGKILL');
    });
  });
  assert.ok(acked >= 20);
  const img = await readFile(image);
  for (let i = 0; i <= acked; i++) {
    const rec = img.subarray(i * 4096, i * 4096 + 4096);
    assert.equal(rec.readUInt32LE(0), i, `record ${i} is in the image`);
    assert.equal(rec[4095], (i % 250) + 1, `record ${i} is whole`);
  }
});
