// DESIGN.md §7: a write acknowledged after a flush survives a kill -9 of the host process.
// A child process runs the whole path (blkfront, ring, blkback, raw file) and says which
// records it saw flushed; it is killed without warning, and every one of them must be in the
// image.
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { killAfterFlushed } from '../../../support/kill-child.js';
test('every record whose flush was acknowledged is in the image after kill -9', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'xenode-durable-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const image = join(dir, 'disk.img');
    const fh = await open(image, 'w');
    await fh.truncate(16 << 20);
    await fh.close();
    const acked = await killAfterFlushed(fileURLToPath(new URL('../../../support/blk-durable-child.js', import.meta.url)), [image], 20);
    assert.ok(acked >= 20);
    const img = await readFile(image);
    for (let i = 0; i <= acked; i++) {
        const rec = img.subarray(i * 4096, i * 4096 + 4096);
        assert.equal(rec.readUInt32LE(0), i, `record ${i} is in the image`);
        assert.equal(rec[4095], (i % 250) + 1, `record ${i} is whole`);
    }
});
//# sourceMappingURL=durability.test.js.map