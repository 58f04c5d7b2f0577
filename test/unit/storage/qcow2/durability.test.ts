// DESIGN.md §7 for qcow2: a write acknowledged after a flush survives a kill -9 of the host
// process, and the image left behind has no corruption (`qemu-img check` finds at most leaked
// clusters). Every record the child wrote allocated a cluster, so each kill lands somewhere in
// the allocation ordering (refcount, data, L2 entry, L1 entry).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createQcow2 } from '../../../../src/storage/qcow2/create.js';
import { Qcow2Disk } from '../../../../src/storage/qcow2/qcow2.js';
import { killAfterFlushed } from '../../../support/kill-child.js';

const CHILD = fileURLToPath(new URL('durable-child.js', import.meta.url));
const QEMU_IMG = '/usr/bin/qemu-img';

for (const { clusterBits, kills, what } of [
  { clusterBits: 16, kills: [12, 20, 29], what: '' },
  // 512-byte clusters: a refcount block counts 256 clusters of the file, and each record takes
  // about 18 (two 4 KiB writes and an L2 table each), so a kill often lands while a new refcount
  // block is made, written, synced and entered in the table.
  { clusterBits: 9, kills: [30, 61, 95], what: ', with refcount blocks made as it grows' },
]) {
  test(`every record whose flush was acknowledged is in the qcow2 image after kill -9, and the image is not corrupt${what}`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'xenode-qcow2-durable-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const image = join(dir, 'disk.qcow2');
    await createQcow2(image, { size: 64 << 20, clusterBits });
    // Three kills at different points; each run continues over the last run's image.
    const records = new Map<number, number>();
    for (const atLeast of kills) {
      const acked = await killAfterFlushed(CHILD, [image], atLeast);
      assert.ok(acked >= atLeast);
      for (let i = 0; i <= acked; i++) records.set(i, i);
      if (existsSync(QEMU_IMG)) {
        // 0: clean; 3: leaked clusters only. Anything else is corruption.
        const code = await promisify(execFile)(QEMU_IMG, ['check', '-f', 'qcow2', image]).then(() => 0, (e: { code: number; stdout: string }) => {
          assert.equal(e.code, 3, `qemu-img check after kill -9:\n${e.stdout}`);
          return 3;
        });
        t.diagnostic(`qemu-img check after kill at record ${acked}: ${code === 0 ? 'clean' : 'leaked clusters only'}`);
      } else {
        t.diagnostic('qemu-img not installed (apt-get install qemu-utils): the image is checked by reading it only');
      }
      const d = await Qcow2Disk.open(image, { readOnly: true });
      for (const i of records.keys()) {
        const rec = new Uint8Array(4096);
        await d.read(i * 256 + (i % 15) * 8, [rec]);
        assert.equal(new DataView(rec.buffer).getUint32(0, true), i, `record ${i} is in the image`);
        assert.equal(rec[4095], (i % 250) + 1, `record ${i} is whole`);
      }
      await d.close();
    }
  });
}
