// device-stats' table: one row per disk and vif, receive/read before send/write, in columns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceStatsTable } from '../../../src/cli/top.js';

test('device-stats prints a row per disk and vif, rx and tx as the guest sees them', () => {
  const table = deviceStatsTable([
    { domid: 3, name: 'web', vbds: [{ vdev: 'xvda', readBytes: 4096, writeBytes: 512 }], vifs: [{ devid: 0, txBytes: 70, rxBytes: 1500 }] },
    { domid: 9, name: 'idle', vbds: [], vifs: [] },
  ]);
  assert.equal(table, [
    'Name                                ID Device        Read/RX bytes   Write/TX bytes',
    'web                                  3 vbd xvda               4096              512',
    'web                                  3 vif 0                  1500               70',
    '',
  ].join('\n'));
});
