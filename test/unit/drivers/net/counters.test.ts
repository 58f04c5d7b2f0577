// Byte counters past 2 GiB must not change the stats objects' hidden classes (src/double-fields.ts,
// DOUBLE_ZERO): the child (test/support/net-counters-child.ts) counts one of two fresh
// stats objects past 2^31 and says whether they still share a map.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../../../support/net-counters-child.js', import.meta.url));

test('netback\'s, netfront\'s and a switch port\'s byte counters are double fields from the start, reading 0: 2 GiB changes no hidden class', () => {
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', CHILD], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `the child failed: ${r.stderr.slice(-2000)}`);
  assert.deepEqual(JSON.parse(r.stdout), { 'netback.rxBytes': true, 'netback.txBytes': true, 'netfront.rxBytes': true, 'netfront.txBytes': true, 'bridge port.bytesIn': true, 'bridge port.bytesOut': true });
});
