// The sectors of a disk being received that mirrored writes reached: marked runs read back
// exactly, across the pieces the bits are kept in, at sectors past what a byte a sector allowed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SectorMap } from '../../../src/migration/sectormap.js';

test('marked runs read back exactly, across pieces and at sectors of an 8 TiB disk', () => {
  const m = new SectorMap();
  const far = 8 * 2 ** 40 / 512 - 10;
  const runs: [number, number][] = [[0, 1], [7, 9], [65_530, 65_545], [3 * 65_536, 4 * 65_536], [far, far + 10]];
  for (const [s, e] of runs) m.mark(s, e);
  const marked = (s: number) => runs.some(([a, b]) => s >= a && s < b);
  for (const s of [0, 1, 6, 7, 8, 9, 65_529, 65_530, 65_535, 65_536, 65_544, 65_545, 3 * 65_536 - 1, 3 * 65_536, 4 * 65_536 - 1, 4 * 65_536, far - 1, far, far + 9, far + 10]) {
    assert.equal(m.has(s), marked(s), `sector ${s}`);
  }
});
