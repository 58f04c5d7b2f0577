// A realm's boot status messages (main, parked) reach dom0 once per realm, however often its
// guest calls the host functions that make them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oncePerRealm } from '../../../src/guest/boot-status.js';
import type { PcpuStatus } from '../../../src/hypervisor/cpupool.js';

test('each kind of boot status is posted once per realm and later calls make nothing', () => {
  const posted: PcpuStatus[] = [];
  let made = 0;
  const tell = oncePerRealm((m) => posted.push(m));
  for (let i = 0; i < 1000; i++) {
    tell('main', () => (made++, { type: 'main', domid: 7 }));
    tell('parked', () => (made++, { type: 'parked', domid: 7 }));
  }
  assert.deepEqual(posted, [{ type: 'main', domid: 7 }, { type: 'parked', domid: 7 }]);
  assert.equal(made, 2, 'a status dropped is not built either');
  // Another realm's are its own.
  oncePerRealm((m) => posted.push(m))('main', () => ({ type: 'main', domid: 8 }));
  assert.equal(posted.length, 3);
});
