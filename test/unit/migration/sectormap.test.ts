// The sectors of a disk being received that mirrored writes reached: marked runs read back
// exactly, across the pieces the bits are kept in, at sectors past what a byte a sector allowed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SectorMap } from '../../../src/migration/sectormap.js';

test('marked runs read back exactly, across pieces and at sectors of an 8 TiB disk', () => {
  const m = new SectorMap();
  const far = 8 * 2 ** 40 / 512 - 10;
  const runs: [number, number][] = [[0, 1], [7, 9], [4090, 4100], [65_530, 65_545], [3 * 65_536, 4 * 65_536], [far, far + 10]];
  for (const [s, e] of runs) m.mark(s, e);
  const marked = (s: number) => runs.some(([a, b]) => s >= a && s < b);
  for (const s of [0, 1, 6, 7, 8, 9, 4089, 4090, 4095, 4096, 4099, 4100, 65_529, 65_530, 65_535, 65_536, 65_544, 65_545, 3 * 65_536 - 1, 3 * 65_536, 4 * 65_536 - 1, 4 * 65_536, far - 1, far, far + 9, far + 10]) {
    assert.equal(m.has(s), marked(s), `sector ${s}`);
  }
});

test('a write of one sector costs the receiver 512 bytes of bits, not 16 times what it carried', () => {
  const m = new SectorMap();
  // A hostile sender's pattern: one sector every 2 MiB, each in a piece of its own.
  for (let i = 0; i < 1000; i++) m.mark(i * 4096, i * 4096 + 1);
  assert.equal(m.bytes, 1000 * 512);
  for (let i = 0; i < 1000; i++) assert.ok(m.has(i * 4096) && !m.has(i * 4096 + 1));
});
